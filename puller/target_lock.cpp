// The per-target lock. Non-blocking: a second run is refused at once (exit 4) rather than queued
// behind a run that may take hours.
#include "puller/target_lock.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace puller {

std::string lock_file_name(const std::string& target) {
    std::string name = target;
    std::replace(name.begin(), name.end(), '/', '%');
    return name + ".lock";
}

TargetLock::~TargetLock() {
    if (fd_ >= 0) ::close(fd_);
}

std::string TargetLock::acquire(const std::string& state_dir, const std::string& target) {
    if (::mkdir(state_dir.c_str(), 0700) != 0 && errno != EEXIST)
        return "cannot create the state directory " + state_dir + ": " + std::strerror(errno);
    const int dir = ::open(state_dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (dir < 0)
        return "cannot open the state directory " + state_dir + ": " + std::strerror(errno);
    struct stat st {};
    if (::fstat(dir, &st) != 0 || (st.st_mode & 022) != 0 ||
        (st.st_uid != 0 && st.st_uid != ::geteuid())) {
        ::close(dir);
        return "the state directory " + state_dir +
               " must be owned by root or the running user and not group/world writable";
    }
    const std::string name = lock_file_name(target);
    // O_NONBLOCK: a FIFO planted in its place cannot make the open wait.
    const int fd =
        ::openat(dir, name.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
    ::close(dir);
    if (fd < 0) return "cannot open " + state_dir + "/" + name + ": " + std::strerror(errno);
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return state_dir + "/" + name + " is not a regular file";
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int e = errno;
        ::close(fd);
        if (e == EWOULDBLOCK)
            return "another zfs-puller run is pulling into " + target + " (it holds " + state_dir +
                   "/" + name + "); not started";
        return "cannot lock " + state_dir + "/" + name + ": " + std::strerror(e);
    }
    fd_ = fd;
    return "";
}

} // namespace puller

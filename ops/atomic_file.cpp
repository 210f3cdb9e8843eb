// temp + fsync + rename + fsync(dir). The temporary name is unique per process (mkstemp in the
// target's directory, so rename never crosses a file system) and removed on every failure.
#include "ops/atomic_file.hpp"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ops {
namespace {

std::string directory_of(const std::string& path) {
    const auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

bool write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        const ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return true;
}

} // namespace

std::string replace_file(const std::string& path, std::string_view content, unsigned mode) {
    std::string tmp = path + ".tmp.XXXXXX";
    const int fd = ::mkostemp(tmp.data(), O_CLOEXEC);
    if (fd < 0)
        return "cannot create a temporary file beside " + path + ": " + std::strerror(errno);
    std::string error;
    if (::fchmod(fd, static_cast<mode_t>(mode)) != 0 || !write_all(fd, content) || ::fsync(fd) != 0)
        error = "cannot write " + tmp + ": " + std::strerror(errno);
    if (::close(fd) != 0 && error.empty())
        error = "cannot write " + tmp + ": " + std::strerror(errno);
    if (error.empty() && ::rename(tmp.c_str(), path.c_str()) != 0)
        error = "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno);
    if (!error.empty()) {
        ::unlink(tmp.c_str());
        return error;
    }
    // The rename itself is durable only once the directory is.
    const int dir = ::open(directory_of(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
    return "";
}

bool read_small_file(const std::string& path, std::string& content, std::string& error,
                     std::size_t max_bytes) {
    content.clear();
    error.clear();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        error = "cannot open " + path + ": " + std::strerror(errno);
        return false;
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            error = "cannot read " + path + ": " + std::strerror(errno);
            break;
        }
        content.append(buf, static_cast<std::size_t>(n));
        if (content.size() > max_bytes) {
            error = path + " is larger than " + std::to_string(max_bytes) + " bytes";
            break;
        }
    }
    ::close(fd);
    return error.empty();
}

} // namespace ops

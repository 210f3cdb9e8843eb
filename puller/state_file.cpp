// The state file on disk. Writers hold the target's lock (target_lock.hpp), so one run at a
// time replaces it; readers (`zfs-puller status`, the next run) need no lock: a rename is atomic.
#include "puller/state_file.hpp"

#include <cerrno>
#include <cstring>
#include <sys/stat.h>

#include "ops/atomic_file.hpp"

namespace puller {

StateLoad load_state_file(const std::string& state_dir, const std::string& target, JobState& state,
                          std::string& problem) {
    const std::string path = state_dir + "/" + state_file_name(target);
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) {
        if (errno == ENOENT) return StateLoad::missing;
        problem = "cannot read " + path + ": " + std::strerror(errno);
        return StateLoad::unreadable;
    }
    // Not a symlink or FIFO someone planted: the directory is the run's own (0700).
    if (!S_ISREG(st.st_mode)) {
        problem = path + " is not a regular file";
        return StateLoad::unreadable;
    }
    std::string text, error;
    // A state file is a few hundred bytes per dataset.
    if (!ops::read_small_file(path, text, error, 64 << 20)) {
        problem = error;
        return StateLoad::unreadable;
    }
    auto decoded = decode_state(text, error);
    if (!decoded) {
        problem = path + ": " + error;
        return StateLoad::unreadable;
    }
    state = std::move(*decoded);
    return StateLoad::loaded;
}

std::string save_state_file(const std::string& state_dir, const JobState& state) {
    return ops::replace_file(state_dir + "/" + state_file_name(state.target), encode_state(state),
                             0644);
}

} // namespace puller

// One run per target at a time: an exclusive flock(2) on <state_dir>/<target>.lock (the target's
// `/` written as `%`, which no dataset name contains), taken before anything is listed and held
// until the job ends; the kernel lets go of it however the process ends.
#pragma once

#include <string>

namespace puller {

// "backup/nas/home" -> "backup%nas%home.lock"
std::string lock_file_name(const std::string& target);

class TargetLock {
  public:
    TargetLock() = default;
    TargetLock(const TargetLock&) = delete;
    TargetLock& operator=(const TargetLock&) = delete;
    ~TargetLock();

    // Creates state_dir (0700) if it is missing; it must be a directory (not a symlink) owned
    // by root or the running user and not writable by others. "" once the lock is held, else one
    // line: another run holds it, or the directory or file is unusable.
    std::string acquire(const std::string& state_dir, const std::string& target);

  private:
    int fd_ = -1;
};

} // namespace puller

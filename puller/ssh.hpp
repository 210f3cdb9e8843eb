// One SSH connection per source host per run: a ControlMaster started with -N (no session, so
// the gatekeeper never sees it) and one multiplexed session per remote command. Host keys are
// always checked against the configured known_hosts file; there is no switch to turn that off.
#pragma once

#include <string>
#include <sys/types.h>

#include "puller/config.hpp"
#include "puller/spawn.hpp"

namespace puller {

class SshMaster {
  public:
    explicit SshMaster(const JobConfig& job) : job_(job) {}
    SshMaster(const SshMaster&) = delete;
    SshMaster& operator=(const SshMaster&) = delete;
    ~SshMaster() { stop(); }

    // Makes a private 0700 directory and starts the master; "" or a one-line error.
    std::string begin();
    // Waits until the master's socket is listening (which ssh only does after
    // authentication). "" or a one-line error (with ssh's own last message).
    std::string wait_ready();
    std::string start() {
        std::string e = begin();
        return e.empty() ? wait_ready() : e;
    }
    // `ssh -O exit`, then reap the master; removes the socket directory. Idempotent.
    void stop();

    // argv for one remote command (counted as one SSH session). Its stdin is /dev/null (-n),
    // unless `reads_stdin`: the restore's zfs receive reads the stream from ssh's stdin.
    Argv session(const std::string& command, bool reads_stdin = false);
    unsigned sessions() const { return sessions_; }

    // The options every ssh invocation carries (master and sessions), host key checking first.
    Argv common_options() const;

  private:
    JobConfig job_;
    std::string dir_, socket_, log_;
    pid_t pid_ = -1;
    unsigned sessions_ = 0;
};

// Run one remote command to completion over the master, within `limits`.
Captured run_remote(SshMaster& master, const std::string& command, const CaptureLimits& limits);

} // namespace puller

// Starting ssh and zfs: fork + execve of an absolute path with a fixed environment, never a
// shell and never a PATH lookup. Children die with the puller (PR_SET_PDEATHSIG) and are always
// reaped by the caller through wait_child().
#pragma once

#include <csignal>
#include <string>
#include <sys/types.h>
#include <vector>

namespace puller {

using Argv = std::vector<std::string>;

// Set by the SIGINT/SIGTERM/SIGHUP handler; loops poll it and wind down.
extern volatile std::sig_atomic_t g_signal;
void install_signal_handlers();

// fds to put on the child's 0/1/2; -1 means /dev/null. Returns the pid, or -1 (errno set).
pid_t spawn(const Argv& argv, int in_fd, int out_fd, int err_fd);

// Blocks until the child ends; returns its exit status, or 128 + signal.
int wait_child(pid_t pid);

struct Captured {
    int status = -1; // as wait_child(); -1 if it could not start
    std::string out, err;
};

// Run to completion with stdin from /dev/null, collecting stdout and stderr.
Captured run_capture(const Argv& argv);

// "a b 'c d'" for messages and --dry-run (display only; nothing is ever parsed from it).
std::string display(const Argv& argv);

} // namespace puller

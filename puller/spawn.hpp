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

// Bounds for run_capture. A command that passes one is stopped (SIGTERM, then SIGKILL) and
// reaped; so is every command on SIGINT/SIGTERM/SIGHUP.
struct CaptureLimits {
    std::size_t max_out = 0;   // bytes of stdout (0: no limit)
    std::size_t max_lines = 0; // lines of stdout (0: no limit)
    double stall_seconds = 0;  // seconds without any output (0: no limit)
};

struct Captured {
    enum class Stopped { no, output_limit, line_limit, stalled, signal };
    int status = -1; // as wait_child(); -1 if it could not start
    std::string out; // stdout (up to the limit)
    std::string err; // the last 64 KiB of stderr
    Stopped stopped = Stopped::no;
};

// Run to completion with stdin from /dev/null, collecting stdout and stderr.
Captured run_capture(const Argv& argv, const CaptureLimits& limits = {});

// Stops a child that did not end by itself: SIGTERM, then SIGKILL after `grace` seconds;
// returns its status (it is reaped).
int stop_child(pid_t pid, double grace = 2);

// "a b 'c d'" for messages and --dry-run (display only; nothing is ever parsed from it).
std::string display(const Argv& argv);

} // namespace puller

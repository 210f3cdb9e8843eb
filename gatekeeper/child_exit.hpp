// How a child ends when anything between its start and execve fails: one write of a fixed message
// (async-signal-safe, no allocation) and _exit with a named status, so a half-applied sandbox
// never runs a program and the supervisor records the stage as "could not start".
#pragma once

#include <unistd.h>

namespace gatekeeper {

// The statuses a stage ends with when the gatekeeper, not the program, stopped it. They follow
// sh's meaning of 126 and 127, which syncoid and people reading the audit log already know.
enum class ChildExit : int {
    sandbox_failed = 126, // a sandbox step failed: nothing ran
    not_started = 127,    // the stage's fds could not be set up, or execve failed
};

[[noreturn]] inline void child_fail(ChildExit status, const char* msg) noexcept {
    const ssize_t ignored = ::write(2, msg, __builtin_strlen(msg));
    (void)ignored;
    ::_exit(static_cast<int>(status));
}

} // namespace gatekeeper

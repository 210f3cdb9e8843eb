// How a child ends when a sandbox step fails between fork and execve: one write of a fixed
// message (async-signal-safe, no allocation) and _exit(126), so a half-applied sandbox never
// runs a program and the supervisor records "could not start" like any failed exec.
#pragma once

#include <unistd.h>

namespace gatekeeper {

[[noreturn]] inline void child_fail(const char* msg) noexcept {
    const ssize_t ignored = ::write(2, msg, __builtin_strlen(msg));
    (void)ignored;
    ::_exit(126);
}

} // namespace gatekeeper

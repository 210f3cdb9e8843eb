// The supervisor: starts each allowed stage with pipe2 + fork + execve (never a shell), wires
// stdio fd-to-fd, waits, and reports every stage's status. It never reads the data stream.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gatekeeper/outcome.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// Runs in each child after its fds are wired and before execve (the sandbox, issue 4), with the
// path about to be executed. It must _exit on any failure; it never returns an error.
using ChildSetup = std::function<void(const char* program)>;

// Runs in the supervisor once the last stage of the last pipeline has been forked, before the
// final wait (the supervisor's own seccomp filter). Nothing is forked after it.
using AfterLastFork = std::function<void()>;

// The fixed environment every stage gets; nothing is inherited from sshd or the client.
extern const char* const child_environment[];

RunOutcome run_invocation(const std::vector<std::vector<policy::Argv>>& argv,
                          const grammar::Invocation& effective, const ChildSetup& setup,
                          const AfterLastFork& after_last_fork = {});

// Runs one argv with stdout captured (at most `limit` bytes) and stderr to /dev/null; used for
// the resume-token pre-flight. Returns false if it did not exit 0.
bool capture_output(const policy::Argv& argv, const ChildSetup& setup, std::string& out,
                    std::size_t limit = 4096);

} // namespace gatekeeper

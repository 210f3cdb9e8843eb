// The supervisor: starts each allowed stage with pipe2 + spawn_stage (never a shell),
// wires stdio fd-to-fd, waits, and reports every stage's status. It never reads the stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "gatekeeper/outcome.hpp"
#include "gatekeeper/sandbox.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// Runs the plan's pipelines in order. Once the last stage of the last pipeline is forked, the
// supervisor narrows itself to the sandbox's waiting-only filter (nothing is forked after it).
RunOutcome run_plan(const policy::ExecPlan& plan, Sandbox& sandbox);

// Runs one read-only command in the same sandbox as every stage, stdin and stderr on
// /dev/null, and returns its stdout; nullopt when it did not exit 0 or printed more than
// `limit` bytes (a cut answer is no answer).
std::optional<std::string> capture_output(const policy::Argv& argv, const Sandbox& sandbox,
                                          std::size_t limit);

} // namespace gatekeeper

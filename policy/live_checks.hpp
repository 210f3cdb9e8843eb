// The second half of a decision: what a Run's live checks ask the live system, and the pure
// confirm step that turns the answers into the final verdict. The gatekeeper only runs the
// queries (read-only zfs commands, in the same sandbox as every stage) and hands back their
// output; every judgement stays here.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "policy/decide.hpp"

namespace policy {

// The read-only zfs command that answers one check; argv[0] is `zfs_path`.
Argv live_check_argv(const LiveCheck& check, const std::string& zfs_path);

// outputs[i] is the stdout of live_check_argv(run.live_checks[i]) when it exited 0, nullopt
// when it failed. Returns the decision unchanged when every check holds, otherwise a denial
// with the first failing check's rule ("resume-token-preflight", "restore-target-exists")
// and reason. Not a Run: returned unchanged; outputs of the wrong length: denied.
Decision confirm(Decision decision, const std::vector<std::optional<std::string>>& outputs);

} // namespace policy

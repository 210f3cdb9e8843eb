// Asks the live system what a Run's live checks need to know (policy/live_checks.hpp): each
// check's read-only zfs command runs in the same sandbox as every stage, and its stdout comes
// back for the pure confirm step. Nothing here judges the answers.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "gatekeeper/sandbox.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// One answer per live check of `decision` (none unless it is a Run): the query's stdout, or
// nullopt when it failed. `zfs_path` is the policy's zfs program.
std::vector<std::optional<std::string>> query_live_checks(const policy::Decision& decision,
                                                          const std::string& zfs_path,
                                                          const Sandbox& sandbox);

} // namespace gatekeeper

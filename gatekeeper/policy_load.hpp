// Opens and vets the policy file (O_NOFOLLOW, regular file, owner, mode) and hands its text to
// the pure loader. The only place the policy file is read.
#pragma once

#include <string>

#include "policy/policy_file.hpp"

namespace gatekeeper {

// allow_own: also accept a file owned by the invoking user (tests only; documented).
policy::PolicyResult load_policy_file(const std::string& path, bool allow_own);

} // namespace gatekeeper

// Pre-flight checks that need the live system and so cannot live in the pure decide():
// a resume token's toguid must be the guid of the snapshot its toname names, because libzfs
// sends the snapshot found by guid (libzfs_sendrecv.c guid_to_name), not by name.
#pragma once

#include <string>

#include "gatekeeper/supervisor.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// Empty string: every resume send in the decision is tied to its named snapshot.
// Otherwise the reason to deny.
std::string check_resume_tokens(const policy::Decision& decision, const std::string& zfs_path,
                                const ChildSetup& setup);

} // namespace gatekeeper

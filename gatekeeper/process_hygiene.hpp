// Process hygiene at start-up (house-style decision 5, first step): stray fds, stdio, signals,
// umask. Runs before the policy or the client's command is read.
#pragma once

namespace gatekeeper {

// Returns false (and the caller exits) if fds 0-2 cannot be made valid or the real and
// effective ids differ (a set-uid/set-gid install).
bool sanitize_process();

// Close every fd >= `from` (close_range, falling back to a loop).
void close_fds_from(int from);

} // namespace gatekeeper

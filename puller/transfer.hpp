// The data path of one send: ssh's stdout -> the puller (counts bytes, moves them with splice(2)
// through 1 MiB pipes, no copy into user space) -> `zfs receive`'s stdin. Either side failing
// stops the other; both are always reaped.
#pragma once

#include <cstdint>
#include <string>

#include "puller/progress.hpp"
#include "puller/spawn.hpp"

namespace puller {

struct TransferResult {
    bool ok = false;
    bool interrupted = false;
    std::uint64_t bytes = 0;
    double seconds = 0;
    int send_status = -1; // the ssh session's exit status (the remote zfs send's)
    int receive_status = -1;
    std::string error; // one line, names the side that failed first
};

// What the relay allows one stream: a stream that passes max_bytes, or moves nothing for
// stall_seconds, is stopped (the sender first, so zfs receive -s keeps a resumable state).
struct StreamLimits {
    std::uint64_t max_bytes = 0; // 0: no limit
    std::uint64_t estimate = 0;  // what max_bytes was computed from, for the message
    double stall_seconds = 0;    // 0: no limit
};

TransferResult relay(const Argv& send_argv, const Argv& receive_argv, Progress& progress,
                     const StreamLimits& limits = {});

} // namespace puller

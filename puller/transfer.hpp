// The data path of one send: ssh's stdout -> the puller -> `zfs receive`'s stdin. The puller
// reads the stream's records as they pass (puller/send_stream.hpp) and stops it at the first one
// it did not ask for; payloads move with splice(2) through 1 MiB pipes where they are large, so
// most bytes are not copied through user space. zfs receive starts only once the stream's type
// is known, with the options for that type. Either side failing stops the other; both are
// always reaped.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "puller/progress.hpp"
#include "puller/send_stream.hpp"
#include "puller/spawn.hpp"

namespace puller {

struct TransferResult {
    bool ok = false;
    bool interrupted = false;
    std::uint64_t bytes = 0;
    double seconds = 0;
    int send_status = -1; // the ssh session's exit status (the remote zfs send's)
    int receive_status = -1;
    std::optional<DatasetKind> kind; // the stream's type, once its first substream was read
    std::string error;               // one line, names the side that failed first
};

// What the relay allows one stream: a stream that passes max_bytes, or moves nothing for
// stall_seconds, is stopped (the sender first, so zfs receive -s keeps a resumable state).
struct StreamLimits {
    std::uint64_t max_bytes = 0; // 0: no limit
    std::uint64_t estimate = 0;  // what max_bytes was computed from, for the message
    double stall_seconds = 0;    // 0: no limit
};

// zfs receive's argv for each type of stream (their options differ).
struct ReceiveArgv {
    Argv filesystem;
    Argv volume;
};

// How the errors name the two sides: a pull's sender is the source's zfs send (over ssh) and
// its receiver the local zfs receive; a restore's are the other way round.
struct RelaySides {
    std::string sender = "remote send";
    std::string receiver = "zfs receive";
    std::string source = "the source"; // where the stream comes from
};

TransferResult relay(const Argv& send_argv, const ReceiveArgv& receive, const StreamExpect& expect,
                     Progress& progress, const StreamLimits& limits = {},
                     const RelaySides& sides = {});

} // namespace puller

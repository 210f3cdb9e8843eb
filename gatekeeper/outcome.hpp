// What happened when an allowed invocation ran: per-stage statuses for the outcome record.
// Plain values shared by the supervisor and the (pure) record renderer.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace gatekeeper {

struct StageOutcome {
    std::size_t pipeline = 0, stage = 0;
    std::string program; // absolute path
    int exit_code = -1;  // -1 when killed by a signal or never started
    int signal = 0;      // terminating signal, 0 if it exited
    bool started = false;
};

struct RunOutcome {
    int exit_status = 0; // sh rules: last stage of the last pipeline; 128+N for a signal
    std::vector<StageOutcome> stages;
    bool client_hung_up = false; // our stdout's reader went away mid-run
    int supervisor_signal = 0;   // SIGHUP/SIGTERM/SIGINT received, 0 if none
    double duration_ms = 0;
    std::string error; // a stage could not be started (clone/pipe failure)
};

} // namespace gatekeeper

// Reading and writing the state file (state.hpp) in the job's state directory. A write replaces
// the file atomically (ops::replace_file: temp file, fsync, rename), so a crash mid-run leaves
// the previous state or the new one, never a torn file; a file that is torn anyway (an
// older writer, a damaged disk, an edit) is reported and treated as unknown, never believed.
#pragma once

#include <string>

#include "puller/state.hpp"

namespace puller {

enum class StateLoad { loaded, missing, unreadable };

// Reads <state_dir>/<state_file_name(target)>. unreadable: `problem` says why (one line).
StateLoad load_state_file(const std::string& state_dir, const std::string& target, JobState& state,
                          std::string& problem);

// Writes it; "" or a one-line error. The directory must exist (the run's lock made it).
std::string save_state_file(const std::string& state_dir, const JobState& state);

} // namespace puller

// What zfs-puller remembers between runs for `zfs-puller status`: per job and source dataset,
// the last attempt, the last success, the newest common snapshot and the last error. Pure: the
// state as values and its JSON text both ways (state_file.hpp reads and writes the file).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace puller {

struct DatasetState {
    std::string target;                        // the local dataset it is pulled into
    std::int64_t last_attempt = 0;             // seconds since the epoch; 0: never
    bool last_attempt_ok = false;              // the last attempt brought the target up to date
    std::int64_t last_success = 0;             // 0: never
    std::string newest_snapshot;               // newest common snapshot (after '@'), "" unknown
    std::int64_t newest_snapshot_creation = 0; // its creation on the source's clock; 0 unknown
    std::uint64_t last_transfer_bytes = 0;     // bytes of the last run that moved any
    std::string last_error;                    // escaped (printable ASCII), "" none yet
    std::int64_t last_error_time = 0;
    bool operator==(const DatasetState&) const = default;
};

struct JobState {
    std::string job;
    std::string target;                           // the job's target root
    std::map<std::string, DatasetState> datasets; // by source dataset
    bool operator==(const JobState&) const = default;
};

// "backup/nas/home" -> "backup%nas%home.state.json" (the lock file's naming: one state per
// target, written only by the run that holds its lock).
std::string state_file_name(const std::string& target);

std::string encode_state(const JobState& state);
// nullopt with `error` for anything but a complete state of this format (a torn or foreign
// file included): the caller treats the state as unknown.
std::optional<JobState> decode_state(std::string_view text, std::string& error);

// A dataset that is complete on the target after a run: `transferred_bytes` is what this run
// moved (kept from before when it moved nothing).
void record_success(DatasetState& d, std::int64_t now, const std::string& newest,
                    std::int64_t newest_creation, std::uint64_t transferred_bytes);
// A dataset that is not: the error (any bytes; stored escaped) and when.
void record_failure(DatasetState& d, std::int64_t now, std::string_view error);

} // namespace puller

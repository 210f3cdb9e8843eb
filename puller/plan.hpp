// What to do for each dataset of a job, decided from the two inventories alone: skip, refuse
// (diverged or unrelated target), or which sends to run in which order. Pure: no I/O, so every
// case (full, incremental, bookmark, clone, resume, no change, diverged) is a table test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "puller/inventory.hpp"

namespace puller {

struct PlanOptions {
    std::string source_root; // "tank/home"
    std::string target_root; // "backup/home"
    bool recursive = false;
    bool raw = false;             // -w for every dataset, not only encrypted ones
    bool force_rollback = false;  // roll a diverged target back instead of refusing
    bool always_snapshot = false; // a sync snapshot even when nothing changed
    std::string prefix = "zfs-puller_";
    std::string sync_snapshot; // name (after '@') of this run's sync snapshot
};

struct Send {
    enum class Kind { full, incremental, resume };
    Kind kind = Kind::full;
    bool intermediates = false;      // -I (true) or -i (false)
    std::string from;                // "ds@snap" or "ds#bookmark" (incremental only)
    std::string to;                  // "ds@snap"
    std::string token;               // resume only
    std::uint64_t from_guid = 0;     // guid the stream must start from (0: a full stream)
    std::string flags;               // send flags, canonical order ("Lce" or "w"); empty for -t
    bool remote_estimate = false;    // ask the source (`-nvP`) instead of summing `written`
    std::uint64_t estimate = 0;      // bytes, when !remote_estimate
    std::vector<std::string> brings; // snapshot names (after '@') the target has afterwards
    bool operator==(const Send&) const = default;
};

enum class Action {
    skip,     // nothing changed since the last pull
    transfer, // sends (and maybe a sync snapshot)
    refuse,   // target diverged or unrelated: nothing is touched (exit 3)
    fail,     // cannot be planned (e.g. a partial receive of a vanished snapshot)
};

struct DatasetPlan {
    std::string source;                         // "tank/home/alice"
    std::string target;                         // "backup/home/alice"
    DatasetKind kind = DatasetKind::filesystem; // what the source's listing says (display only)
    // The target's own type from the target's listing; nothing for a new dataset (its first
    // stream's header decides).
    std::optional<DatasetKind> target_kind;
    Action action = Action::skip;
    std::string reason; // why skip / refuse / fail, one line
    bool target_exists = false;
    bool sync_snapshot = false; // included in the job's one `zfs snapshot` command
    bool raw = false;
    bool resumed = false;
    std::vector<Send> sends;
    std::string rollback_to;    // force: local `zfs rollback -r target@rollback_to` first
    bool force_receive = false; // force: `zfs receive -F` on the first receive
    // What forcing loses, all of it made on the target: the snapshots the rollback destroys
    // (names after '@'), and the bytes written after the newest snapshot.
    std::vector<std::string> would_lose;
    std::uint64_t discards_bytes = 0;
    std::string newest;          // source snapshot the target ends at (after '@')
    std::string previous_common; // common snapshot before this run ("" if none or a bookmark)
    std::vector<std::string> depends_on; // source datasets that must transfer first
    bool operator==(const DatasetPlan&) const = default;
};

struct JobPlan {
    std::vector<DatasetPlan> datasets; // parents first, clone origins before clones
    std::string error;                 // the job cannot be planned at all
    bool ok() const { return error.empty(); }
};

// Datasets of the job: the source root and, when recursive, everything below it; ordered
// parents first and clone origins before their clones (name order otherwise).
std::vector<std::string> job_datasets(const Inventory& source, const PlanOptions& options);

JobPlan make_plan(const Inventory& source, const Inventory& target, const PlanOptions& options);

// `<prefix><UTC YYYYmmddTHHMMSSZ>` for a time_t.
std::string sync_snapshot_name(const std::string& prefix, long long unix_seconds);

} // namespace puller

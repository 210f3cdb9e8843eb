// Which of its own sync snapshots the puller destroys after a run, on each side. Pure. Only
// names that start with the prefix are ever chosen; the newest common snapshot and clone
// origins never; keep = 0 means never destroy anything on that side.
//
// The target side is decided from the target's own listing taken after the transfers, never
// from what the source lists: a source that lists many new snapshots must not make one run
// wipe the target's history. So besides keeping the newest `keep` own snapshots, a target
// snapshot younger than `min_age_days` (by the time this host received it, or its creation
// time when it was never marked) is never destroyed, one run destroys at most `max_percent` of
// the dataset's own snapshots (at least one), and a run that would destroy more snapshots than
// it received destroys none and says so.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "puller/inventory.hpp"
#include "puller/plan.hpp"

namespace puller {

// `snapshots` oldest first (names after '@'); returns the names to destroy, oldest first.
std::vector<std::string> select_destroy(const std::vector<std::string>& snapshots,
                                        const std::string& prefix, unsigned keep,
                                        const std::set<std::string>& protect);

// Clone origins of a whole inventory, in one pass: dataset -> names (after '@') of its
// snapshots that some clone was made from.
using Origins = std::map<std::string, std::set<std::string>>;
Origins clone_origins(const Inventory& inventory);

// Source side: the source's own sync snapshots beyond the newest keep_source, after this run
// (the sync snapshot included), never the newest common one or a clone origin.
std::vector<std::string> source_prune(const DatasetPlan& plan, const Dataset& source,
                                      const PlanOptions& options, unsigned keep_source,
                                      const Origins& source_origins);

struct TargetRules {
    std::string prefix = "zfs-puller_";
    unsigned keep = 30;        // keep_target
    unsigned min_age_days = 7; // prune_min_age_days
    unsigned max_percent = 10; // prune_max_percent
    std::int64_t now = 0;      // unix seconds
};

struct TargetPrune {
    std::vector<std::string> destroy; // names after '@', oldest first
    std::string refused;              // not empty: nothing is destroyed, and this says why
    bool operator==(const TargetPrune&) const = default;
};

// Target side, from the target dataset as it is now (`after`, its own listing with markers)
// and as it was before the run (`before`, to count what this run received; nullptr for a new
// dataset). `source_guids`: guids of the source's snapshots and bookmarks, for the newest
// common snapshot; `origins`: clone origins on the target.
TargetPrune target_prune(const Dataset& after, const Dataset* before,
                         const std::set<std::uint64_t>& source_guids, const Origins& origins,
                         const TargetRules& rules);

// Split into `;` chains the grammar accepts (at most 11 destroys, one dataset per chain).
inline constexpr std::size_t max_destroy_chain = 11;
std::vector<std::vector<std::string>> destroy_chains(const std::vector<std::string>& names);

} // namespace puller

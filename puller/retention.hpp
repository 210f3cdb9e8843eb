// Which of its own sync snapshots the puller destroys after a run, on each side. Pure. Rules:
// only names that start with the prefix; the newest `keep` of those stay; the newest common
// snapshot and clone origins are never chosen; keep = 0 means never destroy anything.
#pragma once

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

struct Retention {
    std::vector<std::string> source; // snapshot names on plan.source to destroy
    std::vector<std::string> target; // snapshot names on plan.target to destroy
    bool operator==(const Retention&) const = default;
};

// For a dataset whose plan succeeded (transfer done, or skipped as unchanged): the state both
// sides are in afterwards is derived from the inventories and the plan.
Retention plan_retention(const DatasetPlan& plan, const Inventory& source, const Inventory& target,
                         const PlanOptions& options, unsigned keep_source, unsigned keep_target);

// Split into `;` chains the grammar accepts (at most 11 destroys, one dataset per chain).
inline constexpr std::size_t max_destroy_chain = 11;
std::vector<std::vector<std::string>> destroy_chains(const std::vector<std::string>& names);

} // namespace puller

// Retention selection. It only ever names snapshots carrying the prefix, so a misconfigured keep
// count can at worst remove the puller's own snapshots, never the source's or the admin's.
#include "puller/retention.hpp"

#include <algorithm>

namespace puller {

std::vector<std::string> select_destroy(const std::vector<std::string>& snapshots,
                                        const std::string& prefix, unsigned keep,
                                        const std::set<std::string>& protect) {
    if (keep == 0 || prefix.empty()) return {};
    std::vector<std::string> own;
    for (const auto& s : snapshots)
        if (s.starts_with(prefix)) own.push_back(s);
    if (own.size() <= keep) return {};
    own.resize(own.size() - keep); // drop the newest `keep`
    std::vector<std::string> out;
    for (const auto& s : own)
        if (!protect.contains(s)) out.push_back(s);
    return out;
}

Origins clone_origins(const Inventory& inventory) {
    Origins out;
    for (const auto& [name, ds] : inventory) {
        const auto at = ds.origin.find('@');
        if (at != std::string::npos) out[ds.origin.substr(0, at)].insert(ds.origin.substr(at + 1));
    }
    return out;
}

namespace {

const std::set<std::string>& origins_of(const Origins& origins, const std::string& dataset) {
    static const std::set<std::string> none;
    const auto it = origins.find(dataset);
    return it == origins.end() ? none : it->second;
}

} // namespace

std::vector<std::string> source_prune(const DatasetPlan& plan, const Dataset& source,
                                      const PlanOptions& options, unsigned keep_source,
                                      const Origins& source_origins) {
    if (plan.newest.empty()) return {};
    std::set<std::string> protect = origins_of(source_origins, plan.source);
    protect.insert(plan.newest);
    std::vector<std::string> after;
    for (const auto& s : source.snapshots)
        after.push_back(s.name);
    if (plan.sync_snapshot) after.push_back(options.sync_snapshot);
    return select_destroy(after, options.prefix, keep_source, protect);
}

TargetPrune target_prune(const Dataset& after, const Dataset* before,
                         const std::set<std::uint64_t>& source_guids, const Origins& origins,
                         const TargetRules& rules) {
    TargetPrune out;
    if (rules.keep == 0 || after.snapshots.empty()) return out;

    // Never the newest snapshot (after a transfer, the one that just arrived), never the
    // newest one the source also has, never a clone origin.
    std::set<std::string> protect = origins_of(origins, after.name);
    protect.insert(after.snapshots.back().name);
    for (auto it = after.snapshots.rbegin(); it != after.snapshots.rend(); ++it)
        if (source_guids.contains(it->guid)) {
            protect.insert(it->name);
            break;
        }

    std::vector<const Point*> own;
    for (const auto& s : after.snapshots)
        if (s.name.starts_with(rules.prefix)) own.push_back(&s);
    if (own.size() <= rules.keep) return out;
    const std::int64_t floor = static_cast<std::int64_t>(rules.min_age_days) * 86400;
    const std::size_t cap =
        std::max<std::size_t>(1, own.size() * rules.max_percent / 100); // at least one
    for (std::size_t i = 0; i + rules.keep < own.size() && out.destroy.size() < cap; ++i) {
        const Point& s = *own[i];
        const std::int64_t since = s.received_at != 0 ? s.received_at : s.creation;
        if (protect.contains(s.name) || rules.now - since < floor) continue;
        out.destroy.push_back(s.name);
    }

    // What this run received: snapshots on the target now that were not there before.
    std::set<std::uint64_t> had;
    if (before != nullptr)
        for (const auto& s : before->snapshots)
            had.insert(s.guid);
    std::size_t received = 0;
    for (const auto& s : after.snapshots)
        if (!had.contains(s.guid)) ++received;
    if (out.destroy.size() > received) {
        out.refused = "pruning " + after.name + " refused: it would destroy " +
                      std::to_string(out.destroy.size()) + " snapshot" +
                      (out.destroy.size() == 1 ? "" : "s") + " while this run received " +
                      std::to_string(received) +
                      "; a source cannot make one run shrink the backups' history (after "
                      "lowering keep_target, destroy the surplus by hand)";
        out.destroy.clear();
    }
    return out;
}

std::vector<std::vector<std::string>> destroy_chains(const std::vector<std::string>& names) {
    std::vector<std::vector<std::string>> out;
    for (std::size_t i = 0; i < names.size(); i += max_destroy_chain)
        out.emplace_back(names.begin() + static_cast<std::ptrdiff_t>(i),
                         names.begin() + static_cast<std::ptrdiff_t>(
                                             std::min(names.size(), i + max_destroy_chain)));
    return out;
}

} // namespace puller

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

namespace {

// Snapshots of `dataset` that some clone in `inv` was made from.
std::set<std::string> origins_in(const Inventory& inv, const std::string& dataset) {
    std::set<std::string> out;
    for (const auto& [name, ds] : inv) {
        if (ds.origin.size() > dataset.size() && ds.origin.starts_with(dataset) &&
            ds.origin[dataset.size()] == '@')
            out.insert(ds.origin.substr(dataset.size() + 1));
    }
    return out;
}

} // namespace

Retention plan_retention(const DatasetPlan& plan, const Inventory& source, const Inventory& target,
                         const PlanOptions& options, unsigned keep_source, unsigned keep_target) {
    Retention r;
    const auto src = source.find(plan.source);
    if (src == source.end() || plan.newest.empty()) return r;

    std::set<std::string> protect = origins_in(source, plan.source);
    protect.insert(plan.newest);
    const auto tgt_it = target.find(plan.target);
    for (const auto& o : origins_in(target, plan.target))
        protect.insert(o);

    std::vector<std::string> source_after;
    for (const auto& s : src->second.snapshots)
        source_after.push_back(s.name);
    if (plan.sync_snapshot) source_after.push_back(options.sync_snapshot);
    r.source = select_destroy(source_after, options.prefix, keep_source, protect);

    std::vector<std::string> target_after;
    if (tgt_it != target.end()) {
        const Point* rollback =
            plan.rollback_to.empty() ? nullptr : tgt_it->second.snapshot_named(plan.rollback_to);
        for (const auto& s : tgt_it->second.snapshots)
            if (rollback == nullptr || s.createtxg <= rollback->createtxg)
                target_after.push_back(s.name);
    }
    for (const auto& send : plan.sends)
        for (const auto& name : send.brings)
            if (std::find(target_after.begin(), target_after.end(), name) == target_after.end())
                target_after.push_back(name);
    r.target = select_destroy(target_after, options.prefix, keep_target, protect);
    return r;
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

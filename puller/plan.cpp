// The per-dataset decision. Order of checks: resume token, common snapshot, divergence, change,
// then the sends (first full of the oldest snapshot or clone-aware -i from the origin, then -I to
// the sync snapshot; or -I from the common snapshot; or -i from a bookmark, then -I).
#include "puller/plan.hpp"

#include <algorithm>
#include <ctime>
#include <limits>
#include <map>
#include <set>
#include <unordered_set>

#include "policy/resume_token.hpp"

namespace puller {
namespace {

std::string parent_of(const std::string& name) {
    const auto slash = name.rfind('/');
    return slash == std::string::npos ? "" : name.substr(0, slash);
}

// Send flags in grammar::send_flag_order. Raw (-w) keeps encrypted data encrypted on the way
// and on the target; otherwise -L keeps large records large, -e keeps embedded blocks
// embedded and -c sends blocks as they are compressed on disk (no recompression, fewer bytes).
std::string send_flags(bool raw) {
    return raw ? "w" : "Lce";
}

std::string list_names(const std::vector<Point>& points, std::size_t max) {
    std::string out;
    for (std::size_t i = 0; i < points.size() && i < max; ++i)
        out += (i ? ", @" : "@") + points[i].name;
    if (points.size() > max) out += ", ...";
    return out;
}

struct Planner {
    const Inventory& source;
    const Inventory& target;
    const PlanOptions& opt;
    std::map<std::string, std::set<std::uint64_t>> brought; // source dataset -> guids sent this run

    const Dataset* target_of(const std::string& name) const {
        const auto it = target.find(name);
        return it == target.end() ? nullptr : &it->second;
    }
    bool in_job(const std::string& name) const {
        return source.contains(name) && (name == opt.source_root ||
                                         (opt.recursive && dataset_within(name, opt.source_root)));
    }

    DatasetPlan refuse(DatasetPlan p, std::string why) {
        p.action = Action::refuse;
        p.reason = std::move(why);
        return p;
    }
    DatasetPlan fail(DatasetPlan p, std::string why) {
        p.action = Action::fail;
        p.reason = std::move(why);
        p.sends.clear();
        return p;
    }

    // The clone-aware first send: `-i ORIGIN@snap DS@first`, when the origin snapshot is (or
    // will be, earlier in this run) on the target. Otherwise the clone arrives as a full copy.
    std::optional<Send> clone_send(const Dataset& ds, const Point& first, DatasetPlan& p) {
        if (ds.origin.empty()) return std::nullopt;
        const auto at = ds.origin.find('@');
        if (at == std::string::npos) return std::nullopt;
        const std::string origin_ds = ds.origin.substr(0, at),
                          origin_snap = ds.origin.substr(at + 1);
        if (origin_ds == ds.name || !in_job(origin_ds)) return std::nullopt;
        const Point* os = source.at(origin_ds).snapshot_named(origin_snap);
        if (os == nullptr) return std::nullopt;
        const Dataset* tod = target_of(map_name(origin_ds, opt.source_root, opt.target_root));
        const bool present = tod != nullptr && tod->snapshot_by_guid(os->guid) != nullptr;
        const bool planned =
            brought.contains(origin_ds) && brought.at(origin_ds).contains(os->guid);
        if (!present && !planned) return std::nullopt;
        if (!present) p.depends_on.push_back(origin_ds);
        Send s;
        s.kind = Send::Kind::incremental;
        s.intermediates = false;
        s.from = ds.origin;
        s.from_guid = os->guid;
        s.to = ds.name + "@" + first.name;
        s.flags = send_flags(p.raw);
        s.estimate = first.written;
        s.brings = {first.name};
        return s;
    }

    // -I from `from_point` (exclusive) to the sync snapshot, over the source points in order.
    Send intermediates(const Dataset& ds, const std::vector<Point>& points, const Point& from,
                       bool raw) {
        Send s;
        s.kind = Send::Kind::incremental;
        s.intermediates = true;
        s.from = ds.name + "@" + from.name;
        s.from_guid = from.guid;
        s.to = ds.name + "@" + points.back().name;
        s.flags = send_flags(raw);
        for (const auto& pt : points) {
            if (pt.createtxg <= from.createtxg) continue;
            s.brings.push_back(pt.name);
            s.estimate += pt.written;
        }
        return s;
    }

    // Names, kind and flags of the dataset's plan, and the parent it needs on the target.
    DatasetPlan describe(const Dataset& ds) const {
        DatasetPlan p;
        p.source = ds.name;
        p.target = map_name(ds.name, opt.source_root, opt.target_root);
        p.kind = ds.kind;
        p.raw = opt.raw || ds.encrypted();
        const Dataset* t = target_of(p.target);
        p.target_exists = t != nullptr;
        if (t != nullptr && t->kind_known) p.target_kind = t->kind;
        if (p.source != opt.source_root) {
            const std::string parent = parent_of(p.source);
            if (target_of(map_name(parent, opt.source_root, opt.target_root)) == nullptr)
                p.depends_on.push_back(parent);
        }
        return p;
    }

    // An interrupted receive: `zfs send -t TOKEN` first. The snapshot it completes then counts
    // as on the target (newest) for the rest of the plan. False: the token is unusable.
    bool plan_resume(const Dataset& ds, const Dataset& t, DatasetPlan& p,
                     std::vector<Point>& tsnaps) const {
        const policy::TokenResult tok = policy::decode_resume_token(t.resume_token);
        const Point* to =
            tok.ok() && tok.token->toguid ? ds.snapshot_by_guid(*tok.token->toguid) : nullptr;
        if (to == nullptr) return false;
        Send r;
        r.kind = Send::Kind::resume;
        r.token = t.resume_token;
        r.from_guid = tok.token->fromguid.value_or(0);
        r.to = ds.name + "@" + to->name;
        r.remote_estimate = true;
        r.brings = {to->name};
        p.sends.push_back(r);
        p.resumed = true;
        Point eff = *to;
        eff.createtxg = (tsnaps.empty() ? 0 : tsnaps.back().createtxg) + 1;
        tsnaps.push_back(eff);
        return true;
    }

    // A target with no common snapshot: refused, or (empty target, --force-rollback)
    // overwritten by a full receive -F. Returns the refusal, or nothing to go on.
    std::optional<DatasetPlan> check_unrelated(const std::vector<Point>& tsnaps, DatasetPlan& p) {
        if (!tsnaps.empty())
            return refuse(p, "target " + p.target + " has no snapshot in common with " + p.source +
                                 " (it has " + list_names(tsnaps, 3) +
                                 "); nothing was changed; rename or destroy the target by hand "
                                 "(--force-rollback never overwrites unrelated data)");
        if (!opt.force_rollback)
            return refuse(p, "target " + p.target +
                                 " exists but has no snapshots; nothing was changed; rerun "
                                 "with --force-rollback to overwrite it, or destroy it");
        p.force_receive = true;
        p.discards_bytes = target_of(p.target)->written;
        return std::nullopt;
    }

    // A snapshot this host received (zfs-puller marked it, or it carries the prefix: only the
    // puller makes those, on the source), as opposed to one made on the target.
    bool received(const Point& s) const {
        return s.received_at != 0 || s.name.starts_with(opt.prefix);
    }

    // Snapshots newer than the common one, or bytes written after the newest: refused, or with
    // --force-rollback a rollback (newer snapshots) or a receive -F (written bytes). Only what
    // the target made itself is ever given up: newer snapshots it received are refused even
    // then, since a source that stops listing its recent snapshots would otherwise get the
    // backups of them destroyed. Returns the refusal, or nothing to go on; `forced` says whether
    // the target will be rolled back.
    std::optional<DatasetPlan> check_divergence(const Dataset& t, const Common& common,
                                                const std::vector<Point>& tsnaps, bool resuming,
                                                DatasetPlan& p, bool& forced) {
        std::vector<Point> newer, newer_received;
        for (const auto& s : tsnaps) {
            if (s.createtxg <= common.target.createtxg) continue;
            newer.push_back(s);
            if (received(s)) newer_received.push_back(s);
        }
        const bool modified = !resuming && t.written > 0;
        if (newer.empty() && !modified) return std::nullopt;
        const std::string since =
            "target " + p.target + " diverged from the source since @" + common.target.name + ": ";
        if (!newer_received.empty())
            return refuse(p, since +
                                 "it has newer snapshots it received from the source, which "
                                 "the source no longer lists (" +
                                 list_names(newer_received, 3) +
                                 "); nothing was changed; a rollback would destroy these "
                                 "backups, so --force-rollback does not: inspect both sides, "
                                 "and destroy them on the target by hand if they must go");
        std::string what = since;
        if (!newer.empty())
            what += "it has newer snapshots the source does not (" + list_names(newer, 3) + ")";
        if (!newer.empty() && modified) what += ", and ";
        if (modified)
            what +=
                std::to_string(t.written) + " bytes were written to it after its newest snapshot";
        if (!opt.force_rollback)
            return refuse(p, what +
                                 "; nothing was changed; inspect it, then rerun with "
                                 "--force-rollback to roll it back to @" +
                                 common.target.name);
        forced = true;
        for (const auto& s : newer)
            p.would_lose.push_back(s.name);
        if (modified) p.discards_bytes = t.written;
        if (!newer.empty())
            p.rollback_to = common.target.name;
        else
            p.force_receive = true;
        return std::nullopt;
    }

    // The first pull (or an overwrite): the oldest snapshot in full, or clone-aware from the
    // origin, then -I to the sync snapshot.
    void plan_first_sends(const Dataset& ds, const std::vector<Point>& points, DatasetPlan& p) {
        const Point& first = points.front();
        std::optional<Send> first_send = clone_send(ds, first, p);
        if (!first_send) {
            Send f;
            f.kind = Send::Kind::full;
            f.to = ds.name + "@" + first.name;
            f.flags = send_flags(p.raw);
            f.remote_estimate = true;
            f.brings = {first.name};
            first_send = f;
        }
        p.sends.push_back(*first_send);
        if (points.size() > 1) p.sends.push_back(intermediates(ds, points, first, p.raw));
    }

    // Bookmarks cannot start an -I range: -i from the bookmark to the next snapshot, then -I.
    void plan_bookmark_sends(const Dataset& ds, const std::vector<Point>& points, const Point& bm,
                             DatasetPlan& p) {
        const auto next = std::find_if(points.begin(), points.end(),
                                       [&](const Point& s) { return s.createtxg > bm.createtxg; });
        Send s;
        s.kind = Send::Kind::incremental;
        s.intermediates = false;
        s.from = ds.name + "#" + bm.name;
        s.from_guid = bm.guid;
        s.to = ds.name + "@" + next->name;
        s.flags = send_flags(p.raw);
        s.estimate = next->written;
        s.brings = {next->name};
        p.sends.push_back(s);
        if (next->name != points.back().name)
            p.sends.push_back(intermediates(ds, points, *next, p.raw));
    }

    // A changed dataset: a sync snapshot makes the newest point one of ours (so it can be held)
    // and captures whatever was written since the newest existing snapshot; then the sends.
    void plan_sends(const Dataset& ds, const std::optional<Common>& common, bool full,
                    DatasetPlan& p) {
        p.action = Action::transfer;
        p.sync_snapshot = true;
        p.newest = opt.sync_snapshot;
        std::vector<Point> points = ds.snapshots;
        // The sync snapshot is newer than anything listed (bookmarks included).
        points.push_back(
            Point{opt.sync_snapshot, 0, std::numeric_limits<std::uint64_t>::max(), ds.written});
        if (full)
            plan_first_sends(ds, points, p);
        else if (!common->source_is_bookmark)
            p.sends.push_back(intermediates(ds, points, common->source, p.raw));
        else
            plan_bookmark_sends(ds, points, common->source, p);
        std::unordered_set<std::string_view> names;
        for (const auto& s : p.sends)
            names.insert(s.brings.begin(), s.brings.end());
        for (const auto& pt : ds.snapshots)
            if (names.contains(pt.name)) brought[ds.name].insert(pt.guid);
    }

    // Order: resume token, common snapshot, divergence, change, then the sends.
    DatasetPlan plan_one(const Dataset& ds) {
        DatasetPlan p = describe(ds);
        if (!valid_dataset_name(p.target))
            return fail(p, "cannot receive " + p.source + ": its target name " + p.target +
                               " would be longer than 255 bytes or nested deeper than zfs allows");
        const Dataset* t = target_of(p.target);
        std::vector<Point> tsnaps = t ? t->snapshots : std::vector<Point>{};
        const bool resuming = t != nullptr && !t->resume_token.empty();
        if (resuming && !plan_resume(ds, *t, p, tsnaps))
            return fail(p, "target " + p.target +
                               " holds a partial receive of a snapshot the source no longer "
                               "has; discard it with `zfs receive -A " +
                               p.target + "` and run again");

        const std::optional<Common> common = find_common(ds, tsnaps);
        bool forced = false;
        if (t != nullptr && !common)
            if (auto refused = check_unrelated(tsnaps, p)) return *refused;
        if (common)
            if (auto refused = check_divergence(*t, *common, tsnaps, resuming, p, forced))
                return *refused;
        // What the last completed run left as newest common (and held): found without the
        // snapshot a resume is about to complete.
        if (t != nullptr) {
            const std::optional<Common> before = find_common(ds, t->snapshots);
            if (before && !before->source_is_bookmark) p.previous_common = before->source.name;
        }

        const Point* newest_source = ds.newest_snapshot();
        const bool up_to_date = common && !common->source_is_bookmark && newest_source != nullptr &&
                                common->source.guid == newest_source->guid;
        const bool changed = ds.written > 0 || !up_to_date || opt.always_snapshot || forced;
        if (!changed) {
            p.action = p.sends.empty() ? Action::skip : Action::transfer;
            p.reason = "unchanged since @" + common->source.name;
            p.newest = common->source.name;
            return p;
        }
        const bool overwrite_unrelated = t != nullptr && !common;
        plan_sends(ds, common, t == nullptr || overwrite_unrelated, p);
        return p;
    }
};

} // namespace

std::vector<std::string> job_datasets(const Inventory& source, const PlanOptions& opt) {
    // The job's datasets are one contiguous run of the name-ordered inventory (every name
    // below the root starts with "root/"), so they are found without a scan of the rest.
    std::vector<std::string> names;
    if (source.contains(opt.source_root)) names.push_back(opt.source_root);
    if (opt.recursive)
        for (auto it = source.lower_bound(opt.source_root + "/");
             it != source.end() && it->first.starts_with(opt.source_root + "/"); ++it)
            names.push_back(it->first);
    // Kahn's algorithm over parent and clone-origin edges, O(n log n): the ready set is ordered
    // by name, so siblings come out sorted.
    std::map<std::string, std::size_t> waiting; // unfinished dependencies per dataset
    std::map<std::string, std::vector<std::string>> dependants;
    const std::set<std::string> in_job(names.begin(), names.end());
    for (const auto& name : names) {
        std::set<std::string> deps;
        const std::string parent = parent_of(name);
        if (in_job.contains(parent)) deps.insert(parent);
        const std::string& origin = source.at(name).origin;
        const std::string origin_ds = origin.substr(0, origin.find('@'));
        if (!origin.empty() && origin_ds != name && in_job.contains(origin_ds))
            deps.insert(origin_ds);
        waiting[name] = deps.size();
        for (const auto& d : deps)
            dependants[d].push_back(name);
    }
    std::set<std::string> ready;
    for (const auto& [name, n] : waiting)
        if (n == 0) ready.insert(name);
    std::vector<std::string> out;
    out.reserve(names.size());
    while (out.size() < names.size()) {
        if (ready.empty()) { // a cycle cannot happen in ZFS; stay total anyway
            for (const auto& [name, n] : waiting)
                if (n != 0) {
                    ready.insert(name);
                    waiting[name] = 0;
                    break;
                }
        }
        const std::string next = *ready.begin();
        ready.erase(ready.begin());
        out.push_back(next);
        for (const auto& d : dependants[next])
            if (waiting[d] != 0 && --waiting[d] == 0) ready.insert(d);
    }
    return out;
}

JobPlan make_plan(const Inventory& source, const Inventory& target, const PlanOptions& options) {
    JobPlan plan;
    if (!source.contains(options.source_root)) {
        plan.error = "source dataset " + options.source_root + " is not in the source listing";
        return plan;
    }
    if (options.sync_snapshot.empty() || !options.sync_snapshot.starts_with(options.prefix)) {
        plan.error = "sync snapshot name must start with the prefix";
        return plan;
    }
    Planner planner{source, target, options, {}};
    for (const auto& name : job_datasets(source, options))
        plan.datasets.push_back(planner.plan_one(source.at(name)));
    return plan;
}

std::string sync_snapshot_name(const std::string& prefix, long long unix_seconds) {
    const std::time_t t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
    return prefix + buf;
}

} // namespace puller

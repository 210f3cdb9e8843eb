// Retention: keeps N of its own snapshots, never the newest common one, never a clone origin,
// never a snapshot without the prefix; on the target also never one younger than the floor,
// at most a share per run, never more than the run received; destroy chains fit the grammar.
#include <doctest/doctest.h>

#include "puller/retention.hpp"
#include "tests/puller/listing.hpp"

using namespace puller;
using namespace puller_test;

namespace {
const std::string P = "zfs-puller_";
using Names = std::vector<std::string>;
} // namespace

TEST_CASE("select_destroy table") {
    struct Row {
        Names snaps;
        unsigned keep;
        std::set<std::string> protect;
        Names expected;
    };
    const Row rows[] = {
        {{"zfs-puller_1", "zfs-puller_2", "zfs-puller_3"}, 2, {}, {"zfs-puller_1"}},
        {{"zfs-puller_1", "zfs-puller_2", "zfs-puller_3"}, 3, {}, {}},
        {{"zfs-puller_1", "zfs-puller_2", "zfs-puller_3"}, 0, {}, {}}, // 0: never destroy
        {{"autosnap_1", "zfs-puller_1", "manual", "zfs-puller_2", "zfs-puller_3"},
         1,
         {},
         {"zfs-puller_1", "zfs-puller_2"}},
        {{"autosnap_1", "autosnap_2", "autosnap_3"}, 1, {}, {}}, // never foreign
        {{"zfs-puller_1", "zfs-puller_2", "zfs-puller_3"}, 1, {"zfs-puller_1"}, {"zfs-puller_2"}},
        {{"zfs-pullerX", "zfs-puller_1"}, 1, {}, {}}, // prefix is literal
        {{}, 1, {}, {}},
    };
    for (const auto& r : rows)
        CHECK(select_destroy(r.snaps, P, r.keep, r.protect) == r.expected);
}

namespace {

// Count-only rules: no age floor, no share cap (what the count rule alone does).
TargetRules count_only(unsigned keep) {
    TargetRules r;
    r.prefix = P;
    r.keep = keep;
    r.min_age_days = 0;
    r.max_percent = 100;
    r.now = 1800000000;
    return r;
}

// backup/a with own snapshots P1..Pn (guid 10+i), created `age_days` ago each, P1 oldest.
Dataset own_history(int n, std::int64_t now, int age_days_first) {
    std::string text = fs("backup/a", 9, 1);
    for (int i = 1; i <= n; ++i)
        text += snap("backup/a@" + P + std::to_string(i), 10 + i, 10 + i);
    Dataset d = inventory(text).at("backup/a");
    for (int i = 0; i < n; ++i)
        d.snapshots[static_cast<std::size_t>(i)].creation = now - (age_days_first - i) * 86400;
    return d;
}

} // namespace

TEST_CASE("source retention: keeps N own snapshots after the run, never the newest common one") {
    const std::string sync = P + "5";
    const Inventory src = inventory(
        fs("tank/a", 1, 2, 10) + snap("tank/a@" + P + "1", 11, 10) + snap("tank/a@auto", 12, 20) +
        snap("tank/a@" + P + "2", 13, 30) + snap("tank/a@" + P + "3", 14, 40));
    const Inventory dst =
        inventory(fs("backup/a", 9, 9) + snap("backup/a@old", 90, 5) +
                  snap("backup/a@" + P + "1", 11, 10) + snap("backup/a@auto", 12, 20) +
                  snap("backup/a@" + P + "2", 13, 30) + snap("backup/a@" + P + "3", 14, 40));
    PlanOptions o;
    o.source_root = "tank/a";
    o.target_root = "backup/a";
    o.sync_snapshot = sync;
    const JobPlan plan = make_plan(src, dst, o);
    REQUIRE(plan.ok());
    const DatasetPlan& p = plan.datasets.at(0);
    REQUIRE(p.action == Action::transfer);
    const Origins none;
    const Dataset& s = src.at("tank/a");
    CHECK(source_prune(p, s, o, 2, none) == Names{P + "1", P + "2"}); // keeps 3 and the sync one
    CHECK(source_prune(p, s, o, 0, none).empty());
    // keep = 1 keeps the newest, which is also the protected newest common snapshot.
    CHECK(source_prune(p, s, o, 1, none) == Names{P + "1", P + "2", P + "3"});
    Origins clone;
    clone["tank/a"] = {P + "1"};
    CHECK(source_prune(p, s, o, 1, clone) == Names{P + "2", P + "3"});
}

TEST_CASE("target retention by count: own snapshots only, after the run") {
    // The target after a run that received the sync snapshot P5.
    const Inventory after = inventory(
        fs("backup/a", 9, 9) + snap("backup/a@old", 90, 5) + snap("backup/a@" + P + "1", 11, 10) +
        snap("backup/a@auto", 12, 20) + snap("backup/a@" + P + "2", 13, 30) +
        snap("backup/a@" + P + "3", 14, 40) + snap("backup/a@" + P + "5", 15, 50));
    Dataset before = after.at("backup/a");
    before.snapshots.pop_back();
    const Dataset& a = after.at("backup/a");
    const std::set<std::uint64_t> src{11, 12, 13, 14, 15};
    CHECK(target_prune(a, &before, src, {}, count_only(3)).destroy == Names{P + "1"});
    CHECK(target_prune(a, &before, src, {}, count_only(0)) == TargetPrune{}); // never
    CHECK(target_prune(a, &before, src, {}, count_only(4)).destroy.empty());
}

TEST_CASE("target retention: the newest common snapshot and clone origins survive any keep") {
    // The source has only P1 any more: P1 is the newest common snapshot.
    const Dataset a = inventory(fs("backup/a", 9, 9) + snap("backup/a@" + P + "1", 11, 10) +
                                snap("backup/a@" + P + "2", 12, 20))
                          .at("backup/a");
    CHECK(target_prune(a, nullptr, {11}, {}, count_only(1)).destroy.empty());
    // Without it, P1 goes; with P1 a clone origin it stays.
    CHECK(target_prune(a, nullptr, {12}, {}, count_only(1)).destroy == Names{P + "1"});
    Origins clone;
    clone["backup/a"] = {P + "1"};
    CHECK(target_prune(a, nullptr, {12}, clone, count_only(1)).destroy.empty());
    const Inventory with_clone = inventory(
        fs("backup/a", 9, 9) + snap("backup/a@" + P + "1", 11, 10) +
        snap("backup/a@" + P + "2", 12, 20) + fs("backup/c", 8, 30, 0, "backup/a@" + P + "1"));
    CHECK(clone_origins(with_clone) == clone);
}

TEST_CASE("target retention: nothing younger than the floor, by when this host received it") {
    const std::int64_t now = 1800000000;
    Dataset a = own_history(10, now, 12); // P1 is 12 days old ... P10 3 days old
    TargetRules r = count_only(2);
    r.now = now;
    r.min_age_days = 7;
    // Candidates P1..P8; P1..P6 are 7 days or older.
    CHECK(target_prune(a, nullptr, {}, {}, r).destroy ==
          Names{P + "1", P + "2", P + "3", P + "4", P + "5", P + "6"});
    // A snapshot received recently counts as young, whatever its creation time says.
    a.snapshots[0].received_at = now - 86400;
    CHECK(target_prune(a, nullptr, {}, {}, r).destroy ==
          Names{P + "2", P + "3", P + "4", P + "5", P + "6"});
    r.min_age_days = 0;
    CHECK(target_prune(a, nullptr, {}, {}, r).destroy.size() == 8);
}

TEST_CASE("target retention: at most a share per run, never more than the run received") {
    const std::int64_t now = 1800000000;
    const Dataset a = own_history(40, now, 100);
    TargetRules r = count_only(10);
    r.now = now;
    r.max_percent = 10; // of 40 own snapshots: 4
    CHECK(target_prune(a, nullptr, {}, {}, r).destroy == Names{P + "1", P + "2", P + "3", P + "4"});
    r.max_percent = 1; // rounds down to 0: still one per run
    CHECK(target_prune(a, nullptr, {}, {}, r).destroy == Names{P + "1"});

    // The same target, of which the run received only the newest two: 4 > 2, refused whole.
    r.max_percent = 10;
    Dataset before = a;
    before.snapshots.resize(38);
    const TargetPrune refused = target_prune(a, &before, {}, {}, r);
    CHECK(refused.destroy.empty());
    CHECK(refused.refused.find("pruning backup/a refused: it would destroy 4 snapshots while "
                               "this run received 2") != std::string::npos);
    before.snapshots.resize(36); // received four: allowed
    CHECK(target_prune(a, &before, {}, {}, r).destroy.size() == 4);
}

TEST_CASE("destroy chains hold at most 11 snapshots") {
    Names many;
    for (int i = 0; i < 25; ++i)
        many.push_back(P + std::to_string(i));
    const auto chains = destroy_chains(many);
    REQUIRE(chains.size() == 3);
    CHECK(chains[0].size() == 11);
    CHECK(chains[1].size() == 11);
    CHECK(chains[2].size() == 3);
    CHECK(chains[2].back() == P + "24");
    CHECK(destroy_chains({}).empty());
}

// Retention: keeps N of its own snapshots, never the newest common one, never a clone origin,
// never a snapshot without the prefix; destroy chains fit the grammar's limit.
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

TEST_CASE("plan_retention: both sides after a transfer") {
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

    const Retention r = plan_retention(p, src, dst, o, 2, 3);
    CHECK(r.source == Names{P + "1", P + "2"}); // keeps 3 and the new sync snapshot
    CHECK(r.target == Names{P + "1"});          // keeps 2, 3, sync; never old/auto

    CHECK(plan_retention(p, src, dst, o, 0, 0) == Retention{});
    // keep = 1 keeps the newest, which is also the protected newest common snapshot.
    CHECK(plan_retention(p, src, dst, o, 1, 1).source == Names{P + "1", P + "2", P + "3"});
}

TEST_CASE("plan_retention: the newest common snapshot survives even when keep would drop it") {
    // Unchanged dataset whose newest common snapshot is foreign-free and older own ones exist.
    const Inventory src =
        inventory(fs("tank/a", 1, 2, 0) + snap("tank/a@" + P + "1", 11, 10) +
                  snap("tank/a@" + P + "2", 12, 20) + snap("tank/a@" + P + "later", 13, 30));
    // The target only got up to P2 (P"later" was made by hand and is newer on the source).
    const Inventory dst = inventory(fs("backup/a", 9, 9) + snap("backup/a@" + P + "1", 11, 10) +
                                    snap("backup/a@" + P + "2", 12, 20));
    DatasetPlan p;
    p.source = "tank/a";
    p.target = "backup/a";
    p.action = Action::skip;
    p.newest = P + "1"; // pretend the newest common were the oldest
    PlanOptions o;
    o.source_root = "tank/a";
    o.target_root = "backup/a";
    o.sync_snapshot = P + "9";
    const Retention r = plan_retention(p, src, dst, o, 1, 1);
    CHECK(r.source == Names{P + "2"});
    CHECK(r.target.empty()); // P1 is protected, P2 is kept
}

TEST_CASE("plan_retention: clone origins are never destroyed on either side") {
    const Inventory src =
        inventory(fs("tank/a", 1, 2, 10) + snap("tank/a@" + P + "1", 11, 10) +
                  snap("tank/a@" + P + "2", 12, 20) + fs("tank/c", 3, 25, 0, "tank/a@" + P + "1"));
    const Inventory dst = inventory(fs("backup/a", 9, 9) + snap("backup/a@" + P + "1", 11, 10) +
                                    snap("backup/a@" + P + "2", 12, 20));
    PlanOptions o;
    o.source_root = "tank/a";
    o.target_root = "backup/a";
    o.sync_snapshot = P + "3";
    const JobPlan plan = make_plan(src, dst, o);
    const Retention r = plan_retention(plan.datasets.at(0), src, dst, o, 1, 1);
    CHECK(r.source == Names{P + "2"});
    CHECK(r.target == Names{P + "2"});
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

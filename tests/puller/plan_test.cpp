// make_plan(): full, incremental, from bookmark, clone-aware, resume, no change, diverged,
// unrelated targets, raw/encrypted flags, ordering.
#include <doctest/doctest.h>

#include <chrono>

#include "puller/plan.hpp"
#include "puller/retention.hpp"
#include "tests/policy/nvlist_builder.hpp"
#include "tests/puller/listing.hpp"

using namespace puller;
using namespace puller_test;

namespace {

const std::string SYNC = "zfs-puller_20240102T030405Z";

PlanOptions opts(const std::string& src = "tank/a", const std::string& dst = "backup/a",
                 bool recursive = false) {
    PlanOptions o;
    o.source_root = src;
    o.target_root = dst;
    o.recursive = recursive;
    o.sync_snapshot = SYNC;
    return o;
}

DatasetPlan only(const JobPlan& p) {
    REQUIRE_MESSAGE(p.ok(), p.error);
    REQUIRE(p.datasets.size() == 1);
    return p.datasets.front();
}

DatasetPlan named(const JobPlan& p, const std::string& source) {
    for (const auto& d : p.datasets)
        if (d.source == source) return d;
    FAIL("no plan for " << source);
    return p.datasets.front();
}

const std::string two_snaps =
    fs("tank/a", 1, 5, 4096) + snap("tank/a@s1", 11, 10, 100) + snap("tank/a@s2", 12, 20, 200);

} // namespace

TEST_CASE("SYNC snapshot names are <prefix><UTC timestamp>") {
    CHECK(sync_snapshot_name("zfs-puller_", 1704164645) == "zfs-puller_20240102T030405Z");
}

TEST_CASE("first pull: full of the oldest snapshot, then -I to the SYNC snapshot") {
    const auto& p = only(make_plan(inventory(two_snaps), {}, opts()));
    CHECK(p.action == Action::transfer);
    CHECK(p.sync_snapshot);
    CHECK_FALSE(p.target_exists);
    CHECK(p.target == "backup/a");
    CHECK(p.newest == SYNC);
    CHECK(p.previous_common.empty());
    REQUIRE(p.sends.size() == 2);
    CHECK(p.sends[0].kind == Send::Kind::full);
    CHECK(p.sends[0].to == "tank/a@s1");
    CHECK(p.sends[0].flags == "Lce");
    CHECK(p.sends[0].remote_estimate);
    CHECK(p.sends[0].brings == std::vector<std::string>{"s1"});
    CHECK(p.sends[1].kind == Send::Kind::incremental);
    CHECK(p.sends[1].intermediates);
    CHECK(p.sends[1].from == "tank/a@s1");
    CHECK(p.sends[1].to == "tank/a@" + SYNC);
    CHECK(p.sends[1].brings == std::vector<std::string>{"s2", SYNC});
    CHECK(p.sends[1].estimate == 200 + 4096); // written of s2 plus what the SYNC snapshot captures
    CHECK_FALSE(p.sends[1].remote_estimate);
}

TEST_CASE("first pull of a dataset without snapshots: one full send of the SYNC snapshot") {
    const auto& p = only(make_plan(inventory(fs("tank/a", 1, 5, 100)), {}, opts()));
    REQUIRE(p.sends.size() == 1);
    CHECK(p.sends[0].kind == Send::Kind::full);
    CHECK(p.sends[0].to == "tank/a@" + SYNC);
}

TEST_CASE("incremental: -I from the common snapshot") {
    const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110));
    const auto& p = only(make_plan(inventory(two_snaps), dst, opts()));
    CHECK(p.action == Action::transfer);
    CHECK(p.target_exists);
    CHECK(p.previous_common == "s1");
    REQUIRE(p.sends.size() == 1);
    CHECK(p.sends[0].intermediates);
    CHECK(p.sends[0].from == "tank/a@s1");
    CHECK(p.sends[0].to == "tank/a@" + SYNC);
    CHECK(p.sends[0].brings == std::vector<std::string>{"s2", SYNC});
}

TEST_CASE("no change: newest source snapshot on the target and nothing written -> skip") {
    const std::string src =
        fs("tank/a", 1, 5, 0) + snap("tank/a@s1", 11, 10) + snap("tank/a@zfs-puller_x", 12, 20);
    const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110) +
                                    snap("backup/a@zfs-puller_x", 12, 120));
    const auto& p = only(make_plan(inventory(src), dst, opts()));
    CHECK(p.action == Action::skip);
    CHECK_FALSE(p.sync_snapshot);
    CHECK(p.sends.empty());
    CHECK(p.newest == "zfs-puller_x");

    SUBCASE("always_snapshot forces a SYNC snapshot") {
        PlanOptions o = opts();
        o.always_snapshot = true;
        const auto& q = only(make_plan(inventory(src), dst, o));
        CHECK(q.action == Action::transfer);
        CHECK(q.sync_snapshot);
    }
    SUBCASE("bytes written since the newest snapshot -> transfer") {
        const std::string changed = fs("tank/a", 1, 5, 8192) + snap("tank/a@s1", 11, 10) +
                                    snap("tank/a@zfs-puller_x", 12, 20);
        const auto& q = only(make_plan(inventory(changed), dst, opts()));
        CHECK(q.action == Action::transfer);
        REQUIRE(q.sends.size() == 1);
        CHECK(q.sends[0].from == "tank/a@zfs-puller_x");
    }
    SUBCASE("a newer source snapshot the target lacks -> transfer") {
        const auto& q = only(make_plan(inventory(src + snap("tank/a@auto", 13, 30)), dst, opts()));
        CHECK(q.action == Action::transfer);
        CHECK(q.sends.at(0).brings == std::vector<std::string>{"auto", SYNC});
    }
}

TEST_CASE("from a bookmark: -i DS#BM DS@next, then -I") {
    // The target has s1 (guid 11); the source destroyed s1 but kept bookmark #s1.
    const std::string src = fs("tank/a", 1, 5, 10) + bm("tank/a#s1", 11, 10) +
                            snap("tank/a@s2", 12, 20, 300) + snap("tank/a@s3", 13, 30, 400);
    const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110));
    const auto& p = only(make_plan(inventory(src), dst, opts()));
    CHECK(p.previous_common.empty()); // a bookmark cannot be held or released
    REQUIRE(p.sends.size() == 2);
    CHECK_FALSE(p.sends[0].intermediates);
    CHECK(p.sends[0].from == "tank/a#s1");
    CHECK(p.sends[0].to == "tank/a@s2");
    CHECK(p.sends[0].estimate == 300);
    CHECK(p.sends[1].intermediates);
    CHECK(p.sends[1].from == "tank/a@s2");
    CHECK(p.sends[1].to == "tank/a@" + SYNC);

    SUBCASE("no snapshot after the bookmark: straight to the SYNC snapshot") {
        const auto& q = only(
            make_plan(inventory(fs("tank/a", 1, 5, 10) + bm("tank/a#s1", 11, 10)), dst, opts()));
        REQUIRE(q.sends.size() == 1);
        CHECK(q.sends[0].from == "tank/a#s1");
        CHECK(q.sends[0].to == "tank/a@" + SYNC);
    }
}

TEST_CASE("recursive with a clone: origin before clone, clone-aware -i from the origin") {
    // tank/data/a is a clone of tank/data/z@base: z must arrive first despite name order.
    const std::string src = fs("tank/data", 1, 2, 10) + fs("tank/data/z", 2, 3, 10) +
                            snap("tank/data/z@base", 21, 4) +
                            fs("tank/data/a", 3, 5, 10, "tank/data/z@base") +
                            snap("tank/data/a@c1", 31, 6) + fs("tank/data/a/kid", 4, 7, 10);
    const JobPlan plan = make_plan(inventory(src), {}, opts("tank/data", "backup/data", true));
    REQUIRE(plan.ok());
    std::vector<std::string> order;
    for (const auto& d : plan.datasets)
        order.push_back(d.source);
    CHECK(order ==
          std::vector<std::string>{"tank/data", "tank/data/z", "tank/data/a", "tank/data/a/kid"});

    const auto& clone = named(plan, "tank/data/a");
    CHECK(clone.target == "backup/data/a");
    REQUIRE(clone.sends.size() == 2);
    CHECK_FALSE(clone.sends[0].intermediates);
    CHECK(clone.sends[0].from == "tank/data/z@base");
    CHECK(clone.sends[0].from_guid == 21);
    CHECK(clone.sends[0].to == "tank/data/a@c1");
    CHECK(clone.sends[1].from == "tank/data/a@c1");
    // It needs its parent's target and its origin's snapshot from this run.
    CHECK(clone.depends_on == std::vector<std::string>{"tank/data", "tank/data/z"});
    CHECK(named(plan, "tank/data/a/kid").depends_on == std::vector<std::string>{"tank/data/a"});
    CHECK(named(plan, "tank/data").depends_on.empty());

    SUBCASE("origin already on the target: no dependency on the origin's transfer") {
        const Inventory dst = inventory(fs("backup/data", 9, 9) + fs("backup/data/z", 8, 9) +
                                        snap("backup/data/z@base", 21, 10));
        const JobPlan p2 = make_plan(inventory(src), dst, opts("tank/data", "backup/data", true));
        const auto& c2 = named(p2, "tank/data/a");
        CHECK(c2.sends.at(0).from == "tank/data/z@base");
        CHECK(c2.depends_on.empty());
    }
    SUBCASE("origin outside the job: the clone arrives as a full copy") {
        const JobPlan p3 = make_plan(inventory(src), {}, opts("tank/data/a", "backup/a", false));
        const auto& c3 = only(p3);
        CHECK(c3.sends.at(0).kind == Send::Kind::full);
        CHECK(c3.sends.at(0).to == "tank/data/a@c1");
    }
}

TEST_CASE("non-recursive jobs plan only the root") {
    const std::string src = fs("tank/a", 1, 2, 10) + fs("tank/a/b", 2, 3, 10);
    CHECK(make_plan(inventory(src), {}, opts()).datasets.size() == 1);
    CHECK(make_plan(inventory(src), {}, opts("tank/a", "backup/a", true)).datasets.size() == 2);
    CHECK_FALSE(make_plan(inventory(src), {}, opts("tank/zzz", "backup/a")).ok());
}

TEST_CASE("resume: -t TOKEN first, then -I from the snapshot it completes") {
    policy::test::TokenSpec spec;
    spec.toguid = 12;
    spec.toname = "tank/a@s2";
    spec.fromguid = 11;
    spec.object = 1;
    spec.offset = 0;
    spec.bytes = 1000;
    const std::string token = policy::test::kernel_token(spec);
    Inventory dst = inventory(fs("backup/a", 50, 100, 0) + snap("backup/a@s1", 11, 110));
    dst.at("backup/a").resume_token = token;
    const auto& p = only(make_plan(inventory(two_snaps), dst, opts()));
    CHECK(p.resumed);
    CHECK(p.action == Action::transfer);
    CHECK(p.previous_common == "s1");
    REQUIRE(p.sends.size() == 2);
    CHECK(p.sends[0].kind == Send::Kind::resume);
    CHECK(p.sends[0].token == token);
    CHECK(p.sends[0].from_guid == 11); // the token's fromguid
    CHECK(p.sends[0].flags.empty());
    CHECK(p.sends[0].remote_estimate);
    CHECK(p.sends[1].from == "tank/a@s2");
    CHECK(p.sends[1].to == "tank/a@" + SYNC);

    SUBCASE("partial first receive: the target exists only as a token") {
        Inventory d2;
        Dataset hidden;
        hidden.name = "backup/a";
        hidden.written = 123456; // an inconsistent dataset; not a divergence
        hidden.resume_token = token;
        d2.emplace("backup/a", hidden);
        const auto& q = only(make_plan(inventory(two_snaps), d2, opts()));
        CHECK(q.action == Action::transfer);
        REQUIRE(q.sends.size() == 2);
        CHECK(q.sends[0].kind == Send::Kind::resume);
        CHECK(q.sends[1].from == "tank/a@s2");
    }
    SUBCASE("resume completes the newest snapshot and nothing else changed") {
        const std::string quiet =
            fs("tank/a", 1, 5, 0) + snap("tank/a@s1", 11, 10) + snap("tank/a@s2", 12, 20);
        const auto& q = only(make_plan(inventory(quiet), dst, opts()));
        CHECK(q.action == Action::transfer);
        CHECK_FALSE(q.sync_snapshot);
        CHECK(q.sends.size() == 1);
        CHECK(q.newest == "s2");
        CHECK(q.previous_common == "s1");
    }
    SUBCASE("token for a snapshot the source no longer has -> fail, nothing sent") {
        const std::string gone = fs("tank/a", 1, 5, 10) + snap("tank/a@s1", 11, 10);
        const auto& q = only(make_plan(inventory(gone), dst, opts()));
        CHECK(q.action == Action::fail);
        CHECK(q.sends.empty());
        CHECK(q.reason.find("zfs receive -A backup/a") != std::string::npos);
    }
    SUBCASE("an undecodable token -> fail") {
        Inventory d3 = dst;
        d3.at("backup/a").resume_token = "1-00-00-00";
        CHECK(only(make_plan(inventory(two_snaps), d3, opts())).action == Action::fail);
    }
}

TEST_CASE("divergence is refused with a clear message; --force-rollback rolls back") {
    SUBCASE("newer target snapshots") {
        const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110) +
                                        snap("backup/a@mine", 99, 120));
        const auto& p = only(make_plan(inventory(two_snaps), dst, opts()));
        CHECK(p.action == Action::refuse);
        CHECK(p.sends.empty());
        CHECK_FALSE(p.sync_snapshot);
        CHECK(p.reason.find("backup/a") != std::string::npos);
        CHECK(p.reason.find("@mine") != std::string::npos);
        CHECK(p.reason.find("--force-rollback") != std::string::npos);
        PlanOptions o = opts();
        o.force_rollback = true;
        const auto& f = only(make_plan(inventory(two_snaps), dst, o));
        CHECK(f.action == Action::transfer);
        CHECK(f.rollback_to == "s1");
        CHECK_FALSE(f.force_receive);
        CHECK(f.sends.at(0).from == "tank/a@s1");
    }
    SUBCASE("written on the target since its newest snapshot") {
        const Inventory dst =
            inventory(fs("backup/a", 50, 100, 65536) + snap("backup/a@s2", 12, 110));
        const std::string quiet =
            fs("tank/a", 1, 5, 0) + snap("tank/a@s1", 11, 10) + snap("tank/a@s2", 12, 20);
        const auto& p = only(make_plan(inventory(quiet), dst, opts()));
        CHECK(p.action == Action::refuse); // even though the source did not change
        CHECK(p.reason.find("65536 bytes were written") != std::string::npos);
        PlanOptions o = opts();
        o.force_rollback = true;
        const auto& f = only(make_plan(inventory(quiet), dst, o));
        CHECK(f.action == Action::transfer);
        CHECK(f.force_receive);
        CHECK(f.rollback_to.empty());
        CHECK(f.sync_snapshot);
    }
    SUBCASE("target with snapshots but none in common: refused even with force") {
        const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@x", 98, 110));
        PlanOptions o = opts();
        o.force_rollback = true;
        const auto& p = only(make_plan(inventory(two_snaps), dst, o));
        CHECK(p.action == Action::refuse);
        CHECK(p.reason.find("no snapshot in common") != std::string::npos);
    }
    SUBCASE("an existing empty target: refused; with force a full receive -F") {
        const Inventory dst = inventory(fs("backup/a", 50, 100, 4096));
        CHECK(only(make_plan(inventory(two_snaps), dst, opts())).action == Action::refuse);
        PlanOptions o = opts();
        o.force_rollback = true;
        const auto& f = only(make_plan(inventory(two_snaps), dst, o));
        CHECK(f.action == Action::transfer);
        CHECK(f.force_receive);
        CHECK(f.sends.at(0).kind == Send::Kind::full);
    }
}

TEST_CASE("raw sends for encrypted datasets or raw = true; volumes keep their kind") {
    const std::string src = fs("tank/a", 1, 2, 10) +
                            row("tank/a/enc", "filesystem", 2, 3, "-", "aes-256-gcm", "10") +
                            vol("tank/a/vol", 3, 4, 10);
    const JobPlan p = make_plan(inventory(src), {}, opts("tank/a", "backup/a", true));
    CHECK(named(p, "tank/a").sends.at(0).flags == "Lce");
    CHECK(named(p, "tank/a/enc").sends.at(0).flags == "w");
    CHECK(named(p, "tank/a/enc").raw);
    CHECK(named(p, "tank/a/vol").kind == DatasetKind::volume);
    PlanOptions o = opts("tank/a", "backup/a", true);
    o.raw = true;
    for (const auto& d : make_plan(inventory(src), {}, o).datasets)
        CHECK(d.sends.at(0).flags == "w");
}

TEST_CASE("each send says which guid its stream must start from; the target's type is its own") {
    // The target is a filesystem whatever the listing claims; a new dataset has no type yet.
    const std::string src = row("tank/a", "volume", 1, 5, "-", "off", "10") +
                            snap("tank/a@s1", 11, 10) + snap("tank/a@s2", 12, 20) +
                            bm("tank/a#b0", 9, 8);
    const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110));
    const auto& inc = only(make_plan(inventory(src), dst, opts()));
    CHECK(inc.kind == DatasetKind::volume); // what the listing says
    CHECK(inc.target_kind == DatasetKind::filesystem);
    CHECK(inc.sends.at(0).from_guid == 11);

    const auto& first = only(make_plan(inventory(src), {}, opts()));
    CHECK_FALSE(first.target_kind);
    CHECK(first.sends.at(0).from_guid == 0);  // full
    CHECK(first.sends.at(1).from_guid == 11); // -I from the first snapshot

    const Inventory from_bm = inventory(fs("backup/a", 50, 100) + snap("backup/a@b0", 9, 90));
    CHECK(only(make_plan(inventory(src), from_bm, opts())).sends.at(0).from_guid == 9);
}

TEST_CASE("a SYNC snapshot name without the prefix is a planning error") {
    PlanOptions o = opts();
    o.sync_snapshot = "other_1";
    CHECK_FALSE(make_plan(inventory(two_snaps), {}, o).ok());
}

TEST_CASE("a dataset whose target name would be too long fails alone") {
    const std::string kid = "tank/a/" + std::string(240, 'k'); // 247 bytes: fine on the source
    const std::string src = fs("tank/a", 1, 2, 10) + fs(kid, 2, 3, 10) + fs("tank/a/b", 3, 3, 10);
    const JobPlan plan =
        make_plan(inventory(src), {}, opts("tank/a", "backup/longer/name/a", true));
    REQUIRE(plan.ok());
    CHECK(named(plan, kid).action == Action::fail);
    CHECK(named(plan, kid).reason.find("longer than 255 bytes") != std::string::npos);
    CHECK(named(plan, "tank/a/b").action == Action::transfer);
}

TEST_CASE("--force-rollback gives up only what the target made itself") {
    PlanOptions force = opts();
    force.force_rollback = true;
    SUBCASE("newer snapshots made on the target: rolled back, and the plan says which") {
        const Inventory dst =
            inventory(fs("backup/a", 50, 100, 512) + snap("backup/a@s1", 11, 110) +
                      snap("backup/a@mine", 99, 120));
        const auto& p = only(make_plan(inventory(two_snaps), dst, force));
        CHECK(p.action == Action::transfer);
        CHECK(p.rollback_to == "s1");
        CHECK(p.would_lose == std::vector<std::string>{"mine"});
        CHECK(p.discards_bytes == 512);
    }
    SUBCASE("a newer snapshot this host received (it carries the prefix): refused") {
        const Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110) +
                                        snap("backup/a@zfs-puller_20240101T000000Z", 98, 120));
        const auto& p = only(make_plan(inventory(two_snaps), dst, force));
        CHECK(p.action == Action::refuse);
        CHECK(p.rollback_to.empty());
        CHECK(p.reason.find("received from the source") != std::string::npos);
        CHECK(p.reason.find("--force-rollback does not") != std::string::npos);
    }
    SUBCASE("a newer snapshot of any name this host marked as received: refused") {
        Inventory dst = inventory(fs("backup/a", 50, 100) + snap("backup/a@s1", 11, 110) +
                                  snap("backup/a@auto", 98, 120));
        dst.at("backup/a").snapshots.back().received_at = 1700000000;
        CHECK(only(make_plan(inventory(two_snaps), dst, force)).action == Action::refuse);
        dst.at("backup/a").snapshots.back().received_at = 0; // made on the target
        CHECK(only(make_plan(inventory(two_snaps), dst, force)).action == Action::transfer);
    }
}

TEST_CASE("planning and retention are linear in the datasets of a job (16,000 datasets)") {
    // A wide, deep tree: tank/r/gG/dD, each dataset with three snapshots, half of them clones of
    // a sibling's snapshot; the target has every dataset with its first two snapshots.
    constexpr int groups = 160, per_group = 100;
    std::string src = fs("tank/r", 1, 2, 0) + snap("tank/r@a", 2, 3);
    std::string dst = fs("backup/r", 1, 2, 0) + snap("backup/r@a", 2, 3);
    std::uint64_t guid = 100;
    for (int g = 0; g < groups; ++g) {
        const std::string gname = "/g" + std::to_string(g);
        const std::uint64_t gfs = ++guid, gsnap = ++guid;
        src += fs("tank/r" + gname, gfs, 4, 0) + snap("tank/r" + gname + "@a", gsnap, 5);
        dst += fs("backup/r" + gname, gfs, 4, 0) + snap("backup/r" + gname + "@a", gsnap, 5);
        for (int d = 0; d < per_group; ++d) {
            const std::string name = gname + "/d" + std::to_string(d);
            const std::string origin =
                d % 2 == 1 ? "tank/r" + gname + "/d" + std::to_string(d - 1) + "@a" : "-";
            const std::uint64_t base = (guid += 10);
            src += fs("tank/r" + name, base, 6, 4096, origin) +
                   snap("tank/r" + name + "@a", base + 1, 7) +
                   snap("tank/r" + name + "@b", base + 2, 8) +
                   snap("tank/r" + name + "@zfs-puller_x", base + 3, 9);
            dst += fs("backup/r" + name, base + 5, 6, 0,
                      d % 2 == 1 ? "backup/r" + gname + "/d" + std::to_string(d - 1) + "@a" : "-") +
                   snap("backup/r" + name + "@a", base + 1, 7) +
                   snap("backup/r" + name + "@b", base + 2, 8);
        }
    }
    const Inventory source = inventory(src), target = inventory(dst);
    REQUIRE(source.size() == 1 + groups + groups * per_group);
    const PlanOptions o = opts("tank/r", "backup/r", true);
    const auto t0 = std::chrono::steady_clock::now();
    const JobPlan plan = make_plan(source, target, o);
    REQUIRE(plan.ok());
    // Retention as a run does it: origins once, then each dataset against its target.
    const Origins source_origins = clone_origins(source), target_origins = clone_origins(target);
    TargetRules rules;
    rules.keep = 1;
    rules.min_age_days = 0;
    rules.max_percent = 100;
    std::size_t destroys = 0;
    for (const auto& p : plan.datasets) {
        destroys += source_prune(p, source.at(p.source), o, 1, source_origins).size();
        const auto t = target.find(p.target);
        if (t == target.end()) continue;
        std::set<std::uint64_t> guids;
        for (const auto& s : source.at(p.source).snapshots)
            guids.insert(s.guid);
        destroys += target_prune(t->second, nullptr, guids, target_origins, rules).destroy.size();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("planned ", plan.datasets.size(), " datasets and their retention in ", seconds, " s");
    CHECK(plan.datasets.size() == source.size());
    CHECK(destroys > 0);
    CHECK(seconds < 5); // quadratic planning took about 30 s here
}

TEST_CASE("planning is near-linear in the snapshots of a dataset (20,000 snapshots)") {
    constexpr int n = 20000;
    std::string src = fs("tank/a", 1, 2, 10), dst = fs("backup/a", 1, 2, 0);
    for (int i = 0; i < n; ++i) {
        const std::string name = "@s" + std::to_string(i);
        src += snap("tank/a" + name, 100 + i, 10 + i);
        if (i < n / 2) dst += snap("backup/a" + name, 100 + i, 10 + i);
    }
    const Inventory source = inventory(src), target = inventory(dst);
    const auto t0 = std::chrono::steady_clock::now();
    const auto& incremental = only(make_plan(source, target, opts()));
    const auto& first = only(make_plan(source, {}, opts()));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    MESSAGE("planned an increment of 10,000 and a first pull of 20,000 snapshots in ", seconds,
            " s");
    CHECK(incremental.sends.at(0).brings.size() == n / 2 + 1);
    CHECK(first.sends.at(1).brings.size() == n);
    CHECK(seconds < 2);
}

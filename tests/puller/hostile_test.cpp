// The whole zfs-puller program against a fake source and a fake local zfs (fake_zfs_world.hpp):
// what a hostile source can and cannot make the backup host do. Each case runs the real program
// in a child process and checks the local zfs argv, the remote commands and both sides' state.
//
// main() is fake_world_main.cpp's: started through the world's `ssh` / `zfs` symlinks, the
// binary plays those programs; otherwise it runs the tests.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <thread>

#include "tests/puller/fake_zfs_world.hpp"

using fake_world::Argv;
using fake_world::Row;
using fake_world::RunResult;
using fake_world::World;

namespace {

const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));
constexpr std::int64_t day = 86400;

Row filesystem(const std::string& name, std::uint64_t guid, std::uint64_t txg,
               std::uint64_t written = 0) {
    Row r;
    r.name = name;
    r.type = "filesystem";
    r.guid = guid;
    r.createtxg = txg;
    r.written = written;
    r.creation = now - 400 * day;
    return r;
}

Row snapshot(const std::string& name, std::uint64_t guid, std::uint64_t txg,
             std::int64_t creation = now - 30 * day) {
    Row r;
    r.name = name;
    r.type = "snapshot";
    r.guid = guid;
    r.createtxg = txg;
    r.written = 1000;
    r.creation = creation;
    return r;
}

bool has(const Argv& argv, const std::string& word) {
    return std::find(argv.begin(), argv.end(), word) != argv.end();
}

// The local `zfs receive` argv of the run, in order.
std::vector<Argv> receives(const World& w) {
    std::vector<Argv> out;
    for (const auto& a : w.local_log())
        if (a.size() > 1 && a[1] == "receive") out.push_back(a);
    return out;
}

std::string show(const RunResult& r) {
    return "exit " + std::to_string(r.status) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

// A source dataset tank/a with two snapshots, and the target's parent.
void two_snapshot_source(World& w) {
    w.add_source(filesystem("tank/a", 1, 5, 4096));
    w.add_source(snapshot("tank/a@s1", 11, 10));
    w.add_source(snapshot("tank/a@s2", 12, 20));
    w.add_target(filesystem("backup", 500, 2));
}

} // namespace

TEST_CASE("the fakes: a first pull, then an incremental one, through the real program") {
    World w;
    two_snapshot_source(w);
    const RunResult first = w.run(w.pull_args("tank/a", "backup/a"));
    REQUIRE_MESSAGE(first.status == 0, show(first));
    const auto snaps = w.target_snapshots("backup/a");
    REQUIRE(snaps.size() == 3);
    CHECK(snaps[0] == "s1");
    CHECK(snaps[1] == "s2");
    CHECK(snaps[2].starts_with("zfs-puller_"));
    const auto remote = w.remote_log();
    REQUIRE(remote.size() >= 5);
    CHECK(remote[0].starts_with("zfs list -H -p -r -t all"));
    CHECK(remote[1].starts_with("zfs snapshot -- tank/a@zfs-puller_"));
    const auto rx = receives(w);
    REQUIRE(rx.size() == 2); // full of s1, then -I to the sync snapshot
    for (const auto& r : rx) {
        CHECK(has(r, "-u"));
        CHECK(has(r, "readonly=on"));
        CHECK(has(r, "canmount=noauto"));
        CHECK(r.back() == "backup/a");
    }

    // A change on the source, then the next run sends only the increment (a second later: the
    // sync snapshot is named after the second).
    w.add_source(snapshot("tank/a@s3", 13, 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    const RunResult second = w.run(w.pull_args("tank/a", "backup/a"));
    REQUIRE_MESSAGE(second.status == 0, show(second));
    CHECK(w.target_snapshots("backup/a").size() == 5);
    CHECK(receives(w).size() == 3);
    CHECK(second.out.find("\"status\":\"transferred\"") != std::string::npos);
}

// --- 1. The receive hardening comes from the target, never from the source's listing ---------

namespace {

const char* const filesystem_overrides[] = {"readonly=on", "canmount=noauto", "setuid=off",
                                            "exec=off",    "devices=off",     "sharenfs=off",
                                            "sharesmb=off"};

void check_filesystem_receive(const Argv& r) {
    CHECK(has(r, "-u"));
    CHECK(has(r, "-x"));
    CHECK(has(r, "mountpoint"));
    for (const char* o : filesystem_overrides)
        CHECK_MESSAGE(has(r, o), o, " missing");
}

} // namespace

TEST_CASE("1: a filesystem listed as a volume still gets every filesystem override") {
    World w;
    two_snapshot_source(w);
    w.set("list.type.tank/a", "volume");

    SUBCASE("into an existing filesystem target") {
        w.add_target(filesystem("backup/a", 600, 30));
        w.add_target(snapshot("backup/a@s1", 11, 31));
        const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
        CHECK_MESSAGE(r.status == 0, show(r));
        const auto rx = receives(w);
        REQUIRE(rx.size() == 1);
        check_filesystem_receive(rx[0]);
    }
    SUBCASE("into a new dataset: the stream's type decides") {
        const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
        CHECK_MESSAGE(r.status == 0, show(r));
        const auto rx = receives(w);
        REQUIRE(rx.size() == 2);
        for (const auto& a : rx)
            check_filesystem_receive(a);
    }
}

TEST_CASE("1: a volume is received with volmode=none and readonly=on") {
    World w;
    Row v = filesystem("tank/v", 1, 5, 4096);
    v.type = "volume";
    w.add_source(v);
    w.add_source(snapshot("tank/v@s1", 11, 10));
    w.add_target(filesystem("backup", 500, 2));
    const RunResult r = w.run(w.pull_args("tank/v", "backup/v"));
    CHECK_MESSAGE(r.status == 0, show(r));
    const auto rx = receives(w);
    REQUIRE(rx.size() == 2);
    for (const auto& a : rx) {
        CHECK(has(a, "volmode=none"));
        CHECK(has(a, "readonly=on"));
        CHECK_FALSE(has(a, "canmount=noauto")); // zfs refuses filesystem properties on volumes
    }
    CHECK(w.target_snapshots("backup/v").size() == 2);
}

TEST_CASE("1: a stream whose type contradicts the target is refused before zfs receive sees it") {
    World w;
    two_snapshot_source(w);
    w.add_target(filesystem("backup/a", 600, 30));
    w.add_target(snapshot("backup/a@s1", 11, 31));
    w.set("send.type", "volume");
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
    CHECK_MESSAGE(r.status == 1, show(r));
    CHECK(w.target_snapshots("backup/a") == std::vector<std::string>{"s1"});
    CHECK(r.err.find("volume") != std::string::npos);
}

TEST_CASE("1: a stream that would create other datasets is stopped before them") {
    World w;
    two_snapshot_source(w);

    SUBCASE("a child, as in a replication (-R) stream") {
        w.set("send.mode", "child");
        const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
        CHECK_MESSAGE(r.status == 1, show(r));
        for (const auto& row : w.target())
            CHECK_MESSAGE(row.name.find("evil") == std::string::npos, row.name, " was created");
        CHECK(r.err.find("tank/a/evil") != std::string::npos);
    }
    SUBCASE("a stream of another dataset") {
        w.set("send.mode", "other-dataset");
        const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
        CHECK_MESSAGE(r.status == 1, show(r));
        CHECK(w.target_snapshots("backup/a").empty());
    }
}

// --- 2. Retention from the target's own listing, with a floor ---------------------------------

namespace {

// backup/a with `n` own snapshots, one a day up to yesterday, all also on the source.
void daily_history(World& w, int n) {
    w.add_source(filesystem("tank/a", 1, 5, 0));
    w.add_target(filesystem("backup", 500, 2));
    w.add_target(filesystem("backup/a", 600, 3));
    for (int i = 1; i <= n; ++i) {
        const std::string name = "zfs-puller_d" + std::to_string(100 + i);
        const std::int64_t created = now - (n + 1 - i) * day;
        w.add_source(snapshot("tank/a@" + name, 1000 + i, 10 + i, created));
        w.add_target(snapshot("backup/a@" + name, 1000 + i, 10 + i, created));
    }
}

} // namespace

namespace {

std::size_t missing_old(const World& w, int n) {
    std::size_t gone = 0;
    const auto now_there = w.target_snapshots("backup/a");
    for (int i = 1; i <= n; ++i)
        if (std::find(now_there.begin(), now_there.end(),
                      "zfs-puller_d" + std::to_string(100 + i)) == now_there.end())
            ++gone;
    return gone;
}

} // namespace

TEST_CASE("2: a source that lists 31 new snapshots cannot wipe the target's history") {
    World w;
    daily_history(w, 30);
    for (int i = 1; i <= 31; ++i)
        w.add_source(
            snapshot("tank/a@zfs-puller_n" + std::to_string(100 + i), 2000 + i, 100 + i, now - 60));
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
    CHECK_MESSAGE(r.status == 0, show(r));
    const std::size_t gone = missing_old(w, 30);
    // Defaults: nothing younger than 7 days, at most 10 % of the dataset's own snapshots
    // (here 62) in one run.
    CHECK_MESSAGE(gone <= 6, gone, " of 30 old snapshots destroyed");
    const auto left = w.target_snapshots("backup/a");
    for (int i = 24; i <= 30; ++i) // the last week
        CHECK(std::find(left.begin(), left.end(), "zfs-puller_d" + std::to_string(100 + i)) !=
              left.end());
    for (int i = 1; i <= 31; ++i) // everything this run received
        CHECK(std::find(left.begin(), left.end(), "zfs-puller_n" + std::to_string(100 + i)) !=
              left.end());
}

TEST_CASE("2: pruning that would destroy more than the run received is refused, and says so") {
    World w;
    daily_history(w, 40); // all but the last 7 older than a week; keep_target is 30
    w.add_source(snapshot("tank/a@auto-new", 5000, 500, now - 60));
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
    CHECK_MESSAGE(r.status == 0, show(r));
    CHECK(missing_old(w, 40) == 0);
    CHECK(r.err.find("pruning backup/a refused") != std::string::npos);
}

// --- 3. Rollback only of what the target made itself ------------------------------------------

TEST_CASE("3: --force-rollback never rolls back over snapshots the target received") {
    World w;
    daily_history(w, 5);
    // The source now lists only the oldest of them.
    for (int i = 2; i <= 5; ++i)
        w.remove_source("tank/a@zfs-puller_d" + std::to_string(100 + i));
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a", {"--force-rollback"}));
    CHECK_MESSAGE(r.status == 3, show(r));
    CHECK(w.target_snapshots("backup/a").size() == 5);
    for (const auto& a : w.local_log())
        CHECK(a.at(1) != "rollback");
    CHECK(r.err.find("received") != std::string::npos);

    SUBCASE("snapshots of any name that an earlier run marked as received") {
        World m;
        m.add_source(filesystem("tank/a", 1, 5, 0));
        m.add_source(snapshot("tank/a@s1", 11, 10));
        m.add_target(filesystem("backup", 500, 2));
        m.add_target(filesystem("backup/a", 600, 3));
        m.add_target(snapshot("backup/a@s1", 11, 10));
        m.add_target(snapshot("backup/a@auto-2", 12, 20));
        m.set_marker("backup/a@auto-2", std::to_string(now - day));
        const RunResult rm = m.run(m.pull_args("tank/a", "backup/a", {"--force-rollback"}));
        CHECK_MESSAGE(rm.status == 3, show(rm));
        CHECK(m.target_snapshots("backup/a").size() == 2);
    }
}

TEST_CASE("3: what arrives is marked as received, with the time it arrived") {
    World w;
    two_snapshot_source(w);
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
    REQUIRE_MESSAGE(r.status == 0, show(r));
    const auto marks = w.markers();
    CHECK(marks.size() == 3);
    for (const auto& s : w.target_snapshots("backup/a")) {
        REQUIRE(marks.contains("backup/a@" + s));
        CHECK(std::llabs(std::stoll(marks.at("backup/a@" + s)) - now) < 120);
    }
}

TEST_CASE("3: --force-rollback still discards what was made on the target, and --dry-run says "
          "what") {
    World w;
    two_snapshot_source(w);
    w.add_target(filesystem("backup/a", 600, 30));
    w.add_target(snapshot("backup/a@s1", 11, 31));
    w.add_target(snapshot("backup/a@mine", 99, 40, now - day));

    const RunResult dry =
        w.run(w.pull_args("tank/a", "backup/a", {"--force-rollback", "--dry-run"}));
    CHECK_MESSAGE(dry.status == 0, show(dry));
    CHECK(dry.out.find("rollback -r -- backup/a@s1") != std::string::npos);
    CHECK_MESSAGE(dry.out.find("backup/a@mine") != std::string::npos, dry.out);
    CHECK(w.target_snapshots("backup/a").size() == 2);

    const RunResult r = w.run(w.pull_args("tank/a", "backup/a", {"--force-rollback"}));
    CHECK_MESSAGE(r.status == 0, show(r));
    const auto left = w.target_snapshots("backup/a");
    CHECK(std::find(left.begin(), left.end(), "mine") == left.end());
    CHECK(std::find(left.begin(), left.end(), "s2") != left.end());
}

TEST_CASE("3: a forced receive cannot roll back further than the newest common snapshot") {
    World w;
    two_snapshot_source(w);
    w.add_source(snapshot("tank/a@s3", 13, 30));
    w.add_target(filesystem("backup/a", 600, 30, 8192)); // written since s2: receive -F
    w.add_target(snapshot("backup/a@s1", 11, 31));
    w.add_target(snapshot("backup/a@s2", 12, 32));
    w.set("send.mode", "from-oldest"); // the stream starts from s1: -F would destroy s2
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a", {"--force-rollback"}));
    CHECK_MESSAGE(r.status == 1, show(r));
    const auto left = w.target_snapshots("backup/a");
    CHECK(std::find(left.begin(), left.end(), "s2") != left.end());
}

// --- 4. Limits -----------------------------------------------------------------------------------

TEST_CASE("4: every wait and every size the source controls has a limit, with a clear error") {
    struct Limit {
        const char* what;
        std::vector<std::pair<std::string, std::string>> source; // behaviour switches
        Argv options;
        int status;        // 4: the job could not run; 1: the dataset failed
        const char* error; // in stderr
        double within;     // seconds (the old code never ended: killed at `limit`)
    };
    const Limit rows[] = {
        {"an endless listing", {{"list.mode", "endless"}}, {}, 4, "listing", 15},
        {"a listing that never comes",
         {{"list.mode", "hang"}},
         {"--stall-timeout", "2"},
         4,
         "no answer for 2 s (stall_timeout)",
         8},
        {"a master that never connects",
         {{"master.mode", "hang"}},
         {"--connect-timeout", "2"},
         4,
         "no connection after 2 s (connect_timeout)",
         8},
        {"an endless stream against a 1 MiB estimate",
         {{"send.mode", "endless"}, {"send.estimate", "1048576"}},
         {},
         1,
         "the stream passed 671088640 bytes, the cap for an estimate of 1048576 bytes",
         25},
        {"a stream that stops moving",
         {{"send.mode", "stall"}},
         {"--stall-timeout", "2"},
         1,
         "the stream moved nothing for 2 s (stall_timeout)",
         10},
    };
    for (const auto& row : rows) {
        const std::string what = row.what;
        CAPTURE(what);
        World w;
        two_snapshot_source(w);
        for (const auto& [key, value] : row.source)
            w.set(key, value);
        const RunResult r = w.run(w.pull_args("tank/a", "backup/a", row.options), 30);
        CHECK_MESSAGE(r.status == row.status, show(r));
        CHECK_MESSAGE(r.err.find(row.error) != std::string::npos, r.err);
        CHECK(r.seconds < row.within);
    }
}

TEST_CASE("4: SIGTERM stops a run that waits for a source that never answers") {
    World w;
    two_snapshot_source(w);
    w.set("list.mode", "hang");
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"), 10, 1);
    CHECK_MESSAGE(r.status == 143, show(r));
    CHECK(r.seconds < 5);
}

TEST_CASE("4: a second run of the same job is refused while the first holds the lock") {
    World w;
    two_snapshot_source(w);
    w.set("list.mode", "hang");
    const auto first = w.start(w.pull_args("tank/a", "backup/a"));
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const RunResult second = w.run(w.pull_args("tank/a", "backup/a"), 10);
    CHECK_MESSAGE(second.status == 4, show(second));
    CHECK(second.err.find("lock") != std::string::npos);
    const RunResult r1 = w.finish(first, 10, 0.01);
    CHECK(r1.status == 143);
}

// --- 5. Hostile names, escaped messages ----------------------------------------------------------

TEST_CASE("5: a hostile name fails that job with exit 4; the other jobs still run") {
    const std::string long_name = "tank/bad/" + std::string(300, 'x');
    for (const std::string& hostile :
         {std::string("tank/bad/..\tfilesystem\t77\t10\t-\toff\t0\n"),
          long_name + "\tfilesystem\t78\t10\t-\toff\t0\n",
          std::string("tank/bad@a@b\tsnapshot\t79\t11\t-\toff\t0\n")}) {
        CAPTURE(hostile);
        World w;
        w.add_source(filesystem("tank/bad", 1, 5, 10));
        w.add_source(filesystem("tank/good", 2, 5, 10));
        w.add_source(snapshot("tank/good@s1", 21, 6));
        w.add_target(filesystem("backup", 500, 2));
        w.set("list.extra", hostile);
        const std::string config =
            w.config("[job.bad]\nsource = \"zb@fake.example:tank/bad\"\ntarget = \"backup/bad\"\n"
                     "recursive = true\n\n"
                     "[job.good]\nsource = \"zb@fake.example:tank/good\"\ntarget = "
                     "\"backup/good\"\n");
        const RunResult r = w.run({"--config", config, "--progress", "none"});
        CHECK_MESSAGE(r.status == 4, show(r));
        CHECK(w.target_snapshots("backup/good").size() == 2);
        CHECK(w.target_snapshots("backup/bad").empty());
    }
}

TEST_CASE("5: a large tree is asked about in batches, so no argv is too long") {
    World w;
    std::vector<Row> tree{filesystem("tank/big", 1, 5, 10)};
    for (int i = 0; i < 2500; ++i)
        tree.push_back(filesystem("tank/big/d" + std::to_string(i), 100 + i, 5, 10));
    w.add_source(tree);
    w.add_target(filesystem("backup", 500, 2));
    const RunResult r = w.run(w.pull_args("tank/big", "backup/big", {"--recursive", "--dry-run"}));
    CHECK_MESSAGE(r.status == 0, show(r));
    std::vector<std::size_t> batches;
    for (const auto& a : w.local_log())
        if (a.size() > 1 && a[1] == "get" && has(a, "receive_resume_token"))
            batches.push_back(a.size() - 8);
    CHECK(batches == std::vector<std::size_t>{1000, 1000, 501});
}

TEST_CASE("5: the source's stderr is printed escaped") {
    World w;
    two_snapshot_source(w);
    w.set("list.mode", "fail");
    w.set("list.stderr", "cannot list: \x1b]0;owned\x07\x1b[2J\r\xff done\n");
    const RunResult r = w.run(w.pull_args("tank/a", "backup/a"));
    CHECK_MESSAGE(r.status == 4, show(r));
    CHECK(r.err.find('\x1b') == std::string::npos);
    CHECK(r.err.find('\x07') == std::string::npos);
    CHECK(r.err.find('\r') == std::string::npos);
    CHECK(r.err.find("\\x1b]0;owned\\x07") != std::string::npos);
}

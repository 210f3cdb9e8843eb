// The state file and `zfs-puller status` through the real program against the fake source and
// local zfs (fake_zfs_world.hpp): a pull writes the state and the textfile, status says ok and
// exits 0; a failing source gives failing and exit 2; a job that never ran is "never"; a torn
// state file is reported, counts as unknown, and the next run rewrites it.
//
// main() is fake_world_main.cpp's: started through the world's `ssh` / `zfs` symlinks, the
// binary plays those programs; otherwise it runs the tests.
#include <doctest/doctest.h>

#include <chrono>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "tests/ops/exposition_checker.hpp"
#include "tests/puller/fake_zfs_world.hpp"
#include "tests/support.hpp"

using fake_world::Row;
using fake_world::RunResult;
using fake_world::World;

namespace {

const std::int64_t now = static_cast<std::int64_t>(std::time(nullptr));

Row row(const std::string& name, const std::string& type, std::uint64_t guid, std::uint64_t txg) {
    Row r;
    r.name = name;
    r.type = type;
    r.guid = guid;
    r.createtxg = txg;
    r.written = 1000;
    r.creation = now - 86400 + static_cast<std::int64_t>(txg);
    return r;
}

std::string show(const RunResult& r) {
    return "exit " + std::to_string(r.status) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

// tank/a with two snapshots on the source; job "a" pulls it into backup/a, job "b" (never run)
// would pull tank/b; the run writes the textfile.
struct StatusWorld {
    World w;
    std::string config, textfile, state;
    StatusWorld() {
        w.add_source(row("tank/a", "filesystem", 1, 5));
        w.add_source(row("tank/a@s1", "snapshot", 11, 10));
        w.add_source(row("tank/a@s2", "snapshot", 12, 20));
        w.add_target(row("backup", "filesystem", 500, 2));
        textfile = w.dir() + "/zfs_puller.prom";
        state = w.dir() + "/state/backup%a.state.json";
        config = w.config("[job.a]\nsource = \"zb@fake.example:tank/a\"\ntarget = \"backup/a\"\n"
                          "\n[job.b]\nsource = \"zb@fake.example:tank/b\"\ntarget = \"backup/b\"\n"
                          "\n[status]\nprometheus_textfile = \"" +
                          textfile + "\"\n");
    }
    RunResult pull_a() const {
        return w.run({"--config", config, "--job", "a", "--progress", "none"});
    }
    RunResult status(const std::vector<std::string>& extra = {}) const {
        std::vector<std::string> args{"status", "--config", config};
        args.insert(args.end(), extra.begin(), extra.end());
        return w.run(args);
    }
};

double sample(const std::string& text, const std::string& name, const std::string& dataset) {
    std::vector<test_support::ParsedSample> samples;
    REQUIRE_MESSAGE(test_support::check_exposition(text, &samples) == "", text);
    for (const auto& s : samples)
        if (s.name == name && s.labels.count("dataset") && s.labels.at("dataset") == dataset)
            return s.value;
    FAIL("no sample " << name << " for " << dataset);
    return -1;
}

} // namespace

TEST_CASE("a pull writes the state and the textfile; status says ok for it and exits 0") {
    StatusWorld sw;
    const RunResult pull = sw.pull_a();
    REQUIRE_MESSAGE(pull.status == 0, show(pull));
    // The run's info lines (stderr is no journal stream here: plain).
    CHECK_MESSAGE(pull.err.find("zfs-puller: a: ok: 1 dataset (1 transferred)") !=
                      std::string::npos,
                  pull.err);
    const auto st = nlohmann::json::parse(test_support::read_file(sw.state));
    CHECK(st["format"] == "zfs-puller-state");
    CHECK(st["job"] == "a");
    const auto& a = st["datasets"]["tank/a"];
    CHECK(a["target"] == "backup/a");
    CHECK(a["last_attempt_ok"] == true);
    CHECK(a["last_success"].get<std::int64_t>() >= now);
    CHECK(a["newest_snapshot"].get<std::string>().starts_with("zfs-puller_"));
    CHECK(a["last_transfer_bytes"].get<std::uint64_t>() > 0);

    const RunResult only_a = sw.status({"--job", "a"});
    CHECK_MESSAGE(only_a.status == 0, show(only_a));
    CHECK(only_a.out.starts_with("JOB "));
    CHECK(only_a.out.find("tank/a") != std::string::npos);
    CHECK(only_a.out.find(" ok ") != std::string::npos);

    const RunResult json = sw.status({"--job", "a", "--json"});
    CHECK_MESSAGE(json.status == 0, show(json));
    const auto j = nlohmann::json::parse(json.out);
    REQUIRE(j["datasets"].size() == 1);
    CHECK(j["datasets"][0]["state"] == "ok");
    CHECK(j["datasets"][0]["newest_snapshot_creation"].is_string()); // from the listing after

    // The run's textfile covers every job of the configuration; b never ran.
    const std::string prom = test_support::read_file(sw.textfile);
    CHECK(sample(prom, "zfs_puller_failing", "tank/a") == 0);
    CHECK(sample(prom, "zfs_puller_last_success_timestamp_seconds", "tank/a") >= now);
    CHECK(sample(prom, "zfs_puller_last_transfer_bytes", "tank/a") > 0);
    CHECK(sample(prom, "zfs_puller_last_success_timestamp_seconds", "tank/b") == 0);

    // All jobs: b has never run, which is critical.
    const RunResult all = sw.status({"--prometheus", sw.w.dir() + "/mine.prom"});
    CHECK_MESSAGE(all.status == 2, show(all));
    CHECK(all.out.find("never") != std::string::npos);
    CHECK(sample(test_support::read_file(sw.w.dir() + "/mine.prom"), "zfs_puller_failing",
                 "tank/a") == 0);

    // Thresholds from the command line: two seconds later the success is older than --warn.
    std::this_thread::sleep_for(std::chrono::milliseconds(2100));
    const RunResult stale = sw.status({"--job", "a", "--warn", "1s", "--crit", "1d"});
    CHECK_MESSAGE(stale.status == 1, show(stale));
    CHECK(stale.out.find("stale") != std::string::npos);
}

TEST_CASE("a failing source: status says failing and exits 2; the next good run recovers") {
    StatusWorld sw;
    REQUIRE(sw.pull_a().status == 0);
    sw.w.set("list.mode", "fail");
    sw.w.set("list.stderr", "cannot open 'tank/a': pool I/O is currently suspended\n");
    const RunResult bad = sw.pull_a();
    CHECK_MESSAGE(bad.status == 4, show(bad));
    const RunResult st = sw.status({"--job", "a"});
    CHECK_MESSAGE(st.status == 2, show(st));
    CHECK(st.out.find("failing") != std::string::npos);
    CHECK(st.out.find("pool I/O is currently suspended") != std::string::npos);
    const std::string prom = test_support::read_file(sw.textfile);
    CHECK(sample(prom, "zfs_puller_failing", "tank/a") == 1);
    // The last success is still there.
    CHECK(sample(prom, "zfs_puller_last_success_timestamp_seconds", "tank/a") >= now);

    sw.w.set("list.mode", "");
    const RunResult good = sw.pull_a();
    REQUIRE_MESSAGE(good.status == 0, show(good));
    CHECK(sw.status({"--job", "a"}).status == 0);
}

TEST_CASE("a first run that cannot reach the source is failing, not never") {
    StatusWorld sw;
    sw.w.set("list.mode", "fail");
    sw.w.set("list.stderr", "permission denied\n");
    CHECK(sw.pull_a().status == 4);
    const RunResult st = sw.status({"--job", "a", "--json"});
    CHECK_MESSAGE(st.status == 2, show(st));
    const auto j = nlohmann::json::parse(st.out);
    REQUIRE(j["datasets"].size() == 1);
    CHECK(j["datasets"][0]["dataset"] == "tank/a");
    CHECK(j["datasets"][0]["state"] == "failing");
    CHECK(j["datasets"][0]["last_error"].get<std::string>().find("permission denied") !=
          std::string::npos);
}

TEST_CASE("a torn state file: reported, unknown until the next run rewrites it") {
    StatusWorld sw;
    REQUIRE(sw.pull_a().status == 0);
    const std::string whole = test_support::read_file(sw.state);
    std::ofstream(sw.state, std::ios::trunc) << whole.substr(0, whole.size() / 3);
    const RunResult st = sw.status({"--job", "a"});
    CHECK_MESSAGE(st.status == 2, show(st));
    CHECK(st.err.find("not valid JSON") != std::string::npos);
    CHECK(st.out.find("state unknown") != std::string::npos);
    // The next run warns, starts a new state and succeeds.
    const RunResult again = sw.pull_a();
    REQUIRE_MESSAGE(again.status == 0, show(again));
    CHECK(again.err.find("starting a new state file") != std::string::npos);
    CHECK(sw.status({"--job", "a"}).status == 0);
}

TEST_CASE("--quiet: a good run says nothing on stderr; a dry run writes no state") {
    StatusWorld sw;
    const RunResult dry =
        sw.w.run({"--config", sw.config, "--job", "a", "--progress", "none", "--dry-run"});
    REQUIRE_MESSAGE(dry.status == 0, show(dry));
    CHECK_FALSE(std::ifstream(sw.state).good());
    const RunResult quiet =
        sw.w.run({"--config", sw.config, "--job", "a", "--progress", "none", "--quiet"});
    REQUIRE_MESSAGE(quiet.status == 0, show(quiet));
    CHECK_MESSAGE(quiet.err.empty(), quiet.err);
    CHECK(std::ifstream(sw.state).good());
}

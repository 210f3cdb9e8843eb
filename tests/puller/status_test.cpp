// zfs-puller's state file, `status` and messages: the state's JSON both ways and its refusal of
// torn or foreign files, the file replaced atomically and recovered after a torn write, the
// verdicts and exit codes at a fixed "now", the Prometheus text parsed back by the independent
// checker, the command line and [status] keys, and the stderr format (journald prefixes only
// when JOURNAL_STREAM names fd 2, plain otherwise, --quiet).
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fcntl.h>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/prometheus.hpp"
#include "puller/command_line.hpp"
#include "puller/config.hpp"
#include "puller/messages.hpp"
#include "puller/state.hpp"
#include "puller/state_file.hpp"
#include "puller/status.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tests/ops/exposition_checker.hpp"
#include "tests/support.hpp"

using namespace puller;

namespace {

constexpr std::int64_t now = 1796363797; // a fixed "now" (2026-12-04T05:56:37Z)
constexpr std::int64_t hour = 3600;

void write_all(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

DatasetState succeeded(std::int64_t when, std::uint64_t bytes = 4096) {
    DatasetState d;
    d.target = "backup/a";
    record_success(d, when, "zfs-puller_2026-12-04_03:00:00", when - 60, bytes);
    return d;
}

JobState sample_state() {
    JobState s;
    s.job = "home";
    s.target = "backup/home";
    s.datasets["tank/home"] = succeeded(now - hour);
    DatasetState failed = succeeded(now - 30 * hour);
    record_failure(failed, now - hour, "cannot list: \x1b]0;owned\x07 \xff");
    s.datasets["tank/home/mail"] = failed;
    return s;
}

} // namespace

TEST_CASE("the state's JSON goes both ways") {
    const JobState s = sample_state();
    std::string error;
    const auto back = decode_state(encode_state(s), error);
    REQUIRE_MESSAGE(back.has_value(), error);
    CHECK(*back == s);
    // Text from outside is stored escaped: printable ASCII only.
    CHECK(s.datasets.at("tank/home/mail").last_error == "cannot list: \\x1b]0;owned\\x07 \\xff");
    CHECK(state_file_name("backup/nas/home") == "backup%nas%home.state.json");
}

TEST_CASE("record_success and record_failure") {
    DatasetState d = succeeded(now - 2 * hour, 5000);
    CHECK(d.last_attempt_ok);
    CHECK(d.last_success == now - 2 * hour);
    record_failure(d, now - hour, "boom");
    CHECK_FALSE(d.last_attempt_ok);
    CHECK(d.last_success == now - 2 * hour); // the last success stays
    CHECK(d.last_error_time == now - hour);
    // A run that moved nothing keeps the last transfer's size and the creation it knew.
    record_success(d, now, "zfs-puller_2026-12-04_03:00:00", 0, 0);
    CHECK(d.last_attempt_ok);
    CHECK(d.last_transfer_bytes == 5000);
    CHECK(d.newest_snapshot_creation == now - 2 * hour - 60);
    record_success(d, now, "zfs-puller_2026-12-05_03:00:00", 0, 7);
    CHECK(d.newest_snapshot_creation == 0); // a new snapshot whose creation is not known yet
    CHECK(d.last_transfer_bytes == 7);
}

TEST_CASE("a torn, foreign or edited state is refused whole") {
    const std::string text = encode_state(sample_state());
    std::string error;
    // Every cut of the file short of its final newline (a torn write) is refused.
    for (std::size_t n = 0; n + 1 < text.size(); ++n) {
        CAPTURE(n);
        CHECK_FALSE(decode_state(text.substr(0, n), error).has_value());
        CHECK(error != "");
    }
    for (
        const std::string& bad : std::vector<std::string>{
            std::string(R"({"format":"zfs-puller-state","version":2,"datasets":{}})"),
            std::string(R"({"format":"something-else","version":1,"datasets":{}})"),
            std::string(R"([1,2,3])"),
            std::string(R"({"format":"zfs-puller-state","version":1,"datasets":[]})"),
            std::string(R"({"format":"zfs-puller-state","version":1,"datasets":{"a":1}})"),
            std::string(
                R"({"format":"zfs-puller-state","version":1,"datasets":{"a":{"last_success":-5}}})"),
            std::string(
                R"({"format":"zfs-puller-state","version":1,"datasets":{"a":{"last_success":"x"}}})"),
            std::string(
                R"({"format":"zfs-puller-state","version":1,"datasets":{"a":{"last_transfer_bytes":-1}}})"),
            std::string(
                R"({"format":"zfs-puller-state","version":1,"datasets":{"a":{"last_attempt_ok":1}}})"),
            std::string(
                R"({"format":"zfs-puller-state","version":1,"datasets":{"a":{"last_error":"\u001b[2J"}}})"),
            std::string("\0\0\0\0", 4),
        }) {
        CAPTURE(bad);
        CHECK_FALSE(decode_state(bad, error).has_value());
        CHECK(error != "");
    }
    CHECK(decode_state(R"({"format":"zfs-puller-state","version":1,"datasets":{}})", error));
}

TEST_CASE("the state file: replaced atomically, a torn one reported and then rewritten") {
    const std::string dir = test_support::make_temp_dir("zg-status-test");
    JobState s = sample_state();
    JobState loaded;
    std::string problem;
    CHECK(load_state_file(dir, s.target, loaded, problem) == StateLoad::missing);
    REQUIRE(save_state_file(dir, s) == "");
    const std::string path = dir + "/" + state_file_name(s.target);
    CHECK(test_support::directory_entries(dir) ==
          std::vector<std::string>{state_file_name(s.target)}); // no temp left
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0644);
    REQUIRE(load_state_file(dir, s.target, loaded, problem) == StateLoad::loaded);
    CHECK(loaded == s);

    // A second write replaces the file (a new inode: readers see the old or the new one).
    s.datasets["tank/home"] = succeeded(now);
    REQUIRE(save_state_file(dir, s) == "");
    struct stat st2 {};
    REQUIRE(::stat(path.c_str(), &st2) == 0);
    CHECK(st2.st_ino != st.st_ino);
    REQUIRE(load_state_file(dir, s.target, loaded, problem) == StateLoad::loaded);
    CHECK(loaded == s);

    // Torn (what a writer without rename would leave after a crash): unreadable, with the path.
    const std::string whole = test_support::read_file(path);
    write_all(path, whole.substr(0, whole.size() / 2));
    CHECK(load_state_file(dir, s.target, loaded, problem) == StateLoad::unreadable);
    CHECK(problem.find(path) != std::string::npos);
    // The next save recovers it.
    REQUIRE(save_state_file(dir, s) == "");
    REQUIRE(load_state_file(dir, s.target, loaded, problem) == StateLoad::loaded);
    CHECK(loaded == s);

    // Something planted in its place is not followed.
    REQUIRE(::unlink(path.c_str()) == 0);
    REQUIRE(::symlink("/etc/passwd", path.c_str()) == 0);
    CHECK(load_state_file(dir, s.target, loaded, problem) == StateLoad::unreadable);
    CHECK(problem.find("not a regular file") != std::string::npos);
    REQUIRE(::unlink(path.c_str()) == 0);
    ::rmdir(dir.c_str());
}

TEST_CASE("verdicts and exit codes at a fixed now") {
    const Thresholds limits; // 26h / 50h
    struct Row {
        const char* what;
        std::optional<DatasetState> state; // nullopt: the job has no state
        Health health;
        int severity;
    };
    DatasetState failing = succeeded(now - hour);
    record_failure(failing, now - 10, "listing tank/a on nas failed");
    DatasetState never_ok; // attempted? no: a dataset entry without any attempt
    never_ok.target = "backup/a";
    const Row rows[] = {
        {"fresh", succeeded(now - hour), Health::ok, 0},
        {"just under warn", succeeded(now - 26 * hour), Health::ok, 0},
        {"past warn", succeeded(now - 26 * hour - 1), Health::stale, 1},
        {"just under crit", succeeded(now - 50 * hour), Health::stale, 1},
        {"past crit", succeeded(now - 50 * hour - 1), Health::stale, 2},
        {"last attempt failed", failing, Health::failing, 2},
        {"never succeeded", never_ok, Health::never, 2},
        {"no state at all", std::nullopt, Health::never, 2},
    };
    for (const auto& row : rows) {
        CAPTURE(row.what);
        JobStatusInput in{"job", "tank/a", "backup/a", std::nullopt, ""};
        if (row.state) {
            in.state = JobState{"job", "backup/a", {{"tank/a", *row.state}}};
        }
        const auto out = evaluate_status({in}, limits, now);
        REQUIRE(out.size() == 1);
        CHECK(out[0].dataset == "tank/a");
        CHECK(out[0].health == row.health);
        CHECK(out[0].severity == row.severity);
        CHECK(status_exit_code(out) == row.severity);
    }
    // Other thresholds; the worst dataset sets the exit code; no rows exit 0.
    const Thresholds tight{hour, 2 * hour};
    JobStatusInput two{"job", "tank/a", "backup/a", JobState{}, ""};
    two.state->datasets["tank/a"] = succeeded(now - 90 * 60);
    two.state->datasets["tank/b"] = succeeded(now - 10 * 60);
    const auto out = evaluate_status({two}, tight, now);
    REQUIRE(out.size() == 2);
    CHECK(out[0].health == Health::stale);
    CHECK(out[1].health == Health::ok);
    CHECK(status_exit_code(out) == 1);
    CHECK(status_exit_code({}) == 0);
    // A state that could not be read: never, with why.
    const auto unknown = evaluate_status(
        {{"job", "tank/a", "backup/a", std::nullopt, "state unknown: torn"}}, limits, now);
    CHECK(unknown[0].health == Health::never);
    CHECK(unknown[0].note == "state unknown: torn");
}

TEST_CASE("the table, the JSON and the Prometheus text") {
    JobStatusInput home{"home", "tank/home", "backup/home", sample_state(), ""};
    JobStatusInput vm{"vm", "tank/vm", "backup/vm", std::nullopt, ""};
    const Thresholds limits;
    const auto rows = evaluate_status({home, vm}, limits, now);
    REQUIRE(rows.size() == 3);

    const std::string table = status_table(rows, now);
    CHECK(table.starts_with("JOB "));
    CHECK(table.find("tank/home       ok ") != std::string::npos);
    CHECK(table.find("2026-12-04T04:56:37Z") != std::string::npos); // last success, 1 h ago
    CHECK(table.find("failing") != std::string::npos);
    CHECK(table.find("cannot list: \\x1b]0;owned\\x07 \\xff (2026-12-04T04:56:37Z)") !=
          std::string::npos);
    CHECK(table.find("no run has recorded a state yet") != std::string::npos);
    CHECK(table.find('\x1b') == std::string::npos);

    const auto j = nlohmann::json::parse(status_json(rows, limits, now));
    CHECK(j["exit"] == 2);
    CHECK(j["datasets"].size() == 3);
    CHECK(j["datasets"][0]["state"] == "ok");
    CHECK(j["datasets"][0]["age_seconds"] == hour);
    CHECK(j["datasets"][0]["last_transfer_bytes"] == 4096);
    CHECK(j["datasets"][1]["state"] == "failing");
    CHECK(j["datasets"][2]["state"] == "never");
    CHECK(j["datasets"][2]["last_success"].is_null());

    const std::string text = ops::render_exposition(status_metrics(rows, now));
    std::vector<test_support::ParsedSample> samples;
    REQUIRE_MESSAGE(test_support::check_exposition(text, &samples) == "", text);
    auto value = [&](const std::string& name, const std::string& dataset,
                     const std::string& state = "") -> std::optional<double> {
        for (const auto& s : samples)
            if (s.name == name &&
                (s.labels.count("dataset") ? s.labels.at("dataset") : "") == dataset &&
                (state.empty() || s.labels.at("state") == state))
                return s.value;
        return std::nullopt;
    };
    CHECK(value("zfs_puller_last_success_timestamp_seconds", "tank/home") == now - hour);
    CHECK(value("zfs_puller_newest_common_snapshot_timestamp_seconds", "tank/home") ==
          now - hour - 60);
    CHECK(value("zfs_puller_last_transfer_bytes", "tank/home") == 4096);
    CHECK(value("zfs_puller_failing", "tank/home") == 0);
    CHECK(value("zfs_puller_failing", "tank/home/mail") == 1);
    CHECK(value("zfs_puller_state", "tank/home/mail", "failing") == 1);
    CHECK(value("zfs_puller_state", "tank/home/mail", "ok") == 0);
    CHECK(value("zfs_puller_state", "tank/vm", "never") == 1);
    CHECK(value("zfs_puller_last_success_timestamp_seconds", "tank/vm") == 0);
    CHECK(value("zfs_puller_status_severity", "tank/home") == 0);
    CHECK(value("zfs_puller_status_timestamp_seconds", "") == now);
    for (const char* family :
         {"zfs_puller_last_success_timestamp_seconds", "zfs_puller_last_attempt_timestamp_seconds",
          "zfs_puller_newest_common_snapshot_timestamp_seconds", "zfs_puller_last_transfer_bytes",
          "zfs_puller_failing", "zfs_puller_state", "zfs_puller_status_severity"}) {
        CAPTURE(family);
        CHECK(text.find(std::string("# HELP ") + family + " ") != std::string::npos);
        CHECK(text.find(std::string("# TYPE ") + family + " gauge\n") != std::string::npos);
    }
}

TEST_CASE("status on the command line") {
    auto parse = [](std::vector<std::string> args) { return parse_cli(args); };
    const auto plain = parse({"status"});
    REQUIRE(plain.ok());
    CHECK(plain.options->mode == Options::Mode::status);
    CHECK_FALSE(plain.options->warn_seconds.has_value());
    const auto full = parse({"status", "--config", "/etc/p.toml", "--job", "home", "--json",
                             "--prometheus", "/tmp/p.prom", "--warn", "30h", "--crit=3d"});
    REQUIRE_MESSAGE(full.ok(), full.error);
    CHECK(full.options->status_json);
    CHECK(full.options->status_prometheus == "/tmp/p.prom");
    CHECK(full.options->warn_seconds == 30 * hour);
    CHECK(full.options->crit_seconds == 72 * hour);
    CHECK(full.options->jobs == std::vector<std::string>{"home"});
    CHECK(parse({"--quiet"}).options->quiet);
    CHECK(parse({"-q", "--job", "x"}).options->quiet);
    for (const auto& bad : std::vector<std::vector<std::string>>{
             {"--json"},
             {"--warn", "1h"},
             {"--prometheus", "/tmp/x"},
             {"status", "extra"},
             {"status", "--warn", "soon"},
             {"status", "--crit", "-3h"},
             {"status", "--warn", "3d", "--crit", "1d"},
             {"status", "--dry-run"},
             {"status", "--ssh-key", "/k"},
             {"status", "--check"},
             {"--quiet", "--verbose"},
             {"--json=yes", "status"},
         }) {
        CAPTURE(bad.front());
        CHECK_FALSE(parse(bad).ok());
    }
    CHECK(usage_text().find("zfs-puller status [--config FILE]") != std::string::npos);
}

TEST_CASE("[status] in the configuration") {
    const std::string job = R"(
[defaults]
ssh_key = "/etc/zfs-puller/key"
known_hosts = "/etc/zfs-puller/known_hosts"
[job.a]
source = "zb@nas:tank/a"
target = "backup/a"
)";
    const auto plain = parse_config(job);
    REQUIRE(plain.ok());
    CHECK(plain.config->status == StatusConfig{});
    const auto set = parse_config(job + R"(
[status]
prometheus_textfile = "/var/lib/prometheus/node-exporter/zfs_puller.prom"
warn = "30h"
crit = "3d"
)");
    REQUIRE_MESSAGE(set.ok(), set.error);
    CHECK(set.config->status.prometheus_textfile ==
          "/var/lib/prometheus/node-exporter/zfs_puller.prom");
    CHECK(set.config->status.warn_seconds == 30 * hour);
    CHECK(set.config->status.crit_seconds == 72 * hour);
    for (const char* bad : {"[status]\nwarn = \"soon\"\n", "[status]\ncrit = 5\n",
                            "[status]\nwarn = \"3d\"\ncrit = \"1d\"\n",
                            "[status]\nprometheus_textfile = \"relative.prom\"\n",
                            "[status]\ntextfile = \"/x.prom\"\n", "status = 1\n"}) {
        CAPTURE(bad);
        const auto r = parse_config(job + bad);
        CHECK_FALSE(r.ok());
    }
}

namespace {

// Runs `body` with fd 2 on a fresh file and JOURNAL_STREAM as given ("match": that file's
// device:inode; nullptr: unset); returns what reached fd 2.
template <class Body>
std::string captured_stderr(const char* journal_stream, Verbosity verbosity, Body body) {
    const std::string dir = test_support::make_temp_dir("zg-status-test");
    const std::string path = dir + "/stderr";
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(fd >= 0);
    struct stat st {};
    REQUIRE(::fstat(fd, &st) == 0);
    const std::string matching = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                                 std::to_string(static_cast<unsigned long long>(st.st_ino));
    std::fflush(stderr);
    const int saved = ::dup(2);
    REQUIRE(saved >= 0);
    REQUIRE(::dup2(fd, 2) == 2);
    if (journal_stream == nullptr)
        ::unsetenv("JOURNAL_STREAM");
    else
        ::setenv("JOURNAL_STREAM",
                 std::string(journal_stream) == "match" ? matching.c_str() : journal_stream, 1);
    configure_logging(verbosity);
    body();
    ::unsetenv("JOURNAL_STREAM");
    ::dup2(saved, 2);
    ::close(saved);
    ::close(fd);
    configure_logging(Verbosity::normal);
    const std::string text = test_support::read_file(path);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
    return text;
}

void every_level() {
    log_error("job: it failed");
    log_warning("job: tank/a: warning: odd");
    log_info("job: ok");
    log_debug("job: [  0.001s] 0.001s exit 0: local: zfs list");
    log_progress(R"({"event":"progress","bytes":1})");
}

} // namespace

TEST_CASE("messages: journald prefixes only when JOURNAL_STREAM names fd 2") {
    CHECK(captured_stderr("match", Verbosity::verbose, every_level) ==
          "<3>zfs-puller: job: it failed\n"
          "<4>zfs-puller: job: tank/a: warning: odd\n"
          "<6>zfs-puller: job: ok\n"
          "<7>zfs-puller: job: [  0.001s] 0.001s exit 0: local: zfs list\n"
          "<6>{\"event\":\"progress\",\"bytes\":1}\n");
    // Plain when the variable is unset, names another file (stderr redirected by a child of a
    // service) or is not DEVICE:INODE.
    const std::string plain = "zfs-puller: job: it failed\n"
                              "zfs-puller: job: tank/a: warning: odd\n"
                              "zfs-puller: job: ok\n"
                              "{\"event\":\"progress\",\"bytes\":1}\n";
    CHECK(captured_stderr(nullptr, Verbosity::normal, every_level) == plain);
    CHECK(captured_stderr("1:2", Verbosity::normal, every_level) == plain);
    CHECK(captured_stderr("garbage", Verbosity::normal, every_level) == plain);
    CHECK(captured_stderr("", Verbosity::normal, every_level) == plain);
    // --quiet: warnings and errors only.
    CHECK(captured_stderr("match", Verbosity::quiet, every_level) ==
          "<3>zfs-puller: job: it failed\n<4>zfs-puller: job: tank/a: warning: odd\n");
    CHECK(captured_stderr(nullptr, Verbosity::quiet, every_level) ==
          "zfs-puller: job: it failed\nzfs-puller: job: tank/a: warning: odd\n");
    // Outside text is escaped: one line per message whatever it holds, and no fmt formatting.
    CHECK(captured_stderr("match", Verbosity::normal, [] {
              log_error("job: cannot list: \x1b]0;owned\x07\r\nnext {} \\");
          }) == "<3>zfs-puller: job: cannot list: \\x1b]0;owned\\x07\\x0d\\x0anext {} \\\\\n");
    CHECK(captured_stderr(nullptr, Verbosity::normal, [] { log_usage_error("bad option"); }) ==
          "zfs-puller: bad option\nzfs-puller: (try zfs-puller --help)\n");
}

TEST_CASE("journal_stream_matches") {
    struct stat st {};
    REQUIRE(::fstat(0, &st) == 0);
    const std::string mine = std::to_string(static_cast<unsigned long long>(st.st_dev)) + ":" +
                             std::to_string(static_cast<unsigned long long>(st.st_ino));
    CHECK(journal_stream_matches(mine.c_str(), 0));
    CHECK_FALSE(journal_stream_matches(nullptr, 0));
    CHECK_FALSE(journal_stream_matches((mine + "x").c_str(), 0));
    CHECK_FALSE(journal_stream_matches((":" + mine).c_str(), 0));
    CHECK_FALSE(journal_stream_matches(mine.c_str(), 12345)); // not an open fd
}

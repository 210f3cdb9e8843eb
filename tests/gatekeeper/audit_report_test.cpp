// audit-report on logs written by the gatekeeper's own record renderer: allowed and denied
// sessions, a sandbox kill, torn and forged lines, the --since window, hostile bytes in the
// output, and the metrics parsed back by the exposition checker.
#include <doctest/doctest.h>

#include <csignal>
#include <nlohmann/json.hpp>

#include "gatekeeper/audit_record.hpp"
#include "gatekeeper/audit_report.hpp"
#include "ops/prometheus.hpp"
#include "ops/time_text.hpp"
#include "tests/ops/exposition_checker.hpp"
#include "tests/support.hpp"

using namespace gatekeeper;

namespace {

const policy::Policy& corpus() {
    static const policy::Policy p = test_support::corpus_policy();
    return p;
}

RecordContext ctx(const std::string& time, long pid, const std::string& client = "192.0.2.7") {
    return RecordContext{time, "corpus", client, 50000, pid};
}

std::string decision(const std::string& time, long pid, const std::string& command,
                     const std::string& client = "192.0.2.7") {
    const auto parsed = grammar::parse_command(command);
    std::optional<policy::Decision> d;
    if (parsed.ok())
        d = policy::decide(*parsed.invocation, corpus().identities.at("corpus"), corpus().programs);
    return to_line(decision_json(ctx(time, pid, client), command, parsed, d ? &*d : nullptr));
}

std::string outcome(const std::string& time, long pid, int signal = 0) {
    RunOutcome o;
    StageOutcome s;
    s.program = "/usr/sbin/zfs";
    s.started = true;
    if (signal != 0)
        s.signal = signal;
    else
        s.exit_code = 0;
    o.stages.push_back(s);
    o.exit_status = signal != 0 ? 128 + signal : 0;
    return to_line(outcome_json(ctx(time, pid), o, nlohmann::json::object()));
}

AuditReport report_of(const std::vector<std::string>& lines, std::optional<double> since = {}) {
    AuditReportBuilder b(since);
    for (const auto& l : lines)
        b.add_line(l);
    return b.finish();
}

const std::string get = "zfs get -H syncoid:sync 'tank/data'";
const std::string attack = "zfs list; rm -rf /";
const std::string secret = "zfs send 'tank/secret'@x";

} // namespace

TEST_CASE("allowed, denied and killed sessions are summed per identity and client") {
    const std::vector<std::string> log{
        decision("2026-12-04T01:00:00.000001Z", 10, get),
        outcome("2026-12-04T01:00:00.100000Z", 10),
        decision("2026-12-04T01:01:00.000000Z", 11, attack),
        decision("2026-12-04T01:02:00.000000Z", 12, secret),
        decision("2026-12-04T01:03:00.000000Z", 13, attack),
        decision("2026-12-04T01:04:00.000000Z", 14, get),
        outcome("2026-12-04T01:04:01.000000Z", 14, SIGSYS),
        decision("2026-12-04T01:05:00.000000Z", 15, get, "198.51.100.9"),
        outcome("2026-12-04T01:05:00.500000Z", 15),
        decision("2026-12-04T01:06:00.000000Z", 16, get), // still running: no outcome yet
    };
    const AuditReport r = report_of(log);
    CHECK(r.lines == log.size());
    CHECK(r.records == log.size());
    CHECK(r.bad.empty());
    CHECK(r.unfinished == 1);
    REQUIRE(r.peers.size() == 2);
    const PeerReport& p = r.peers[0];
    CHECK(p.client == "192.0.2.7");
    CHECK(p.identity == "corpus");
    CHECK(p.allowed == 3);
    CHECK(p.denied == 3);
    REQUIRE(p.denials.size() == 2); // the attack twice, counted once with both times
    CHECK(p.denials[0].command == attack);
    CHECK(p.denials[0].count == 2);
    CHECK(p.denials[0].first_time == "2026-12-04T01:01:00.000000Z");
    CHECK(p.denials[0].last_time == "2026-12-04T01:03:00.000000Z");
    CHECK(p.denials[0].rule == "grammar");
    CHECK(p.denials[1].command == secret);
    CHECK(p.denials[1].rule == "scope");
    CHECK(p.denials[1].reason.find("tank/secret") != std::string::npos);
    REQUIRE(p.killed.size() == 1);
    CHECK(p.killed[0].command == get);
    CHECK(p.killed[0].signal == SIGSYS);
    CHECK(p.last_denied_time == "2026-12-04T01:03:00.000000Z");
    CHECK(r.peers[1].client == "198.51.100.9");
    CHECK(r.peers[1].allowed == 1);
    CHECK(r.peers[1].denied == 0);
    CHECK(r.denied() == 3);
    CHECK(r.killed() == 1);
    CHECK(r.alarming());
}

TEST_CASE("a clean log is not alarming") {
    const AuditReport r =
        report_of({decision("2026-12-04T01:00:00Z", 10, get), outcome("2026-12-04T01:00:01Z", 10)});
    CHECK_FALSE(r.alarming());
    CHECK(render_report_text(r, "log").find("ok: nothing denied") != std::string::npos);
}

TEST_CASE("torn, forged and foreign lines are bad records, each an alarm") {
    std::string torn = decision("2026-12-04T01:00:00Z", 10, get);
    torn.resize(torn.size() / 2);
    nlohmann::json forged = nlohmann::json::parse(decision("2026-12-04T01:00:02Z", 12, attack));
    forged.erase("reason");
    nlohmann::json bad_time = nlohmann::json::parse(decision("2026-12-04T01:00:03Z", 13, attack));
    bad_time["time"] = "yesterday";
    const std::vector<std::string> log{
        decision("2026-12-04T01:00:00Z", 9, get),
        torn,
        "Dec  4 01:00:01 host sshd[1]: Accepted publickey for backup",
        forged.dump(),
        bad_time.dump(),
        R"({"event":"login","time":"2026-12-04T01:00:04Z","pid":1,"identity":"x","version":"1","client":{"address":""}})",
        outcome("2026-12-04T01:00:05Z", 77), // no decision of pid 77 before it
        "[1, 2, 3]",
    };
    const AuditReport r = report_of(log);
    REQUIRE(r.bad.size() == 7);
    CHECK(r.bad[0].line == 2);
    CHECK(r.bad[0].why.find("not JSON") != std::string::npos);
    CHECK(r.bad[1].line == 3);
    CHECK(r.bad[2].why == "denial without a reason");
    CHECK(r.bad[3].why == "no RFC 3339 time");
    CHECK(r.bad[4].why == "unknown event");
    CHECK(r.bad[5].why.find("outcome without an allowed decision") != std::string::npos);
    CHECK(r.bad[6].why == "not a JSON object");
    CHECK(r.alarming());
    CHECK(r.peers.at(0).allowed == 1);
}

TEST_CASE("--since keeps the window, and bad lines where they stand in it") {
    const double since = *ops::parse_rfc3339("2026-12-04T02:00:00Z");
    const AuditReport r = report_of(
        {
            "torn before anything",                       // placed by the next record: old
            decision("2026-12-04T01:00:00Z", 10, attack), // old denial
            "torn between old records",                   // old
            decision("2026-12-04T01:30:00Z", 11, get),    // allowed before the window...
            decision("2026-12-04T02:00:00Z", 12, get),    // in the window
            outcome("2026-12-04T02:00:01Z", 11),          // ...its outcome inside: no alarm
            "torn inside",                                // new
            decision("2026-12-04T02:30:00Z", 13, secret), // new denial
        },
        since);
    CHECK(r.records == 3);
    REQUIRE(r.bad.size() == 1);
    CHECK(r.bad[0].line == 7);
    REQUIRE(r.peers.size() == 1);
    CHECK(r.peers[0].denied == 1);
    CHECK(r.peers[0].denials.at(0).command == secret);
    CHECK(r.peers[0].allowed == 1);
    CHECK(r.unfinished == 1); // pid 12
    CHECK(r.first_time == "2026-12-04T02:00:00Z");
    // Everything old and clean: nothing to alert on.
    const AuditReport quiet = report_of({decision("2026-12-04T01:00:00Z", 10, attack), "torn",
                                         decision("2026-12-04T01:01:00Z", 11, attack)},
                                        since);
    CHECK_FALSE(quiet.alarming());
    CHECK(quiet.records == 0);
}

TEST_CASE("hostile bytes never reach the terminal raw, and the JSON output parses") {
    const std::string nasty = std::string("zfs list \x1b]0;owned\x07 \xff\n") + "; id";
    const AuditReport r = report_of({decision("2026-12-04T01:00:00Z", 10, nasty)});
    REQUIRE(r.peers.at(0).denials.size() == 1);
    CHECK(r.peers[0].denials[0].command == nasty); // the exact bytes, decoded from the record
    const std::string text = render_report_text(r, "log");
    for (unsigned char c : text)
        CHECK((c == '\n' || (c >= 0x20 && c < 0x7f)));
    CHECK(text.find("\\x1b]0;owned\\x07 \\xff\\x0a") != std::string::npos);
    const auto j = nlohmann::json::parse(render_report_json(r, "log"));
    CHECK(j["alarm"] == true);
    CHECK(j["denied"] == 1);
    CHECK(json_text_as_bytes(j["peers"][0]["denials"][0]["command"].get<std::string>()) == nasty);
    CHECK(printable("a\\b") == "a\\x5cb");
}

TEST_CASE("the report's metrics are valid exposition text") {
    const AuditReport r = report_of({decision("2026-12-04T01:00:00Z", 10, get),
                                     outcome("2026-12-04T01:00:01Z", 10, SIGSYS),
                                     decision("2026-12-04T01:00:02Z", 11, attack), "torn"});
    const std::string text = ops::render_exposition(report_metrics(r, 1796000000));
    std::vector<test_support::ParsedSample> samples;
    REQUIRE_MESSAGE(test_support::check_exposition(text, &samples) == "", text);
    std::map<std::string, double> by;
    for (const auto& s : samples) {
        std::string key = s.name;
        if (s.labels.count("decision")) key += "/" + s.labels.at("decision");
        by[key] = s.value;
    }
    CHECK(by.at("zfs_gatekeeper_audit_decisions/allow") == 1);
    CHECK(by.at("zfs_gatekeeper_audit_decisions/deny") == 1);
    CHECK(by.at("zfs_gatekeeper_audit_sandbox_kills") == 1);
    CHECK(by.at("zfs_gatekeeper_audit_bad_records") == 1);
    CHECK(by.at("zfs_gatekeeper_audit_alarm") == 1);
    CHECK(by.at("zfs_gatekeeper_audit_last_denial_timestamp_seconds") ==
          *ops::parse_rfc3339("2026-12-04T01:00:02Z"));
    CHECK(by.at("zfs_gatekeeper_audit_report_timestamp_seconds") == 1796000000);
}

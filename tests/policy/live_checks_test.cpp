// The confirm step: a Run's live checks against what the live system answered. Pure, so every
// answer a hostile or broken system could give is a table row.
#include <doctest/doctest.h>

#include "policy/live_checks.hpp"

using namespace policy;

namespace {

Decision resume_run(std::vector<LiveCheck> checks) {
    Decision d;
    d.rule = "send.resume";
    d.verdict =
        Run{{PipelinePlan{{{"/sbin/zfs", "send", "-t", "1-a-b-c"}}, false}}, std::move(checks)};
    return d;
}

} // namespace

TEST_CASE("each live check asks one read-only zfs command, built from typed fields") {
    CHECK(live_check_argv(SnapshotHasGuid{"tank/data@s", 7}, "/sbin/zfs") ==
          Argv{"/sbin/zfs", "get", "-H", "-p", "-o", "value", "guid", "--", "tank/data@s"});
    CHECK(live_check_argv(GuidBelow{9, "tank/data"}, "/sbin/zfs") ==
          Argv{"/sbin/zfs", "list", "-H", "-p", "-o", "guid", "-r", "-t",
               "filesystem,volume,snapshot,bookmark", "--", "tank/data"});
}

TEST_CASE("confirm keeps a Run whose checks all hold and denies on the first that does not") {
    const std::vector<LiveCheck> both{SnapshotHasGuid{"tank/data@s", 7},
                                      GuidBelow{99, "tank/data"}};
    const std::string listing = "12\n99\n7\n";
    struct Row {
        const char* label;
        std::vector<std::optional<std::string>> answers;
        bool allowed;
        const char* reason_part;
    };
    const Row rows[] = {
        {"both hold", {"7\n", listing}, true, ""},
        {"toguid answer without newline", {"7", listing}, true, ""},
        {"toname has another guid", {"8\n", listing}, false, "toguid is not the guid"},
        {"toname does not exist", {std::nullopt, listing}, false, "does not exist"},
        {"guid answer is not a number", {"7x\n", listing}, false, "cannot read the guid"},
        {"empty guid answer", {"\n", listing}, false, "cannot read the guid"},
        {"fromguid only outside the scope", {"7\n", "12\n7\n"}, false, "fromguid is no snapshot"},
        {"fromguid as a prefix of a longer guid", {"7\n", "990\n7\n"}, false, "fromguid"},
        {"listing failed or was cut", {"7\n", std::nullopt}, false, "cannot list the guids"},
        {"an answer missing", {"7\n"}, false, "not all answered"},
        {"an answer too many", {"7\n", listing, listing}, false, "not all answered"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.label);
        const Decision d = confirm(resume_run(both), row.answers);
        CHECK(d.allowed() == row.allowed);
        if (row.allowed) {
            CHECK(d == resume_run(both));
        } else {
            // A check that fails denies under its own rule; unanswered checks under live-checks.
            const bool counted = std::string(row.reason_part) == "not all answered";
            CHECK(d.rule == (counted ? "live-checks" : "resume-token-preflight"));
            CHECK(d.reason().find(row.reason_part) != std::string::npos);
            CHECK(d.argv().empty());
        }
    }
}

TEST_CASE("confirm leaves denials and builtin answers alone") {
    Decision denied;
    denied.rule = "scope";
    denied.verdict = Denied{"outside"};
    CHECK(confirm(denied, {}) == denied);
    Decision builtin;
    builtin.rule = "builtin.exit";
    builtin.verdict = BuiltinAnswer{"", 0};
    CHECK(confirm(builtin, {}) == builtin);
    CHECK(confirm(resume_run({}), {}).allowed()); // a Run without checks needs no answers
}

TEST_CASE("a restore receives only into an absent dataset or an unfinished receive") {
    Decision d;
    d.rule = "receive";
    d.verdict =
        Run{{PipelinePlan{{{"/sbin/zfs", "receive", "--", "tank/restore/home"}}, false, true}},
            {RestoreTargetFree{"tank/restore/home", "tank/restore"}}};
    CHECK(live_check_argv(RestoreTargetFree{"tank/restore/home", "tank/restore"}, "/sbin/zfs") ==
          Argv{"/sbin/zfs", "list", "-H", "-p", "-o", "name,receive_resume_token", "-r", "-t",
               "filesystem,volume", "--", "tank/restore"});
    // Absent: allowed (a longer name that starts with the target's is another dataset).
    CHECK(confirm(d, {"tank/restore\t-\ntank/restore/other\t-\ntank/restore/home2\t-\n"}) == d);
    // An unfinished resumable receive of the same name: allowed (only its resume completes it).
    CHECK(confirm(d, {"tank/restore\t-\ntank/restore/home\t1-e604ea4bf-e0-789c63\n"}) == d);
    const Decision exists = confirm(d, {"tank/restore\t-\ntank/restore/home\t-\n"});
    CHECK_FALSE(exists.allowed());
    CHECK(exists.rule == "restore-target-exists");
    CHECK(exists.reason().find("never receives into an existing dataset") != std::string::npos);
    const Decision unlisted = confirm(d, {std::nullopt});
    CHECK_FALSE(unlisted.allowed());
    CHECK(unlisted.reason().find("cannot list the datasets below tank/restore") !=
          std::string::npos);
}

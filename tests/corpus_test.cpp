// The accept corpus (581 real syncoid 2.1.0/2.3.0 commands) and the reject corpus (hostile
// commands tagged by attack class) judged under the corpus policy.
#include <doctest/doctest.h>
#include <map>
#include <set>

#include "grammar/canonical.hpp"
#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "tests/support.hpp"

using namespace test_support;

namespace {
struct Judged {
    grammar::ParseResult parsed;
    policy::Decision decision;
};

Judged judge(const policy::Policy& p, const std::string& identity, const std::string& command) {
    Judged j{grammar::parse_command(command), {}};
    if (j.parsed.ok())
        j.decision = policy::decide(*j.parsed.invocation, p.identities.at(identity), p.programs);
    return j;
}

bool is_socat_line(const std::string& c) {
    return c.find("| socat ") != std::string::npos;
}
bool is_token_line(const std::string& c) {
    return c.find(" -t 1-") != std::string::npos;
}
} // namespace

TEST_CASE("every syncoid corpus line is allowed, with the documented exceptions only") {
    const auto policy = corpus_policy();
    const auto corpus = accept_corpus();
    REQUIRE(corpus.size() == 581);
    std::size_t allowed = 0, socat = 0, tokens = 0;
    for (const auto& line : corpus) {
        CAPTURE(line.label);
        CAPTURE(line.command);
        const auto j = judge(policy, "corpus", line.command);
        REQUIRE(j.parsed.ok()); // every corpus line is in the grammar
        if (is_socat_line(line.command)) {
            // Direct connections bypass the SSH channel: denied unless the address is listed.
            CHECK_FALSE(j.decision.allowed());
            CHECK(j.decision.rule == "tools");
            const auto direct = judge(policy, "direct", line.command);
            CHECK(direct.decision.allowed());
            ++socat;
        } else if (is_token_line(line.command)) {
            // The corpus' resume tokens are synthetic (JSON in hex): they must not decode.
            CHECK_FALSE(j.decision.allowed());
            CHECK(j.decision.rule == "resume-token");
            ++tokens;
        } else {
            CHECK(j.decision.allowed());
            CHECK(j.decision.reason().empty());
            ++allowed;
        }
    }
    MESSAGE("allowed " << allowed << ", socat " << socat << ", synthetic tokens " << tokens);
    CHECK(allowed + socat + tokens == corpus.size());
    CHECK(socat == 4); // plus `command -v socat`, answered "not found"
}

TEST_CASE("representative corpus lines produce the expected canonical argv") {
    const auto policy = corpus_policy();
    using Argv = std::vector<std::string>;
    struct Row {
        std::string command;
        std::vector<std::vector<Argv>> argv;
    };
    const std::vector<Row> rows = {
        {"sudo zpool get -o value -H feature@extensible_dataset 'tank'",
         {{{"/usr/sbin/zpool", "get", "-o", "value", "-H", "feature@extensible_dataset", "--",
            "tank"}}}},
        {"zfs get -Hpd 1 -t snapshot guid,creation 'tank/my data'",
         {{{"/usr/sbin/zfs", "get", "-Hpd", "1", "-t", "snapshot", "guid,creation", "--",
            "tank/my data"}}}},
        {" zfs send  -I 'tank/data'@'autosnap_2024-01-01_00:00:01_daily' "
         "'tank/data'@'syncoid_vm_2026-11-27:02:46:41-GMT00:00' | lzop  | mbuffer  -q -s 128k -m "
         "16M 2>/dev/null",
         {{{"/usr/sbin/zfs", "send", "-I", "tank/data@autosnap_2024-01-01_00:00:01_daily", "--",
            "tank/data@syncoid_vm_2026-11-27:02:46:41-GMT00:00"},
           {"/usr/bin/lzop"},
           {"/usr/bin/mbuffer", "-q", "-s", "128k", "-m", "16M"}}}},
        {" zfs destroy 'tank/data'@syncoid_vm_a;  zfs destroy 'tank/data'@syncoid_vm_b",
         {{{"/usr/sbin/zfs", "destroy", "--", "tank/data@syncoid_vm_a"}},
          {{"/usr/sbin/zfs", "destroy", "--", "tank/data@syncoid_vm_b"}}}},
        {"zfs send -w -L -nvP 'tank/data@autosnap_x'",
         {{{"/usr/sbin/zfs", "send", "-L", "-w", "-nvP", "--", "tank/data@autosnap_x"}}}},
        {"sudo zfs get -H createtxg ",
         {{{"/usr/sbin/zfs", "get", "-H", "createtxg", "--", "tank/data", "tank/my data"}}}},
    };
    for (const auto& row : rows) {
        CAPTURE(row.command);
        const auto j = judge(policy, "corpus", row.command);
        REQUIRE(j.decision.allowed());
        CHECK(j.decision.argv() == row.argv);
    }
    // Every corpus line's argv: absolute program paths, no client token starting with '-'
    // except fixed option words, and the separator before dataset operands.
    for (const auto& line : accept_corpus()) {
        const auto j = judge(policy, "corpus", line.command);
        if (!j.decision.allowed() || j.decision.builtin()) continue;
        for (const auto& pipeline : j.decision.argv())
            for (const auto& argv : pipeline)
                CHECK(argv.front().starts_with("/usr/"));
    }
}

TEST_CASE("round trip: canonical command parses back to the same invocation and argv") {
    const auto policy = corpus_policy();
    for (const auto& line : accept_corpus()) {
        const auto first = judge(policy, "corpus", line.command);
        if (!first.decision.allowed()) continue;
        const std::string rendered = grammar::render_command(first.decision.effective);
        CAPTURE(line.command);
        CAPTURE(rendered);
        const auto again = judge(policy, "corpus", rendered);
        REQUIRE(again.parsed.ok());
        // sudo is stripped, not rendered: compare everything else.
        grammar::Invocation expected = first.decision.effective;
        expected.sudo_stripped = false;
        CHECK(*again.parsed.invocation == expected);
        CHECK(again.decision.allowed());
        CHECK(again.decision.argv() == first.decision.argv());
    }
}

TEST_CASE("every hostile command in the reject corpus is denied with a reason at its layer") {
    const auto policy = corpus_policy();
    const auto corpus = reject_corpus();
    CHECK(corpus.size() >= 300);
    std::map<std::string, int> per_class;
    std::set<std::string> seen;
    for (const auto& r : corpus) {
        CAPTURE(r.line_number);
        CAPTURE(r.attack_class);
        CAPTURE(r.command.substr(0, 200));
        CHECK(seen.insert(r.command).second); // no duplicates
        ++per_class[r.attack_class];
        const auto j = judge(policy, "corpus", r.command);
        std::string layer;
        std::string reason;
        if (!j.parsed.ok()) {
            layer = j.parsed.error.stage == grammar::ParseError::Stage::grammar ? "parse" : "lex";
            reason = j.parsed.error.message;
        } else {
            CHECK_FALSE(j.decision.allowed());
            CHECK(j.decision.argv().empty());
            layer = "policy";
            reason = j.decision.reason();
        }
        CHECK_FALSE(reason.empty());
        CHECK(layer == r.layer);
    }
    for (const auto& [cls, n] : per_class) {
        CAPTURE(cls);
        CHECK(n >= 5);
    }
    CHECK(per_class.size() >= 30);
}

// The restore preset: every hostile restore command is denied for the restore identity, at its
// layer; and the two commands zfs-puller restore sends are the only ones it allows.
TEST_CASE("the restore reject corpus is denied for the restore identity") {
    const auto policy = corpus_policy();
    const auto corpus = reject_corpus("tests/corpus/reject-restore.txt");
    CHECK(corpus.size() >= 50);
    std::map<std::string, int> per_class;
    for (const auto& r : corpus) {
        CAPTURE(r.line_number);
        CAPTURE(r.command);
        ++per_class[r.attack_class];
        const auto j = judge(policy, "restore", r.command);
        std::string layer = "policy";
        if (!j.parsed.ok())
            layer = j.parsed.error.stage == grammar::ParseError::Stage::grammar ? "parse" : "lex";
        else
            CHECK_FALSE(j.decision.allowed());
        CHECK(layer == r.layer);
    }
    CHECK(per_class.size() >= 5);
    for (const auto& [cls, n] : per_class) {
        CAPTURE(cls);
        CHECK(n >= 5);
    }
    const auto receive = judge(policy, "restore",
                               "zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off "
                               "-o exec=off -o devices=off -x mountpoint "
                               "-- tank/restore/home");
    REQUIRE(receive.decision.allowed());
    CHECK(receive.decision.rule == "receive");
    const auto probe = judge(
        policy, "restore", "zfs get -H -p -o name,value receive_resume_token -- tank/restore/home");
    CHECK(probe.decision.allowed());
    // No syncoid corpus line is allowed for the restore identity.
    for (const auto& line : accept_corpus()) {
        CAPTURE(line.command);
        const auto j = judge(policy, "restore", line.command);
        CHECK_FALSE((j.parsed.ok() && j.decision.allowed()));
    }
}

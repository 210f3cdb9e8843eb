// Policy file loader: accepted files, one row per rejection, all-or-nothing, render round trip.
#include <doctest/doctest.h>

#include "policy_file.hpp"
#include "support.hpp"

using namespace policy;

namespace {
const std::string programs = "[programs]\nzfs = \"/sbin/zfs\"\nlzop = \"/usr/bin/lzop\"\n";
std::string with_identity(const std::string& body) {
    return programs + "[identity.a]\ndatasets = [\"tank/a\"]\npreset = \"syncoid-pull\"\n" + body;
}
}  // namespace

TEST_CASE("a complete policy loads with defaults") {
    const auto r = parse_policy(programs + R"(
[audit]
file = "/var/log/zfs-gatekeeper/audit.jsonl"
syslog = true

[identity.optinix-home]
datasets = ["NIXROOT/home"]
preset = "syncoid-pull"
tools = ["lzop"]
)");
    REQUIRE_MESSAGE(r.ok(), r.error);
    const auto& id = r.policy->identities.at("optinix-home");
    CHECK(id.datasets == std::vector<std::string>{"NIXROOT/home"});
    CHECK(id.preset == Preset::syncoid_pull);
    CHECK(id.snapshot_prefix == "syncoid_");
    CHECK_FALSE(id.allow_destroy);  // destroying is opt-in
    CHECK_FALSE(id.raw_only);
    CHECK(r.policy->audit.required);
    CHECK(r.policy->audit.syslog);
}

TEST_CASE("every malformed policy is rejected whole, with a message") {
    struct Row {
        std::string text, message_part;
    };
    const Row rows[] = {
        {"", "zfs"},
        {programs, "no [identity"},
        {"[programs]\nzfs = \"sbin/zfs\"\n[identity.a]\ndatasets=[\"t\"]\npreset=\"read-only\"\n", "absolute"},
        {"[programs]\nzfs = \"/sbin/../bin/zfs\"\n[identity.a]\ndatasets=[\"t\"]\npreset=\"read-only\"\n", "absolute"},
        {"[programs]\nzfs = \"/sbin/zfs\"\nsh = \"/bin/sh\"\n", "unknown program"},
        {programs + "[identity.a]\npreset = \"syncoid-pull\"\n", "datasets is required"},
        {programs + "[identity.a]\ndatasets = []\npreset = \"syncoid-pull\"\n", "must not be empty"},
        {programs + "[identity.a]\ndatasets = [\"tank/a\"]\n", "preset is required"},
        {with_identity("raw_onyl = true\n"), "unknown key 'raw_onyl'"},
        {programs + "[identity.a]\ndatasets = [\"tank/a\"]\npreset = \"root\"\n", "preset must be"},
        {programs + "[identity.a]\ndatasets = [\"/tank/a\"]\npreset = \"read-only\"\n", "not a valid dataset"},
        {programs + "[identity.a]\ndatasets = [\"tank/a%b\"]\npreset = \"read-only\"\n", "not a valid dataset"},
        {programs + "[identity.a]\ndatasets = \"tank/a\"\npreset = \"read-only\"\n", "list of strings"},
        {with_identity("tools = [\"sh\"]\n"), "unknown tool"},
        {with_identity("tools = [\"mbuffer\"]\n"), "no path in [programs]"},
        {with_identity("allow_destroy = \"yes\"\n"), "true or false"},
        {with_identity("snapshot_prefix = \"\"\n"), "snapshot_prefix"},
        {with_identity("snapshot_prefix = \"syncoid_%\"\n"), "snapshot_prefix"},
        {with_identity("direct_connections = [\"host\"]\n"), "host:port"},
        {with_identity("") + "[extra]\nx = 1\n", "unknown key 'extra'"},
        {with_identity("") + "[audit]\nfile = \"log\"\n", "absolute"},
        {with_identity("") + "[audit]\nrequire = false\n", "unknown key 'require'"},
        {"[programs\n", "line 1"},
        {with_identity("datasets = [\"tank/b\"]\n"), "line"},
        {programs + "[identity.\"a b\"]\ndatasets = [\"tank/a\"]\npreset = \"read-only\"\n", "identity name"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        const auto r = parse_policy(row.text);
        CHECK_FALSE(r.ok());
        CHECK(r.error.find(row.message_part) != std::string::npos);
    }
}

TEST_CASE("render_policy reads back as an equal policy") {
    const Policy p = test_support::corpus_policy();
    const auto again = parse_policy(render_policy(p));
    REQUIRE_MESSAGE(again.ok(), again.error);
    CHECK(*again.policy == p);
}

// Found by fuzz/fuzz_policy: toml++ 3.3 asserts (aborts) on a table header whose key starts
// with a character that cannot start a key (marzer/tomlplusplus#301), and reaches
// TOML_UNREACHABLE on many non-ASCII code points (#295). The loader refuses both itself, with
// a line number, and still loads what toml++ handles.
TEST_CASE("input toml++ 3.3 mishandles is refused before it parses") {
    const std::string ok = with_identity("");
    const std::string_view bad_headers[] = {
        "[`rograms]\n", "[[[1]]]\n", "[[[a]]]\n", "[[[]]\n", "[[=\n", "[\n", "[ \r\n",
        "  [\t`x]\n",  "[[ \n",    "[.a]\n",    "[\x01]\n",
    };
    for (const auto text : bad_headers) {
        CAPTURE(text);
        const auto r = parse_policy(ok + std::string(text));
        CHECK_FALSE(r.ok());
        CHECK(r.error.find("malformed table header") != std::string::npos);
    }
    CHECK(parse_policy("[`rograms]\n" + ok).error == "line 1: malformed table header");

    const std::string_view non_ascii[] = {
        "k\xEF\xBB\xBB", "\xCC\xAA", "# caf\xC3\xA9\n", "[\xC3\xA9]\n", "\xFF", "x = \"\x80\"\n",
    };
    for (const auto text : non_ascii) {
        CAPTURE(text);
        const auto r = parse_policy(ok + std::string(text));
        CHECK_FALSE(r.ok());
        CHECK(r.error.find("must be ASCII") != std::string::npos);
    }
    CHECK(parse_policy("\xEF\xBB\xBF" + ok).error == "line 1: policy files must be ASCII");

    // Headers toml++ reports itself, and well-formed ones, are unaffected.
    CHECK_FALSE(parse_policy(ok + "[").ok());
    CHECK_FALSE(parse_policy(ok + "[]\n").ok());
    const auto quoted = parse_policy(ok + "[identity.'b']\ndatasets = [\"tank/b\"]\npreset = \"read-only\"\n");
    REQUIRE_MESSAGE(quoted.ok(), quoted.error);
    CHECK(quoted.policy->identities.contains("b"));
}

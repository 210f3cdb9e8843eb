// Policy file loader: accepted files, one row per rejection, all-or-nothing, render round trip.
#include <algorithm>
#include <doctest/doctest.h>

#include "policy/policy_file.hpp"
#include "policy/toml_subset.hpp"
#include "tests/support.hpp"

using namespace policy;

namespace {
const std::string programs = "[programs]\nzfs = \"/sbin/zfs\"\nlzop = \"/usr/bin/lzop\"\n";
std::string with_identity(const std::string& body) {
    return programs + "[identity.a]\ndatasets = [\"tank/a\"]\npreset = \"syncoid-pull\"\n" + body;
}
} // namespace

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
    CHECK_FALSE(id.allow_destroy); // destroying is opt-in
    CHECK_FALSE(id.raw_only);
    CHECK(r.policy->audit.required);
    CHECK(r.policy->audit.syslog);
    CHECK(id.mbuffer_max_memory == "16M"); // what syncoid sends by default
}

TEST_CASE("every malformed policy is rejected whole, with a message") {
    struct Row {
        std::string text, message_part;
    };
    const Row rows[] = {
        {"", "zfs"},
        {programs, "no [identity"},
        {"[programs]\nzfs = \"sbin/zfs\"\n[identity.a]\ndatasets=[\"t\"]\npreset=\"read-only\"\n",
         "absolute"},
        {"[programs]\nzfs = "
         "\"/sbin/../bin/zfs\"\n[identity.a]\ndatasets=[\"t\"]\npreset=\"read-only\"\n",
         "absolute"},
        {"[programs]\nzfs = \"/sbin/zfs\"\nsh = \"/bin/sh\"\n", "unknown program"},
        {programs + "[identity.a]\npreset = \"syncoid-pull\"\n", "datasets is required"},
        {programs + "[identity.a]\ndatasets = []\npreset = \"syncoid-pull\"\n",
         "must not be empty"},
        {programs + "[identity.a]\ndatasets = [\"tank/a\"]\n", "preset is required"},
        {with_identity("raw_onyl = true\n"), "unknown key 'raw_onyl'"},
        {programs + "[identity.a]\ndatasets = [\"tank/a\"]\npreset = \"root\"\n", "preset must be"},
        {programs + "[identity.a]\ndatasets = [\"/tank/a\"]\npreset = \"read-only\"\n",
         "not a valid dataset"},
        {programs + "[identity.a]\ndatasets = [\"tank/a%b\"]\npreset = \"read-only\"\n",
         "not a valid dataset"},
        {programs + "[identity.a]\ndatasets = \"tank/a\"\npreset = \"read-only\"\n",
         "list of strings"},
        {with_identity("tools = [\"sh\"]\n"), "unknown tool"},
        {with_identity("tools = [\"mbuffer\"]\n"), "no path in [programs]"},
        {with_identity("allow_destroy = \"yes\"\n"), "true or false"},
        {with_identity("snapshot_prefix = \"\"\n"), "snapshot_prefix"},
        {with_identity("snapshot_prefix = \"syncoid_%\"\n"), "snapshot_prefix"},
        {with_identity("direct_connections = [\"host\"]\n"), "host:port"},
        {with_identity("mbuffer_max_memory = \"0\"\n"), "mbuffer_max_memory"},
        {with_identity("mbuffer_max_memory = \"17G\"\n"), "at most 16G"},
        {with_identity("mbuffer_max_memory = \"16T\"\n"), "mbuffer_max_memory"},
        {with_identity("mbuffer_max_memory = \"1 G\"\n"), "mbuffer_max_memory"},
        {with_identity("mbuffer_max_memory = \"-1M\"\n"), "mbuffer_max_memory"},
        {with_identity("mbuffer_max_memory = \"16MB\"\n"), "mbuffer_max_memory"},
        {with_identity("") + "[extra]\nx = true\n", "unknown key 'extra'"},
        {with_identity("") + "[audit]\nfile = \"log\"\n", "absolute"},
        {with_identity("") + "[audit]\nrequire = false\n", "unknown key 'require'"},
        {"[programs\n", "line 1"},
        {with_identity("datasets = [\"tank/b\"]\n"), "line"},
        {programs + "[identity.\"a b\"]\ndatasets = [\"tank/a\"]\npreset = \"read-only\"\n",
         "identity name"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.text);
        const auto r = parse_policy(row.text);
        CHECK_FALSE(r.ok());
        CHECK(r.error.find(row.message_part) != std::string::npos);
    }
}

TEST_CASE("a restore identity has a restore_root and nothing else") {
    const auto r = parse_policy(programs + R"(
[identity.restore]
preset = "restore"
restore_root = "NIXROOT/restore"
)");
    REQUIRE_MESSAGE(r.ok(), r.error);
    const auto& id = r.policy->identities.at("restore");
    CHECK(id.preset == Preset::restore);
    CHECK(id.restore_root == "NIXROOT/restore");
    CHECK(id.datasets == std::vector<std::string>{"NIXROOT/restore"}); // its probes' scope
    struct Row {
        std::string body, message_part;
    };
    const Row rows[] = {
        {"preset = \"restore\"\n", "restore_root is required"},
        {"preset = \"restore\"\nrestore_root = \"NIXROOT\"\n", "not the pool itself"},
        {"preset = \"restore\"\nrestore_root = \"NIXROOT/../x\"\n", "not a valid dataset"},
        {"preset = \"restore\"\nrestore_root = \"NIXROOT/r\"\ndatasets = [\"NIXROOT/home\"]\n",
         "'datasets' does not apply"},
        {"preset = \"restore\"\nrestore_root = \"NIXROOT/r\"\nallow_destroy = true\n",
         "'allow_destroy' does not apply"},
        {"preset = \"restore\"\nrestore_root = \"NIXROOT/r\"\nrestore_rot = \"x\"\n",
         "'restore_rot' does not apply"},
        {"preset = \"syncoid-pull\"\ndatasets = [\"t/a\"]\nrestore_root = \"t/r\"\n",
         "unknown key 'restore_root'"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.body);
        const auto bad = parse_policy(programs + "[identity.x]\n" + row.body);
        CHECK_FALSE(bad.ok());
        CHECK(bad.error.find(row.message_part) != std::string::npos);
    }
}

TEST_CASE("render_policy reads back as an equal policy") {
    const Policy p = test_support::corpus_policy();
    const auto again = parse_policy(render_policy(p));
    REQUIRE_MESSAGE(again.ok(), again.error);
    CHECK(*again.policy == p);
}

// Found by fuzz/fuzz_policy: toml++ 3.3 asserts (aborts) on a table header whose key starts
// with a character that cannot start a key (marzer/tomlplusplus#301) and on a `}` in an
// array's value position, and reaches TOML_UNREACHABLE on many non-ASCII code points (#295).
// The loader refuses them itself, with a line number, as part of the subset check below.
TEST_CASE("input toml++ 3.3 mishandles is refused before it parses") {
    const std::string ok = with_identity("");
    const std::string_view bad_headers[] = {
        "[`rograms]\n", "[[[1]]]\n",  "[[[a]]]\n", "[[[]]\n", "[[=\n",  "[\n",
        "[ \r\n",       "  [\t`x]\n", "[[ \n",     "[.a]\n",  "[a.]\n", "[a b]\n",
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
    CHECK(parse_policy("\xEF\xBB\xBF" + ok).error == "line 1: the file must be ASCII");

    const std::string_view braces[] = {
        "x = [}]\n", "x = [1, }]\n", "x = [\n  \"a\",\n}\n]\n", "audit = { syslog = true }\n",
        "# {\n",
    };
    for (const auto text : braces) {
        CAPTURE(text);
        const auto r = parse_policy(ok + std::string(text));
        CHECK_FALSE(r.ok());
        CHECK(r.error.find("'{' and '}' are not allowed") != std::string::npos);
    }
    CHECK(parse_policy(programs + "[identity.a]\ndatasets = [\"tank/a\",}\"b\"]\n").error ==
          "line 5: '{' and '}' are not allowed (no inline tables)");

    // Headers toml++ reports itself, and well-formed ones, are unaffected.
    CHECK_FALSE(parse_policy(ok + "[").ok());
    CHECK_FALSE(parse_policy(ok + "[]\n").ok());
    const auto quoted =
        parse_policy(ok + "[identity.'b']\ndatasets = [\"tank/b\"]\npreset = \"read-only\"\n");
    REQUIRE_MESSAGE(quoted.ok(), quoted.error);
    CHECK(quoted.policy->identities.contains("b"));
}

// Everything outside the policy subset (policy/toml_subset.hpp) is refused with a line number
// before toml++ parses anything; everything inside it still loads.
TEST_CASE("only the policy subset of TOML reaches toml++") {
    const std::string ok = with_identity("");
    struct Row {
        std::string added, message_part;
    };
    const Row refused[] = {
        {"[extra]\nx = 1\n", "a value must be"},
        {"[extra]\nx = 1979-05-27\n", "a value must be"},
        {"[extra]\nx = inf\n", "a value must be"},
        {"[extra]\nx = truex\n", "a value must be"},
        {"[extra]\nx = \"\"\"a\"\"\"\n", "multi-line strings"},
        {"[extra]\nx = '''a'''\n", "multi-line strings"},
        {"[extra]\nx = \"a\\u00e9\"\n", "escapes"},
        {"[extra]\nx = \"a\\n\"\n", "escapes"},
        {"[extra]\nx = \"a\n", "unterminated string"},
        {"[extra]\nx = [[\"a\"]]\n", "only hold strings"},
        {"[extra]\nx = [\"a\" \"b\"]\n", "expected ',' or ']'"},
        {"[extra]\nx = [true]\n", "only hold strings"},
        {"[extra]\nx.y = true\n", "dotted keys"},
        {"[extra]\nx true\n", "expected '='"},
        {"[extra]\n= true\n", "expected a key"},
        {"[extra]\nx = true y = false\n", "end of the line"},
        {"[extra] x = true\n", "end of the line"},
        {"[[extra]]\n", "arrays of tables"},
        {"x = \"a\"\rb\n", "carriage return"},
        {"x = \"\x01\"\n", "control characters"},
        {"[\x01]\n", "control characters"},
        {"x = \"\x7f\"\n", "control characters"},
    };
    const auto lines = static_cast<std::size_t>(std::count(ok.begin(), ok.end(), '\n'));
    for (const auto& row : refused) {
        CAPTURE(row.added);
        const auto r = parse_policy(ok + row.added);
        CHECK_FALSE(r.ok());
        CHECK(r.error.find(row.message_part) != std::string::npos);
        // Reported on the added text's first or second line, never "cannot load policy".
        const bool on_added_line = r.error.starts_with("line " + std::to_string(lines + 1) + ":") ||
                                   r.error.starts_with("line " + std::to_string(lines + 2) + ":");
        CHECK_MESSAGE(on_added_line, r.error);
    }

    // Inside the subset: comments anywhere a line may end or a list may break, trailing commas,
    // literal and escaped strings, quoted keys, blanks around dots, CRLF line ends.
    const std::string accepted =
        "# policy\r\n[programs]  # paths\r\nzfs = '/sbin/zfs'\r\n\"lzop\" = \"/usr/bin/lzop\"\r\n"
        "[ identity . \"b.c\" ]\ndatasets = [  # scope\n  \"tank/a\", # first\n\n  'tank/b',\n]\n"
        "preset=\"syncoid-pull\"\nraw_only\t=\ttrue\n";
    const auto r = parse_policy(accepted);
    REQUIRE_MESSAGE(r.ok(), r.error);
    REQUIRE(r.policy->identities.contains("b.c"));
    const auto& id = r.policy->identities.at("b.c");
    CHECK(id.datasets == std::vector<std::string>{"tank/a", "tank/b"});
    CHECK(id.raw_only);
    CHECK(r.policy->programs.at("lzop") == "/usr/bin/lzop");
    // The two escapes the subset keeps (toml++ decodes them; the loader then judges the value).
    CHECK(toml_subset_violation("x = \"a\\\"b\\\\c\"\n") == "");
    CHECK(toml_subset_violation("x = 'a\\b'\n") == "");
}

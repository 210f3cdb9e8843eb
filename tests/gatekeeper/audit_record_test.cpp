// Audit records: any bytes survive as valid one-line JSON; truncation is flagged; fields exist.
#include <doctest/doctest.h>

#include "gatekeeper/audit_record.hpp"
#include "tests/support.hpp"

using namespace gatekeeper;

TEST_CASE("the byte mapping round-trips every byte value") {
    std::string all;
    for (int c = 0; c < 256; ++c)
        all.push_back(static_cast<char>(c));
    CHECK(json_text_as_bytes(bytes_as_json_text(all)) == all);
}

TEST_CASE("hostile command bytes give one valid JSON line that decodes back") {
    const policy::Policy p = test_support::corpus_policy();
    const std::string nasty[] = {
        std::string("zfs list\n{\"decision\":\"allow\"}"),
        std::string("a\0b", 3),
        "\xff\xfe\xc3\x28 \x1b[31m",
        "zfs send -t " + std::string(300, 'f'),
        "\"quoted\" \\back\\slash",
    };
    RecordContext ctx{"2026-11-27T00:00:00.000000Z", "corpus\n\xff", "192.0.2.1", 2222, 7};
    for (const auto& cmd : nasty) {
        const auto parsed = grammar::parse_command(cmd);
        std::optional<policy::Decision> d;
        if (parsed.ok())
            d = policy::decide(*parsed.invocation, p.identities.at("corpus"), p.programs);
        const std::string line = to_line(decision_json(ctx, cmd, parsed, d ? &*d : nullptr));
        CHECK(line.find('\n') == std::string::npos);
        for (unsigned char c : line)
            CHECK((c >= 0x20 && c < 0x7f));
        const auto j = nlohmann::json::parse(line);
        CHECK(j["decision"] == "deny");
        CHECK(json_text_as_bytes(j["command"].get<std::string>()) == cmd);
        CHECK(json_text_as_bytes(j["identity"].get<std::string>()) == "corpus\n\xff");
        CHECK(j["client"]["port"] == 2222);
        CHECK_FALSE(j["reason"].get<std::string>().empty());
    }
}

TEST_CASE("oversize commands are truncated with a flag") {
    const std::string cmd(max_recorded_command + 100, 'a');
    const auto parsed = grammar::parse_command(cmd);
    const auto j = nlohmann::json::parse(to_line(decision_json({}, cmd, parsed, nullptr)));
    CHECK(j["command_truncated"] == true);
    CHECK(j["command_bytes"] == cmd.size());
    CHECK(j["command"].get<std::string>().size() == recorded_end_bytes);
    CHECK(j["command_tail"].get<std::string>().size() == recorded_end_bytes);
    const std::string whole(max_recorded_command, 'a');
    const auto w = nlohmann::json::parse(
        to_line(decision_json({}, whole, grammar::parse_command(whole), nullptr)));
    CHECK(w["command_truncated"] == false);
    CHECK(w["command"].get<std::string>() == whole);
    CHECK_FALSE(w.contains("command_tail"));
}

// A long run of padding must not hide what was refused: the head, the tail and the bytes
// around the parse error together always show the hostile part.
TEST_CASE("a denial's hostile part survives truncation, at the end or in the middle") {
    const std::string at_end = std::string(8200, ' ') + "; rm -rf /";
    const auto e = nlohmann::json::parse(
        to_line(decision_json({}, at_end, grammar::parse_command(at_end), nullptr)));
    CHECK(e["decision"] == "deny");
    CHECK(e["command_truncated"] == true);
    CHECK(json_text_as_bytes(e["command_tail"].get<std::string>()).ends_with("; rm -rf /"));
    CHECK(e["command_tail_offset"] == at_end.size() - recorded_end_bytes);

    const std::string padding(30000, ' ');
    const std::string middle = padding + "; rm -rf /" + padding;
    const auto parsed = grammar::parse_command(middle);
    REQUIRE_FALSE(parsed.ok());
    const auto m = nlohmann::json::parse(to_line(decision_json({}, middle, parsed, nullptr)));
    const std::string head = json_text_as_bytes(m["command"].get<std::string>());
    const std::string tail = json_text_as_bytes(m["command_tail"].get<std::string>());
    CHECK(head.find("rm -rf") == std::string::npos);
    CHECK(tail.find("rm -rf") == std::string::npos);
    REQUIRE(m.contains("error_context"));
    const std::string context = json_text_as_bytes(m["error_context"].get<std::string>());
    CHECK(context.find("; rm -rf /") != std::string::npos);
    const std::size_t from = m["error_context_offset"].get<std::size_t>();
    CHECK(middle.substr(from, context.size()) == context);
}

TEST_CASE("allowed records carry argv per stage and the canonical command") {
    const policy::Policy p = test_support::corpus_policy();
    const std::string cmd =
        " zfs send  'tank/data'@'a' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null";
    const auto parsed = grammar::parse_command(cmd);
    const auto d = policy::decide(*parsed.invocation, p.identities.at("corpus"), p.programs);
    const auto j = nlohmann::json::parse(to_line(decision_json({}, cmd, parsed, &d)));
    CHECK(j["decision"] == "allow");
    CHECK(j["rule"] == "send.full");
    CHECK(j["argv"].size() == 3);
    CHECK(j["argv"][0][0] == "/usr/sbin/zfs");
    CHECK(j["canonical"] ==
          "zfs send -- tank/data@a | lzop | mbuffer -q -s 128k -m 16M 2>/dev/null");
    CHECK(j["sudo_stripped"] == false);
}

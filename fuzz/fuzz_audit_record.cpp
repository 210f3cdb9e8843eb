// libFuzzer harness for audit records: arbitrary command bytes and identity strings through
// decision_json() and to_line(). The line must be printable ASCII (so one line, no raw
// newline), valid JSON, and its `command` and `identity` fields must decode back
// (json_text_as_bytes) to the input bytes, or `command_truncated` must be set with the input's
// head, tail and (for a parse error between them) the bytes around the error. Links the
// audit_record and policy libraries only, never the exec path.
//
// Input layout: byte 0 = identity length (low 7 bits) and, in bit 7, "repeat the command
// until it is longer than max_recorded_command" (reaches truncation without huge inputs);
// then the identity bytes, then the command bytes.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <string_view>

#include "fuzz/fixed_policy.hpp"
#include "fuzz/fuzz_check.hpp"
#include "gatekeeper/audit_record.hpp"
#include "grammar/parse.hpp"
#include "policy/decide.hpp"

namespace {

using fuzz::require;

// A long command keeps its head, its tail (with the offset it starts at) and, when a parse
// error lies between them, the bytes around the error: each must decode to exactly those input
// bytes, so a denial never hides the part that was refused.
void check_truncated(const nlohmann::json& back, const std::string& command,
                     const std::string& line) {
    using gatekeeper::json_text_as_bytes;
    const std::size_t ends = gatekeeper::recorded_end_bytes;
    require(command.size() > gatekeeper::max_recorded_command, "a short command is truncated",
            line);
    const std::string head = json_text_as_bytes(back["command"].get<std::string>());
    require(head == command.substr(0, ends), "truncated command is not the input's head", line);
    require(back["command_tail"].is_string() && back["command_tail_offset"].is_number_unsigned(),
            "truncated command without its tail", line);
    const auto tail_at = back["command_tail_offset"].get<std::size_t>();
    require(tail_at == command.size() - ends &&
                json_text_as_bytes(back["command_tail"].get<std::string>()) ==
                    command.substr(tail_at),
            "command_tail is not the input's tail", line);
    if (!back.contains("error_offset")) return;
    const auto at = back["error_offset"].get<std::size_t>();
    const bool hidden = at >= ends && at < tail_at; // neither head nor tail shows the error
    require(back.contains("error_context") == hidden,
            "error_context present exactly when the error lies between head and tail", line);
    if (!hidden) return;
    const auto from = back["error_context_offset"].get<std::size_t>();
    const std::string context = json_text_as_bytes(back["error_context"].get<std::string>());
    require(from <= at && at < from + context.size() &&
                command.substr(from, context.size()) == context,
            "error_context is not the input's bytes around the error", line);
}

void check_record(const gatekeeper::RecordContext& ctx, const std::string& command,
                  const grammar::ParseResult& parsed, const policy::Decision* decision) {
    const nlohmann::json record = gatekeeper::decision_json(ctx, command, parsed, decision);
    const std::string line = gatekeeper::to_line(record);
    require(fuzz::printable_ascii(line), "audit line holds a control, newline or non-ASCII byte",
            line);

    const auto back = nlohmann::json::parse(line, nullptr, false);
    require(!back.is_discarded() && back.is_object(), "audit line is not a JSON object", line);
    require(back == record, "audit line parses to a different record", line);

    require(back["identity"].is_string() &&
                gatekeeper::json_text_as_bytes(back["identity"].get<std::string>()) == ctx.identity,
            "identity field does not decode to the identity bytes", line);
    require(back["command_bytes"] == command.size(), "command_bytes differs from the input size",
            line);
    require(back["command"].is_string() && back["command_truncated"].is_boolean(), "command fields",
            line);
    const std::string recorded = gatekeeper::json_text_as_bytes(back["command"].get<std::string>());
    if (back["command_truncated"].get<bool>()) {
        check_truncated(back, command, line);
    } else {
        require(recorded == command, "command field does not decode to the input bytes", line);
        require(!back.contains("command_tail") && !back.contains("error_context"),
                "a whole command also has a tail or error context", line);
    }
    const bool allowed = decision != nullptr && decision->allowed();
    require(back["decision"] == (allowed ? "allow" : "deny"), "decision field", line);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    const std::size_t identity_len = std::min<std::size_t>(data[0] & 0x7f, size - 1);
    const bool repeat = (data[0] & 0x80) != 0;
    gatekeeper::RecordContext ctx;
    ctx.time = "2026-11-27T03:00:00.000000Z";
    ctx.identity.assign(reinterpret_cast<const char*>(data + 1), identity_len);
    ctx.client_address = "192.0.2.1";
    ctx.client_port = 22;
    ctx.pid = 4242;

    std::string command(reinterpret_cast<const char*>(data + 1 + identity_len),
                        size - 1 - identity_len);
    if (repeat && !command.empty()) {
        const std::string unit = command;
        while (command.size() <= gatekeeper::max_recorded_command)
            command += unit;
    }

    const grammar::ParseResult parsed = grammar::parse_command(command);
    if (!parsed.ok()) {
        check_record(ctx, command, parsed, nullptr);
        return 0;
    }
    const policy::Policy& pol = fuzz::fixed_policy();
    // The identity length picks which table decides, so all four presets get records.
    const char* table = fuzz::identity_names[identity_len % std::size(fuzz::identity_names)];
    const policy::Decision d =
        policy::decide(*parsed.invocation, pol.identities.at(table), pol.programs);
    check_record(ctx, command, parsed, &d);
    check_record(ctx, command, parsed, nullptr); // identity without a table: no decision
    return 0;
}

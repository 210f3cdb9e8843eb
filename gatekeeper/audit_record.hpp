// Renders decision and outcome records as single-line JSON. Pure (no clock, no I/O): the caller
// passes time, pid and peer address in. Attacker bytes go through nlohmann::json, never through
// a format string or a hand-written escaper.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "gatekeeper/outcome.hpp"
#include "grammar/parse.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// Longest command kept whole in a record. A longer one keeps its first and last
// recorded_end_bytes (`command`, `command_tail`) and, when the parse error lies between them,
// the bytes around it (`error_context`), so every denial shows what was refused.
inline constexpr std::size_t max_recorded_command = 8192;
inline constexpr std::size_t recorded_end_bytes = max_recorded_command / 2;
inline constexpr std::size_t recorded_context_bytes = 256; // either side of the error

struct RecordContext {
    std::string time; // RFC 3339, UTC, microseconds
    std::string identity;
    std::string client_address;
    std::optional<int> client_port;
    long pid = 0;
};

// Every input byte becomes one code point U+0000..U+00FF, so any byte string (control bytes,
// invalid UTF-8) is a valid JSON string that decodes back to exactly the same bytes.
std::string bytes_as_json_text(std::string_view bytes);
std::string json_text_as_bytes(std::string_view utf8);

// The fields shared by the dry-run report and the audit `decision` record.
nlohmann::json decision_json(const RecordContext& ctx, std::string_view command,
                             const grammar::ParseResult& parsed, const policy::Decision* decision);

// The `outcome` record written after an allowed invocation ran (or a builtin answered).
nlohmann::json outcome_json(const RecordContext& ctx, const RunOutcome& outcome,
                            const nlohmann::json& sandbox);

// One line, no trailing newline; ensure_ascii so the line is 7-bit clean.
std::string to_line(const nlohmann::json& record);

} // namespace gatekeeper

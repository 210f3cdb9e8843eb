// JSON rendering of gatekeeper decisions (see audit_record.hpp for the byte-mapping rule).
#include "gatekeeper/audit_record.hpp"

#include <algorithm>
#include <csignal>

#include "grammar/canonical.hpp"
#include "zg_config.hpp"

namespace gatekeeper {

std::string bytes_as_json_text(std::string_view bytes) {
    std::string out;
    out.reserve(bytes.size());
    for (unsigned char c : bytes) {
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else { // Latin-1 code point as two UTF-8 bytes
            out.push_back(static_cast<char>(0xC0 | (c >> 6)));
            out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
        }
    }
    return out;
}

std::string json_text_as_bytes(std::string_view utf8) {
    std::string out;
    for (std::size_t i = 0; i < utf8.size(); ++i) {
        const auto c = static_cast<unsigned char>(utf8[i]);
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
        } else if ((c == 0xC2 || c == 0xC3) && i + 1 < utf8.size()) {
            out.push_back(static_cast<char>(((c & 0x03) << 6) |
                                            (static_cast<unsigned char>(utf8[++i]) & 0x3F)));
        } else {
            out.push_back('?'); // not produced by bytes_as_json_text
        }
    }
    return out;
}

nlohmann::json decision_json(const RecordContext& ctx, std::string_view command,
                             const grammar::ParseResult& parsed, const policy::Decision* decision) {
    using nlohmann::json;
    json j;
    j["time"] = ctx.time;
    j["event"] = "decision";
    j["version"] = ZG_VERSION;
    j["pid"] = ctx.pid;
    j["identity"] = bytes_as_json_text(ctx.identity);
    j["client"] = {{"address", ctx.client_address},
                   {"port", ctx.client_port ? json(*ctx.client_port) : json(nullptr)}};
    const bool truncated = command.size() > max_recorded_command;
    j["command"] = bytes_as_json_text(truncated ? command.substr(0, recorded_end_bytes) : command);
    j["command_bytes"] = command.size();
    j["command_truncated"] = truncated;
    const std::size_t tail_start = command.size() - recorded_end_bytes;
    if (truncated) {
        j["command_tail"] = bytes_as_json_text(command.substr(tail_start));
        j["command_tail_offset"] = tail_start;
    }

    const bool allowed = decision != nullptr && decision->allowed();
    j["decision"] = allowed ? "allow" : "deny";
    if (!parsed.ok()) {
        const std::size_t at = parsed.error.offset;
        j["stage"] = std::string(grammar::stage_name(parsed.error.stage));
        j["reason"] = bytes_as_json_text(parsed.error.message);
        j["error_offset"] = at;
        if (truncated && at >= recorded_end_bytes && at < tail_start) {
            const std::size_t from = at - std::min(at, recorded_context_bytes);
            j["error_context"] =
                bytes_as_json_text(command.substr(from, 2 * recorded_context_bytes));
            j["error_context_offset"] = from;
        }
        return j;
    }
    j["stage"] = "policy";
    j["sudo_stripped"] = parsed.invocation->sudo_stripped;
    if (decision == nullptr) return j;
    j["rule"] = decision->rule;
    if (!allowed) {
        // Reasons can quote attacker bytes (e.g. a resume token's field names).
        j["reason"] = bytes_as_json_text(decision->reason());
        return j;
    }
    j["canonical"] = grammar::render_command(decision->effective);
    if (const auto* answer = decision->builtin()) {
        j["builtin"] = {{"stdout", answer->stdout_text}, {"exit_status", answer->exit_status}};
        j["argv"] = json::array();
        return j;
    }
    json flat = json::array();
    json pipelines = json::array();
    for (const auto& pipeline : decision->argv()) {
        json stages = json::array();
        for (const auto& argv : pipeline) {
            flat.push_back(argv);
            stages.push_back(argv);
        }
        pipelines.push_back(stages);
    }
    j["argv"] = flat;
    j["pipelines"] = pipelines;
    return j;
}

nlohmann::json outcome_json(const RecordContext& ctx, const RunOutcome& outcome,
                            const nlohmann::json& sandbox) {
    using nlohmann::json;
    json stages = json::array();
    for (const auto& s : outcome.stages) {
        json st{{"pipeline", s.pipeline},
                {"stage", s.stage},
                {"program", s.program},
                {"started", s.started}};
        if (s.signal != 0) {
            st["signal"] = s.signal;
            st["sigsys"] = s.signal == SIGSYS; // killed by the seccomp filter
            // waitpid does not say which call it was; the kernel audit log (type=SECCOMP) does.
            if (s.signal == SIGSYS) st["syscall"] = nullptr;
        } else {
            st["exit_code"] = s.exit_code;
        }
        stages.push_back(st);
    }
    json j{{"time", ctx.time},
           {"event", "outcome"},
           {"version", ZG_VERSION},
           {"pid", ctx.pid},
           {"identity", bytes_as_json_text(ctx.identity)},
           {"client",
            {{"address", ctx.client_address},
             {"port", ctx.client_port ? json(*ctx.client_port) : json(nullptr)}}},
           {"exit_status", outcome.exit_status},
           {"duration_ms", outcome.duration_ms},
           {"client_hung_up", outcome.client_hung_up},
           {"stages", stages},
           {"sandbox", sandbox}};
    if (outcome.supervisor_signal != 0) j["supervisor_signal"] = outcome.supervisor_signal;
    if (!outcome.error.empty()) j["error"] = outcome.error;
    return j;
}

std::string to_line(const nlohmann::json& record) {
    // ensure_ascii: every byte >= 0x80 and every control byte is a \u escape.
    // Every client-derived string went through bytes_as_json_text, so the text is valid UTF-8;
    // `replace` is a second line of defence that can never throw on the serve path.
    return record.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
}

} // namespace gatekeeper

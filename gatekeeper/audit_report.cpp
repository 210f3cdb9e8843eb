// The audit report. A record counts when it has the exact shape audit_record.cpp writes (the
// fields a reader relies on, with their types); anything else is a bad record. Records are
// tied together by pid: an outcome belongs to the last allowed decision of its pid.
#include "gatekeeper/audit_report.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "gatekeeper/audit_record.hpp"
#include "ops/time_text.hpp"

namespace gatekeeper {
namespace {

using nlohmann::json;

constexpr std::size_t excerpt_bytes = 120;

bool is_string(const json& j, const char* key) {
    return j.contains(key) && j[key].is_string();
}
bool is_integer(const json& j, const char* key) {
    return j.contains(key) && j[key].is_number_integer();
}
bool is_bool(const json& j, const char* key) {
    return j.contains(key) && j[key].is_boolean();
}

// "" when the record has the shape the gatekeeper writes, else why not.
std::string shape_problem(const json& r) {
    if (!r.is_object()) return "not a JSON object";
    if (!is_string(r, "event")) return "no event";
    if (!is_string(r, "time") || !ops::parse_rfc3339(r["time"].get<std::string>()))
        return "no RFC 3339 time";
    if (!is_integer(r, "pid")) return "no pid";
    if (!is_string(r, "identity")) return "no identity";
    if (!is_string(r, "version")) return "no version";
    if (!r.contains("client") || !r["client"].is_object() || !is_string(r["client"], "address"))
        return "no client address";
    const std::string event = r["event"].get<std::string>();
    if (event == "decision") {
        if (!is_string(r, "decision")) return "decision without a verdict";
        const std::string d = r["decision"].get<std::string>();
        if (d != "allow" && d != "deny") return "decision is neither allow nor deny";
        if (!is_string(r, "command") || !r.contains("command_bytes") ||
            !r["command_bytes"].is_number_unsigned() || !is_bool(r, "command_truncated"))
            return "decision without its command";
        if (!is_string(r, "stage")) return "decision without a stage";
        if (d == "deny" && !is_string(r, "reason")) return "denial without a reason";
        if (d == "allow" && (!is_string(r, "rule") || !r.contains("argv") || !r["argv"].is_array()))
            return "allowed decision without rule or argv";
        return "";
    }
    if (event == "outcome") {
        if (!is_integer(r, "exit_status")) return "outcome without an exit status";
        if (!r.contains("stages") || !r["stages"].is_array()) return "outcome without stages";
        for (const auto& s : r["stages"])
            if (!s.is_object() || !is_string(s, "program"))
                return "outcome stage without a program";
        return "";
    }
    return "unknown event";
}

std::string client_of(const json& r) {
    return r["client"]["address"].get<std::string>();
}

} // namespace

std::size_t AuditReport::denied() const {
    std::size_t n = 0;
    for (const auto& p : peers)
        n += p.denied;
    return n;
}

std::size_t AuditReport::killed() const {
    std::size_t n = 0;
    for (const auto& p : peers)
        n += p.killed.size();
    return n;
}

std::string printable(std::string_view bytes) {
    std::string out;
    for (unsigned char c : bytes) {
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += static_cast<char>(c);
        } else {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

PeerReport& AuditReportBuilder::peer(const std::string& identity, const std::string& client) {
    PeerReport& p = peers_[{identity, client}];
    p.identity = identity;
    p.client = client;
    return p;
}

// A bad line has no time of its own: it belongs where it stands in the log, between the valid
// records around it. Before the first valid record, the next one decides.
void AuditReportBuilder::place_pending(double time) {
    const bool inside = !report_.since || time >= *report_.since;
    for (auto& b : pending_bad_)
        if (inside) report_.bad.push_back(std::move(b));
    pending_bad_.clear();
}

void AuditReportBuilder::add_line(std::string_view line) {
    ++line_number_;
    if (line.empty()) return;
    ++report_.lines;
    const auto bad = [&](std::string why) {
        BadRecord b{line_number_, std::move(why), printable(line.substr(0, excerpt_bytes))};
        const bool inside =
            !report_.since || !last_valid_time_ || *last_valid_time_ >= *report_.since;
        if (!last_valid_time_)
            pending_bad_.push_back(std::move(b));
        else if (inside)
            report_.bad.push_back(std::move(b));
    };
    const json r = json::parse(line, nullptr, false);
    if (r.is_discarded()) return bad("not JSON (a torn or foreign line)");
    if (std::string why = shape_problem(r); !why.empty()) return bad(std::move(why));

    const std::string time = r["time"].get<std::string>();
    const double t = *ops::parse_rfc3339(time);
    last_valid_time_ = t;
    place_pending(t);
    const long pid = r["pid"].get<long>();
    const std::string identity = json_text_as_bytes(r["identity"].get<std::string>());
    const bool inside = !report_.since || t >= *report_.since;

    if (r["event"] == "decision") {
        const std::string command = json_text_as_bytes(r["command"].get<std::string>());
        const bool allowed = r["decision"] == "allow";
        if (allowed) open_[pid] = {command, identity, client_of(r)};
        if (!inside) return;
        ++report_.records;
        if (report_.first_time.empty()) report_.first_time = time;
        report_.last_time = time;
        PeerReport& p = peer(identity, client_of(r));
        if (allowed) {
            ++p.allowed;
            p.last_allowed_time = time;
            return;
        }
        ++p.denied;
        p.last_denied_time = time;
        const std::string rule =
            is_string(r, "rule") ? r["rule"].get<std::string>() : r["stage"].get<std::string>();
        const auto same = [&](const DeniedCommand& d) { return d.command == command; };
        auto it = std::find_if(p.denials.begin(), p.denials.end(), same);
        if (it == p.denials.end()) {
            p.denials.push_back(
                {command, rule, json_text_as_bytes(r["reason"].get<std::string>()), 0, time, time});
            it = p.denials.end() - 1;
        }
        ++it->count;
        it->last_time = time;
        return;
    }

    // An outcome: it closes the last allowed decision of its pid.
    const auto open = open_.find(pid);
    if (open == open_.end()) return bad("outcome without an allowed decision before it");
    const OpenSession session = open->second;
    open_.erase(open);
    if (!inside) return;
    ++report_.records;
    report_.last_time = time;
    for (const auto& s : r["stages"]) {
        if (!is_bool(s, "sigsys") || !s["sigsys"].get<bool>()) continue;
        const int sig = is_integer(s, "signal") ? s["signal"].get<int>() : 0;
        peer(session.identity, session.client)
            .killed.push_back({time, session.command, s["program"].get<std::string>(), sig});
    }
}

AuditReport AuditReportBuilder::finish() {
    for (auto& b : pending_bad_)
        report_.bad.push_back(std::move(b)); // no valid record at all: nothing places them
    pending_bad_.clear();
    report_.unfinished = open_.size();
    for (auto& [key, p] : peers_)
        report_.peers.push_back(std::move(p));
    return std::move(report_);
}

std::string render_report_text(const AuditReport& r, const std::string& source) {
    std::string out = "zfs-gatekeeper audit report: " + source + "\n";
    out += "  window: " + (r.since ? "since " + ops::format_rfc3339(*r.since) : "whole log") +
           "; " + std::to_string(r.records) + " records" +
           (r.records ? " from " + r.first_time + " to " + r.last_time : "") + "; " +
           std::to_string(r.lines) + " lines read\n\n";
    char row[256];
    std::snprintf(row, sizeof row, "%-24s %-20s %8s %8s %7s  %s\n", "IDENTITY", "CLIENT", "ALLOWED",
                  "DENIED", "SIGSYS", "LAST DENIAL");
    out += row;
    for (const auto& p : r.peers) {
        std::snprintf(
            row, sizeof row, "%-24s %-20s %8u %8u %7zu  %s\n", printable(p.identity).c_str(),
            p.client.empty() ? "-" : printable(p.client).c_str(), p.allowed, p.denied,
            p.killed.size(), p.last_denied_time.empty() ? "-" : p.last_denied_time.c_str());
        out += row;
    }
    for (const auto& p : r.peers) {
        if (p.denials.empty()) continue;
        out += "\nDENIED for " + printable(p.identity) + " from " + printable(p.client) + ":\n";
        for (const auto& d : p.denials)
            out += "  " + std::to_string(d.count) + "x  " + d.first_time +
                   (d.count > 1 ? " .. " + d.last_time : "") + "  [" + printable(d.rule) + "] " +
                   printable(d.command) + "\n      reason: " + printable(d.reason) + "\n";
    }
    for (const auto& p : r.peers) {
        if (p.killed.empty()) continue;
        out += "\nKILLED BY THE SANDBOX (SIGSYS) for " + printable(p.identity) + " from " +
               printable(p.client) + ":\n";
        for (const auto& k : p.killed)
            out +=
                "  " + k.time + "  " + printable(k.program) + " in: " + printable(k.command) + "\n";
    }
    if (!r.bad.empty()) {
        out += "\nBAD RECORDS (torn, forged or foreign lines):\n";
        for (const auto& b : r.bad)
            out += "  line " + std::to_string(b.line) + ": " + b.why + ": " + b.excerpt + "\n";
    }
    if (r.unfinished > 0)
        out += "\n" + std::to_string(r.unfinished) +
               " allowed session(s) without an outcome record (still running, or killed)\n";
    out += "\n";
    out += r.alarming()
               ? "ALERT: " + std::to_string(r.denied()) + " denied, " + std::to_string(r.killed()) +
                     " killed by the sandbox, " + std::to_string(r.bad.size()) + " bad records\n"
               : "ok: nothing denied, nothing killed, every record valid\n";
    return out;
}

std::string render_report_json(const AuditReport& r, const std::string& source) {
    json peers = json::array();
    for (const auto& p : r.peers) {
        json denials = json::array(), killed = json::array();
        for (const auto& d : p.denials)
            denials.push_back({{"command", bytes_as_json_text(d.command)},
                               {"rule", d.rule},
                               {"reason", bytes_as_json_text(d.reason)},
                               {"count", d.count},
                               {"first", d.first_time},
                               {"last", d.last_time}});
        for (const auto& k : p.killed)
            killed.push_back({{"time", k.time},
                              {"program", k.program},
                              {"signal", k.signal},
                              {"command", bytes_as_json_text(k.command)}});
        peers.push_back({{"identity", bytes_as_json_text(p.identity)},
                         {"client", p.client},
                         {"allowed", p.allowed},
                         {"denied", p.denied},
                         {"last_allowed", p.last_allowed_time},
                         {"last_denied", p.last_denied_time},
                         {"denials", denials},
                         {"killed", killed}});
    }
    json bad = json::array();
    for (const auto& b : r.bad)
        bad.push_back({{"line", b.line}, {"why", b.why}, {"excerpt", b.excerpt}});
    const json j{{"source", source},
                 {"since", r.since ? json(ops::format_rfc3339(*r.since)) : json(nullptr)},
                 {"lines", r.lines},
                 {"records", r.records},
                 {"first", r.first_time},
                 {"last", r.last_time},
                 {"unfinished", r.unfinished},
                 {"denied", r.denied()},
                 {"killed", r.killed()},
                 {"alarm", r.alarming()},
                 {"peers", peers},
                 {"bad_records", bad}};
    return j.dump(-1, ' ', true, json::error_handler_t::replace) + "\n";
}

std::vector<ops::MetricFamily> report_metrics(const AuditReport& r, double now) {
    using ops::MetricFamily;
    MetricFamily decisions{
        "zfs_gatekeeper_audit_decisions",
        "Decisions in the audit report's window, per identity, client and verdict.",
        "gauge",
        {}};
    MetricFamily killed{"zfs_gatekeeper_audit_sandbox_kills",
                        "Stages the seccomp filter killed (SIGSYS) in the window.",
                        "gauge",
                        {}};
    MetricFamily last_denial{"zfs_gatekeeper_audit_last_denial_timestamp_seconds",
                             "Time of the newest denial in the window.",
                             "gauge",
                             {}};
    for (const auto& p : r.peers) {
        const std::vector<std::pair<std::string, std::string>> who{
            {"identity", printable(p.identity)}, {"client", printable(p.client)}};
        auto with = [&](const char* verdict) {
            auto l = who;
            l.emplace_back("decision", verdict);
            return l;
        };
        decisions.samples.push_back({with("allow"), static_cast<double>(p.allowed)});
        decisions.samples.push_back({with("deny"), static_cast<double>(p.denied)});
        killed.samples.push_back({who, static_cast<double>(p.killed.size())});
        if (!p.last_denied_time.empty())
            last_denial.samples.push_back({who, *ops::parse_rfc3339(p.last_denied_time)});
    }
    return {decisions,
            killed,
            last_denial,
            {"zfs_gatekeeper_audit_bad_records",
             "Audit lines that are not records of the gatekeeper's shape (torn or forged).",
             "gauge",
             {{{}, static_cast<double>(r.bad.size())}}},
            {"zfs_gatekeeper_audit_alarm",
             "1 when the window holds a denial, a sandbox kill or a bad record.",
             "gauge",
             {{{}, r.alarming() ? 1.0 : 0.0}}},
            {"zfs_gatekeeper_audit_report_timestamp_seconds",
             "When this report was made.",
             "gauge",
             {{{}, now}}}};
}

} // namespace gatekeeper

// `zfs-gatekeeper audit-report`: reads the JSON-lines audit log (the file, or `journalctl -o cat`
// on stdin), validates every record, and sums up per identity and client address what was
// allowed, what was denied (each command once, with its first and last time) and which sessions
// the sandbox killed. A record that does not parse or does not have the shape the gatekeeper
// writes is an alarm of its own: a torn line, or one written by someone else. Pure: lines in,
// a report out; main.cpp reads the input and writes the outputs.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ops/prometheus.hpp"

namespace gatekeeper {

struct DeniedCommand {
    std::string command; // the bytes the client sent (the recorded part of it)
    std::string rule;    // "scope", or the parse stage ("lexical", "grammar") when it never parsed
    std::string reason;
    unsigned count = 0;
    std::string first_time, last_time;
};

struct KilledSession {
    std::string time;
    std::string command; // of the allowed decision the killed stage belonged to
    std::string program;
    int signal = 0;
};

struct PeerReport {
    std::string identity, client;
    unsigned allowed = 0, denied = 0;
    std::vector<DeniedCommand> denials; // first denial first
    std::vector<KilledSession> killed;  // stages ended by SIGSYS (the seccomp filter)
    std::string last_allowed_time, last_denied_time;
};

struct BadRecord {
    std::size_t line = 0;
    std::string why;
    std::string excerpt; // the first bytes of the line
};

struct AuditReport {
    std::vector<PeerReport> peers; // ordered by identity, then client
    std::vector<BadRecord> bad;
    std::size_t lines = 0;             // non-empty lines read
    std::size_t records = 0;           // valid records inside the window
    std::size_t unfinished = 0;        // allowed decisions without an outcome record (yet)
    std::optional<double> since;       // window start (epoch seconds); none: everything
    std::string first_time, last_time; // of the valid records inside the window

    std::size_t denied() const;
    std::size_t killed() const;
    // What a timer alerts on: any denial, sandbox kill or bad record in the window.
    bool alarming() const { return denied() > 0 || killed() > 0 || !bad.empty(); }
};

class AuditReportBuilder {
  public:
    explicit AuditReportBuilder(std::optional<double> since) { report_.since = since; }
    void add_line(std::string_view line);
    AuditReport finish();

  private:
    struct OpenSession {
        std::string command;
        std::string identity, client;
    };
    void place_pending(double time);
    PeerReport& peer(const std::string& identity, const std::string& client);

    AuditReport report_;
    std::size_t line_number_ = 0;
    std::optional<double> last_valid_time_;
    std::vector<BadRecord> pending_bad_; // before the first valid record: placed by the next one
    std::map<long, OpenSession> open_;   // pid -> its allowed decision awaiting the outcome
    std::map<std::pair<std::string, std::string>, PeerReport> peers_;
};

// Text for a terminal: a table per identity and client, then the denied commands, the killed
// sessions and the bad records. Attacker bytes are escaped (\xHH): no terminal escape survives.
std::string render_report_text(const AuditReport& report, const std::string& source);
// One JSON object.
std::string render_report_json(const AuditReport& report, const std::string& source);
// node-exporter textfile metrics (zfs_gatekeeper_audit_*), `now` the report's time.
std::vector<ops::MetricFamily> report_metrics(const AuditReport& report, double now);

// Bytes made safe to print: printable ASCII as is, everything else as \xHH.
std::string printable(std::string_view bytes);

} // namespace gatekeeper

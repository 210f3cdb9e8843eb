// Where audit records go: an O_APPEND file (one write() per record, so concurrent sessions
// never interleave) and/or syslog (journald picks it up). Opened once, before anything runs.
#pragma once

#include <string>

#include "policy/policy.hpp"

namespace gatekeeper {

class AuditSink {
  public:
    // Opens the configured sinks. error() is non-empty when a configured sink cannot be used.
    explicit AuditSink(const policy::AuditConfig& config);
    ~AuditSink();
    AuditSink(const AuditSink&) = delete;
    AuditSink& operator=(const AuditSink&) = delete;

    // Writes one record (a single line, no newline) to every sink; false if any write failed.
    bool write(const std::string& line);
    // write(), but false only when the failure must stop the session (`required = true`).
    bool record(const std::string& line) { return write(line) || !required_; }
    // Nothing may run unless every configured sink opened, or the audit is not required.
    bool usable() const { return error_.empty() || !required_; }
    const std::string& error() const { return error_; }

  private:
    int fd_ = -1;
    bool syslog_ = false;
    bool required_ = true;
    std::string error_;
};

} // namespace gatekeeper

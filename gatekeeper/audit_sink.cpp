// Audit sinks. The file is opened O_APPEND|O_NOFOLLOW|O_CLOEXEC (the incumbent wrote to a fixed
// /tmp path that a symlink could redirect); records go out in one write(2) each.
#include "gatekeeper/audit_sink.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <syslog.h>
#include <unistd.h>

namespace gatekeeper {

AuditSink::AuditSink(const policy::AuditConfig& config)
    : syslog_(config.syslog), required_(config.required) {
    if (config.file) {
        fd_ = ::open(config.file->c_str(),
                     O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd_ < 0)
            error_ = "cannot open audit file " + *config.file + ": " + std::strerror(errno);
    }
}

AuditSink::~AuditSink() {
    if (fd_ >= 0) ::close(fd_);
}

bool AuditSink::write(const std::string& line) {
    bool ok = error_.empty();
    if (fd_ >= 0) {
        std::string record = line + "\n";
        // O_APPEND makes each write(2) land whole at the end of the file; a short write would
        // split a record, so it counts as a failure.
        ssize_t n;
        do {
            n = ::write(fd_, record.data(), record.size());
        } while (n < 0 && errno == EINTR);
        if (n != static_cast<ssize_t>(record.size())) {
            ok = false;
            error_ = "cannot write audit file";
        }
    }
    // Facility authpriv on every record, whatever openlog() the diagnostics logger (facility
    // daemon, main.cpp) made: `journalctl -t zfs-gatekeeper SYSLOG_FACILITY=10` is the records
    // alone. The first record connects to syslog, before any seccomp filter is loaded.
    if (syslog_) ::syslog(LOG_AUTHPRIV | LOG_INFO, "%s", line.c_str()); // never a format string
    return ok;
}

} // namespace gatekeeper

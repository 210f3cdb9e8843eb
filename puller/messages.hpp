// zfs-puller's operational messages (errors, warnings, what a run did, --verbose traces) and its
// JSON progress lines: through spdlog to stderr, one write(2) per line. Under systemd (journald's
// stream is our stderr) each line starts with the syslog level journald reads ("<3>" ...); else
// plain "zfs-puller: ...". Every message is escaped on its way out: bytes other than printable
// ASCII are shown as \xNN, so nothing the source sends can move the cursor or hide a line.
#pragma once

#include <string>
#include <string_view>

namespace puller {

// Printable ASCII as is (a backslash doubled), every other byte as \xNN.
std::string escaped(std::string_view text);

// quiet: warnings and errors; normal: also info and progress; verbose: also debug traces.
enum class Verbosity { quiet, normal, verbose };

// (Re)makes the loggers for fd 2 at this verbosity, choosing journald prefixes when
// JOURNAL_STREAM names fd 2. Messages before the first call go out at normal verbosity.
void configure_logging(Verbosity verbosity);

void log_error(std::string_view message);
void log_warning(std::string_view message);
void log_info(std::string_view message);
void log_debug(std::string_view message);
// A usage or configuration error, then a second error line pointing at --help.
void log_usage_error(std::string_view message);
// One JSON progress line, info level, without the "zfs-puller: " prefix (a reader parses it).
void log_progress(std::string_view json_line);

// True when JOURNAL_STREAM ("DEVICE:INODE", set by systemd for a service whose stdout/stderr is
// connected to journald) names the file `fd` is open on, as sd_journal_stream_fd(3) says to
// check: a child that inherited the variable but whose stderr was redirected gets plain lines.
bool journal_stream_matches(const char* journal_stream, int fd);

} // namespace puller

// The stderr loggers: spdlog with one small synchronous sink of our own (StderrSink), because a
// line's journald prefix depends on its level, which spdlog's stock stderr sinks cannot add.
// Single-threaded (null_mutex), no registry, no async: a message is on fd 2 when the call returns.
#include "puller/messages.hpp"

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <spdlog/details/null_mutex.h>
#include <spdlog/logger.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/base_sink.h>
#include <sys/stat.h>
#include <unistd.h>

namespace puller {
namespace {

// The syslog priority journald reads from the start of a stream line (sd-daemon(3)).
const char* journal_prefix(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::critical:
        return "<2>";
    case spdlog::level::err:
        return "<3>";
    case spdlog::level::warn:
        return "<4>";
    case spdlog::level::info:
        return "<6>";
    default:
        return "<7>";
    }
}

// Escapes the message, formats it with the sink's pattern, prefixes the level for journald when
// asked, and writes the line with one write(2): a line never interleaves with a child's output.
class StderrSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
  public:
    StderrSink(int fd, bool journald) : fd_(fd), journald_(journald) {}

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        const std::string text = escaped(std::string_view(msg.payload.data(), msg.payload.size()));
        spdlog::details::log_msg safe = msg;
        safe.payload = spdlog::string_view_t(text.data(), text.size());
        spdlog::memory_buf_t formatted;
        formatter_->format(safe, formatted);
        std::string line = journald_ ? journal_prefix(msg.level) : "";
        line.append(formatted.data(), formatted.size());
        std::string_view rest = line;
        while (!rest.empty()) {
            const ssize_t n = ::write(fd_, rest.data(), rest.size());
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return; // stderr gone: nothing better to tell anyone
            rest.remove_prefix(static_cast<std::size_t>(n));
        }
    }
    void flush_() override {}

  private:
    int fd_;
    bool journald_;
};

struct Loggers {
    std::shared_ptr<spdlog::logger> messages, progress;
};

Loggers make_loggers(Verbosity verbosity) {
    const bool journald = journal_stream_matches(std::getenv("JOURNAL_STREAM"), STDERR_FILENO);
    const auto level = verbosity == Verbosity::quiet     ? spdlog::level::warn
                       : verbosity == Verbosity::verbose ? spdlog::level::debug
                                                         : spdlog::level::info;
    Loggers l;
    const auto message_sink = std::make_shared<StderrSink>(STDERR_FILENO, journald);
    message_sink->set_pattern("zfs-puller: %v");
    l.messages = std::make_shared<spdlog::logger>("zfs-puller", message_sink);
    const auto progress_sink = std::make_shared<StderrSink>(STDERR_FILENO, journald);
    progress_sink->set_pattern("%v");
    l.progress = std::make_shared<spdlog::logger>("progress", progress_sink);
    for (const auto& logger : {l.messages, l.progress})
        logger->set_level(level);
    return l;
}

Loggers& loggers() {
    static Loggers l = make_loggers(Verbosity::normal);
    return l;
}

void log_at(spdlog::level::level_enum level, std::string_view message) {
    loggers().messages->log(level, spdlog::string_view_t(message.data(), message.size()));
}

} // namespace

std::string escaped(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            out += "\\\\";
        } else if (c >= 0x20 && c < 0x7f) {
            out += ch;
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

bool journal_stream_matches(const char* journal_stream, int fd) {
    if (journal_stream == nullptr) return false;
    char* end = nullptr;
    errno = 0;
    const unsigned long long dev = std::strtoull(journal_stream, &end, 10);
    if (errno != 0 || end == journal_stream || *end != ':') return false;
    const char* inode_text = end + 1;
    const unsigned long long ino = std::strtoull(inode_text, &end, 10);
    if (errno != 0 || end == inode_text || *end != '\0') return false;
    struct stat st {};
    return ::fstat(fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

void configure_logging(Verbosity verbosity) {
    loggers() = make_loggers(verbosity);
}

void log_error(std::string_view message) {
    log_at(spdlog::level::err, message);
}
void log_warning(std::string_view message) {
    log_at(spdlog::level::warn, message);
}
void log_info(std::string_view message) {
    log_at(spdlog::level::info, message);
}
void log_debug(std::string_view message) {
    log_at(spdlog::level::debug, message);
}

void log_usage_error(std::string_view message) {
    log_error(message);
    log_error("(try zfs-puller --help)");
}

void log_progress(std::string_view json_line) {
    loggers().progress->log(spdlog::level::info,
                            spdlog::string_view_t(json_line.data(), json_line.size()));
}

} // namespace puller

// Progress lines, on stderr only (stdout carries the JSON summaries). JSON lines go through the
// progress logger (messages.hpp: journald level, --quiet); the bar is written raw: it is one
// terminal line redrawn in place with \r and an erase sequence, which a line logger cannot do.
#include "puller/progress.hpp"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "puller/messages.hpp"

namespace puller {

std::string human_bytes(std::uint64_t bytes) {
    const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = static_cast<double>(bytes);
    int u = 0;
    while (v >= 1024.0 && u < 5) {
        v /= 1024.0;
        ++u;
    }
    char buf[32];
    if (u == 0)
        std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
    else
        std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
    return buf;
}

std::string human_duration(double seconds) {
    if (seconds < 0) seconds = 0;
    const auto s = static_cast<long long>(seconds + 0.5);
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
    else if (s >= 60)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else
        std::snprintf(buf, sizeof buf, "%llds", s);
    return buf;
}

std::string progress_bar_line(const std::string& dataset, std::uint64_t bytes,
                              std::uint64_t estimate, double seconds, unsigned width) {
    const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
    std::string line = escaped(dataset) + " " + human_bytes(bytes);
    if (estimate > 0) {
        const double frac =
            std::min(1.0, static_cast<double>(bytes) / static_cast<double>(estimate));
        std::string bar(width, ' ');
        for (unsigned i = 0; i < static_cast<unsigned>(frac * width); ++i)
            bar[i] = '#';
        char pct[16];
        std::snprintf(pct, sizeof pct, "%3.0f%%", frac * 100);
        line += " / " + human_bytes(estimate) + " [" + bar + "] " + pct;
    }
    line += " " + human_bytes(static_cast<std::uint64_t>(rate)) + "/s";
    if (estimate > bytes && rate > 0)
        line += " ETA " + human_duration(static_cast<double>(estimate - bytes) / rate);
    return line;
}

std::string progress_json_line(const std::string& job, const std::string& dataset,
                               std::uint64_t bytes, std::uint64_t estimate, double seconds) {
    nlohmann::ordered_json j;
    j["event"] = "progress";
    j["job"] = job;
    j["dataset"] = dataset;
    j["bytes"] = bytes;
    j["estimate"] = estimate;
    j["seconds"] = static_cast<double>(static_cast<long long>(seconds * 10)) / 10;
    const double rate = seconds > 0 ? static_cast<double>(bytes) / seconds : 0;
    j["rate"] = static_cast<std::uint64_t>(rate);
    if (estimate > bytes && rate > 0)
        j["eta"] = static_cast<std::uint64_t>(static_cast<double>(estimate - bytes) / rate);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Progress::Progress(ProgressMode mode, double interval) : mode_(mode), interval_(interval) {
    if (mode_ == ProgressMode::automatic)
        mode_ = ::isatty(STDERR_FILENO) ? ProgressMode::bar : ProgressMode::json;
}

void Progress::begin(const std::string& job, const std::string& dataset, std::uint64_t estimate) {
    job_ = job;
    dataset_ = dataset;
    estimate_ = estimate;
    start_ = last_ = std::chrono::steady_clock::now();
    active_ = true;
}

void Progress::print(std::uint64_t bytes) {
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (mode_ == ProgressMode::bar) {
        std::fprintf(stderr, "\r\033[K%s",
                     progress_bar_line(dataset_, bytes, estimate_, secs, 24).c_str());
        std::fflush(stderr);
    } else if (mode_ == ProgressMode::json) {
        log_progress(progress_json_line(job_, dataset_, bytes, estimate_, secs));
    }
}

void Progress::update(std::uint64_t bytes) {
    if (!active_ || mode_ == ProgressMode::none) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (since < (mode_ == ProgressMode::bar ? 0.25 : interval_)) return;
    last_ = now;
    print(bytes);
}

void Progress::end(std::uint64_t bytes) {
    if (!active_) return;
    active_ = false;
    if (mode_ == ProgressMode::bar) {
        print(bytes);
        std::fputc('\n', stderr);
        std::fflush(stderr);
    }
}

} // namespace puller

// Progress reporting on stderr: a one-line bar (bytes, rate, ETA) when stderr is a terminal,
// otherwise a JSON object per line every few seconds (journald friendly, no escape codes).
// The formatting functions are pure and tested; Progress holds only the clock and the mode.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace puller {

enum class ProgressMode { automatic, bar, json, none };

std::string human_bytes(std::uint64_t bytes); // "1.5 GiB"
std::string human_duration(double seconds);   // "1h02m", "3m05s", "12s"
std::string progress_bar_line(const std::string& dataset, std::uint64_t bytes,
                              std::uint64_t estimate, double seconds, unsigned width);
std::string progress_json_line(const std::string& job, const std::string& dataset,
                               std::uint64_t bytes, std::uint64_t estimate, double seconds);

class Progress {
  public:
    Progress(ProgressMode mode, double json_interval_seconds);
    void begin(const std::string& job, const std::string& dataset, std::uint64_t estimate);
    void update(std::uint64_t bytes); // cheap; prints at most every 0.25 s (bar) / interval (json)
    void end(std::uint64_t bytes);
    bool tty() const { return mode_ == ProgressMode::bar; }

  private:
    void print(std::uint64_t bytes);
    ProgressMode mode_;
    double interval_;
    std::string job_, dataset_;
    std::uint64_t estimate_ = 0;
    std::chrono::steady_clock::time_point start_, last_;
    bool active_ = false;
};

} // namespace puller

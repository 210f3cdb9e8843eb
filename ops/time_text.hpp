// Times and ages as operators write them: RFC 3339 timestamps (the audit log's "time") and
// ages such as "36h" (--warn, --since). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ops {

// Seconds since the epoch of "2026-12-04T05:12:00Z", "...T05:12:00.123456Z" or
// "...T06:12:00+01:00"; nullopt for anything else.
std::optional<double> parse_rfc3339(std::string_view text);

// "2026-12-04T05:12:00Z" (UTC, whole seconds).
std::string format_rfc3339(double epoch_seconds);

// "2026-12-04T05:12:00.123456Z" for micros 0..999999, "2026-12-04T05:12:00Z" for micros < 0.
std::string format_rfc3339_utc(std::int64_t seconds, long micros);

// Seconds of "90s", "30m", "36h", "7d", "2w" (a positive whole number and one unit).
std::optional<double> parse_age(std::string_view text);

// "45s", "12m05s", "3h12m", "2d04h": the two largest units.
std::string human_age(double seconds);

} // namespace ops

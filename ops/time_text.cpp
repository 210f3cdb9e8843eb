// RFC 3339 with timegm and <chrono> (UTC, no time zone database) and short ages.
#include "ops/time_text.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace ops {
namespace {

bool digits(std::string_view s, std::size_t at, std::size_t n, int& out) {
    if (at + n > s.size()) return false;
    out = 0;
    for (std::size_t i = at; i < at + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

} // namespace

std::optional<double> parse_rfc3339(std::string_view s) {
    // YYYY-MM-DDTHH:MM:SS
    std::tm tm{};
    int year, mon, day, hour, min, sec;
    if (!digits(s, 0, 4, year) || s.size() < 20 || s[4] != '-' || !digits(s, 5, 2, mon) ||
        s[7] != '-' || !digits(s, 8, 2, day) || (s[10] != 'T' && s[10] != 't') ||
        !digits(s, 11, 2, hour) || s[13] != ':' || !digits(s, 14, 2, min) || s[16] != ':' ||
        !digits(s, 17, 2, sec))
        return std::nullopt;
    if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
        return std::nullopt;
    std::size_t i = 19;
    double fraction = 0;
    if (i < s.size() && s[i] == '.') {
        double scale = 0.1;
        ++i;
        const std::size_t start = i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            fraction += (s[i] - '0') * scale;
            scale /= 10;
            ++i;
        }
        if (i == start) return std::nullopt;
    }
    int offset = 0; // seconds east of UTC
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        int oh, om;
        if (!digits(s, i + 1, 2, oh) || i + 3 >= s.size() || s[i + 3] != ':' ||
            !digits(s, i + 4, 2, om) || oh > 23 || om > 59)
            return std::nullopt;
        offset = (s[i] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
        i += 6;
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = min;
    tm.tm_sec = sec;
    const std::time_t t = ::timegm(&tm);
    if (tm.tm_mday != day) return std::nullopt; // 2026-02-30 normalised to March
    return static_cast<double>(t) - offset + fraction;
}

std::string format_rfc3339(double epoch_seconds) {
    return format_rfc3339_utc(static_cast<std::int64_t>(epoch_seconds), -1);
}

// Civil date from the proleptic Gregorian calendar in <chrono>: gmtime_r would load the time
// zone database (/etc/localtime: seven system calls on the gatekeeper's serve path) only to
// ignore it. Years outside 1970..9999 (never a clock's, perhaps a foreign state file's) take
// gmtime_r.
std::string format_rfc3339_utc(std::int64_t seconds, long micros) {
    using namespace std::chrono;
    constexpr std::int64_t year_10000 = 253402300800;
    constexpr std::size_t fraction_and_z = 9; // ".123456Z" and the terminating NUL
    char buf[64];
    int n = 0;
    if (seconds >= 0 && seconds < year_10000) {
        const sys_seconds t{seconds * 1s};
        const auto day = floor<days>(t);
        const year_month_day date{day};
        const hh_mm_ss time{t - day};
        n = std::snprintf(
            buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ld", int(date.year()),
            unsigned(date.month()), unsigned(date.day()), static_cast<long>(time.hours().count()),
            static_cast<long>(time.minutes().count()), static_cast<long>(time.seconds().count()));
    } else {
        const std::time_t t = static_cast<std::time_t>(seconds);
        std::tm tm{};
        ::gmtime_r(&t, &tm);
        n = static_cast<int>(
            std::strftime(buf, sizeof buf - fraction_and_z, "%Y-%m-%dT%H:%M:%S", &tm));
    }
    if (micros >= 0 && micros < 1000000)
        n += std::snprintf(buf + n, fraction_and_z, ".%06ld", micros);
    buf[n] = 'Z';
    return std::string(buf, static_cast<std::size_t>(n) + 1);
}

std::optional<double> parse_age(std::string_view text) {
    if (text.size() < 2) return std::nullopt;
    unsigned long long n = 0;
    const char* end = text.data() + text.size() - 1;
    const auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p != end || n == 0 || n > 100000000ULL) return std::nullopt;
    double unit = 0;
    switch (text.back()) {
    case 's':
        unit = 1;
        break;
    case 'm':
        unit = 60;
        break;
    case 'h':
        unit = 3600;
        break;
    case 'd':
        unit = 86400;
        break;
    case 'w':
        unit = 7 * 86400;
        break;
    default:
        return std::nullopt;
    }
    return static_cast<double>(n) * unit;
}

std::string human_age(double seconds) {
    const long long s = seconds < 0 ? 0 : static_cast<long long>(seconds);
    char buf[40];
    if (s < 60)
        std::snprintf(buf, sizeof buf, "%llds", s);
    else if (s < 3600)
        std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        std::snprintf(buf, sizeof buf, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
    return buf;
}

} // namespace ops

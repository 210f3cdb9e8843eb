// ops/: the Prometheus exposition (parsed back by an independent checker that can fail), atomic
// file replacement (no torn file, no temporary left behind), timestamps and ages.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <ctime>
#include <fcntl.h>
#include <limits>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/atomic_file.hpp"
#include "ops/prometheus.hpp"
#include "ops/time_text.hpp"
#include "tests/helpers/scratch_dir.hpp"
#include "tests/ops/exposition_checker.hpp"

using namespace ops;

namespace {} // namespace

TEST_CASE("exposition text parses back, hostile label values included") {
    const std::vector<MetricFamily> families{
        {"zfs_puller_last_success_timestamp_seconds",
         "Last pull that completed.\nSecond line \\ with a backslash.",
         "gauge",
         {{{{"job", "optinix-home"}, {"dataset", "NIXROOT/home"}}, 1796363797},
          {{{"job", "x\"y\\z\nw"}, {"dataset", "a b"}}, 0.5}}},
        {"zfs_gatekeeper_audit_bad_records", "Bad lines.", "gauge", {{{}, 3}}},
        {"weird_values",
         "NaN and infinities.",
         "gauge",
         {{{{"v", "nan"}}, std::numeric_limits<double>::quiet_NaN()},
          {{{"v", "inf"}}, std::numeric_limits<double>::infinity()},
          {{{"v", "-inf"}}, -std::numeric_limits<double>::infinity()}}},
    };
    const std::string text = render_exposition(families);
    std::vector<test_support::ParsedSample> samples;
    REQUIRE_MESSAGE(test_support::check_exposition(text, &samples) == "", text);
    REQUIRE(samples.size() == 6);
    CHECK(samples[0].labels.at("dataset") == "NIXROOT/home");
    CHECK(samples[0].value == 1796363797);
    CHECK(samples[1].labels.at("job") == "x\"y\\z\nw"); // escaped and unescaped back
    CHECK(samples[1].value == 0.5);
    CHECK(samples[2].labels.empty());
    CHECK(text.find("zfs_gatekeeper_audit_bad_records 3\n") != std::string::npos);
    CHECK(text.find("weird_values{v=\"nan\"} NaN\n") != std::string::npos);
    CHECK(text.find("weird_values{v=\"inf\"} +Inf\n") != std::string::npos);
}

// The checker must be able to fail, or the test above proves nothing.
TEST_CASE("the exposition checker rejects what Prometheus rejects") {
    const std::string type = "# TYPE m gauge\n";
    for (const std::string& bad :
         {std::string("m 1\n"), type + "m{a=\"b} 1\n", type + "m{a=b} 1\n",
          type + "m{a=\"\\x\"} 1\n", type + "m{1a=\"b\"} 1\n", type + "m{__a=\"b\"} 1\n",
          type + "m one\n", type + "m\n", type + "m{a=\"b\",a=\"c\"} 1\n",
          std::string("# TYPE m gauge\n# TYPE m gauge\nm 1\n"), std::string("# TYPE m dial\nm 1\n"),
          std::string("# TYPE 1m gauge\n"), std::string("# HELP m a \\x b\n") + type + "m 1\n",
          type + "n 1\n", type + "m 1"}) {
        CAPTURE(bad);
        CHECK(test_support::check_exposition(bad) != "");
    }
    CHECK(test_support::check_exposition(type + "m{a=\"b\"} 1\n") == "");
    CHECK(is_metric_name("zfs_puller_state"));
    CHECK_FALSE(is_metric_name("9x"));
    CHECK(is_label_name("dataset"));
    CHECK_FALSE(is_label_name("__name__"));
}

TEST_CASE("replace_file replaces whole files and leaves nothing beside them") {
    const std::string dir = test_support::make_temp_dir("zg-ops-test");
    const std::string path = dir + "/state.json";
    REQUIRE(replace_file(path, "first\n", 0640) == "");
    std::string got, error;
    REQUIRE(read_small_file(path, got, error));
    CHECK(got == "first\n");
    struct stat st {};
    REQUIRE(::stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    // A reader that opened the old file keeps reading the old content whole: the new one arrives
    // by rename, never by overwriting in place.
    const int reader = ::open(path.c_str(), O_RDONLY);
    REQUIRE(reader >= 0);
    REQUIRE(replace_file(path, std::string(100000, 'x'), 0640) == "");
    char buf[16] = {};
    CHECK(::read(reader, buf, sizeof buf) == 6);
    CHECK(std::string(buf, 6) == "first\n");
    ::close(reader);
    REQUIRE(read_small_file(path, got, error));
    CHECK(got == std::string(100000, 'x'));
    CHECK(test_support::directory_entries(dir) == std::vector<std::string>{"state.json"});
    // A crashed writer's temporary file is just another file: the state file is untouched.
    const std::string torn = path + ".tmp.ABCDEF";
    const int t = ::open(torn.c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(t >= 0);
    REQUIRE(::write(t, "{\"jo", 4) == 4);
    ::close(t);
    REQUIRE(read_small_file(path, got, error));
    CHECK(got == std::string(100000, 'x'));
    ::unlink(torn.c_str());
    // Failure: the directory is gone; nothing is replaced and the error says why.
    const std::string missing = dir + "/no/such/dir/file";
    const std::string err = replace_file(missing, "x");
    CHECK(err.find("cannot create a temporary file") != std::string::npos);
    CHECK_FALSE(read_small_file(missing, got, error));
    CHECK(error.find("cannot open") != std::string::npos);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("read_small_file refuses what is too large") {
    const std::string dir = test_support::make_temp_dir("zg-ops-test");
    const std::string path = dir + "/big";
    REQUIRE(replace_file(path, std::string(5000, 'a')) == "");
    std::string got, error;
    CHECK_FALSE(read_small_file(path, got, error, 4096));
    CHECK(error.find("larger than 4096") != std::string::npos);
    ::unlink(path.c_str());
    ::rmdir(dir.c_str());
}

TEST_CASE("RFC 3339 times and ages") {
    CHECK(parse_rfc3339("1970-01-01T00:00:00Z") == 0.0);
    CHECK(parse_rfc3339("2026-12-04T05:12:00Z") == 1796361120.0);
    CHECK(parse_rfc3339("2026-12-04T06:12:00+01:00") == 1796361120.0);
    CHECK(parse_rfc3339("2026-12-04T04:42:00-00:30") == 1796361120.0);
    const auto frac = parse_rfc3339("2026-12-04T05:12:00.250000Z");
    REQUIRE(frac);
    CHECK(std::fabs(*frac - 1796361120.25) < 1e-6);
    for (const char* bad : {"", "2026-12-04", "2026-12-04T05:12:00", "2026-02-30T00:00:00Z",
                            "2026-12-04T25:00:00Z", "2026-12-04T05:12:00.Z", "2026-12-04 05:12:00Z",
                            "2026-12-04T05:12:00Zjunk", "2026-12-04T05:12:00+1:00"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_rfc3339(bad));
    }
    CHECK(format_rfc3339(1796361120.9) == "2026-12-04T05:12:00Z");
    CHECK(parse_age("90s") == 90.0);
    CHECK(parse_age("36h") == 36 * 3600.0);
    CHECK(parse_age("7d") == 7 * 86400.0);
    CHECK(parse_age("2w") == 14 * 86400.0);
    for (const char* bad : {"", "h", "0h", "-1h", "1.5h", "10y", "12", "1hh"}) {
        CAPTURE(bad);
        CHECK_FALSE(parse_age(bad));
    }
    CHECK(human_age(45) == "45s");
    CHECK(human_age(725) == "12m05s");
    CHECK(human_age(3 * 3600 + 12 * 60) == "3h12m");
    CHECK(human_age(2 * 86400 + 4 * 3600 + 59) == "2d04h");
    CHECK(human_age(-5) == "0s");
}

namespace {
std::string gmtime_text(std::int64_t t) {
    const std::time_t tt = static_cast<std::time_t>(t);
    std::tm tm{};
    ::gmtime_r(&tt, &tm);
    char text[40];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return text;
}
} // namespace

TEST_CASE("audit timestamps without the time zone database agree with gmtime_r") {
    CHECK(format_rfc3339_utc(1796361120, 42) == "2026-12-04T05:12:00.000042Z");
    CHECK(format_rfc3339_utc(1796361120, 999999) == "2026-12-04T05:12:00.999999Z");
    CHECK(format_rfc3339_utc(0, 0) == "1970-01-01T00:00:00.000000Z");
    CHECK(format_rfc3339_utc(253402300799, -1) == "9999-12-31T23:59:59Z");
    CHECK(format_rfc3339_utc(-1, -1) == "1969-12-31T23:59:59Z"); // outside: gmtime_r's answer
    // 2000-02-29 (a century leap year), 2100-03-01 (2100 is none), and a sweep over every
    // weekday, hour and month end from 1970 to 9999.
    for (const std::int64_t t : {951782400LL, 951868799LL, 4107542400LL, 4107628800LL})
        CHECK(format_rfc3339_utc(t, -1) == gmtime_text(t));
    std::size_t compared = 0;
    for (std::int64_t t = 0; t < 253402300800; t += 86400 * 7 + 3607, ++compared)
        if (format_rfc3339_utc(t, -1) != gmtime_text(t)) {
            CAPTURE(t);
            REQUIRE(format_rfc3339_utc(t, -1) == gmtime_text(t));
        }
    CHECK(compared > 400000);
}

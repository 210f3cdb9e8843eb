// The send-stream checker: real OpenZFS 2.1.11 streams of every shape the puller receives pass
// whole (tests/puller/streams/, made by make-streams in the e2e guest), and every record the
// puller did not ask for stops the stream before it, whatever chunks the bytes arrive in.
#include <doctest/doctest.h>

#include <fstream>
#include <sstream>
#include <zlib.h>

#include "puller/send_stream.hpp"
#include "tests/puller/stream_records.hpp"
#include "tests/support.hpp"

using namespace puller;
namespace sr = stream_records;

namespace {

struct Fed {
    std::string out;
    StreamCheck check;
};

// Feeds `stream` in chunks of `step` bytes (0: all at once); returns what may pass and the
// checker's state.
Fed feed(const std::string& stream, const StreamExpect& expect, std::size_t step = 0) {
    Fed f{"", StreamCheck(expect)};
    if (step == 0) step = stream.size() + 1;
    for (std::size_t off = 0; off < stream.size() && !f.check.failed(); off += step)
        f.check.feed(stream.data() + off, std::min(step, stream.size() - off), f.out);
    return f;
}

StreamExpect fs_expect(std::uint64_t from = 0) {
    return StreamExpect{"tank/a", DatasetKind::filesystem, from};
}

// A package as zfs send -I writes it: header, END, substreams chained by guid, END.
std::string package(const std::string& ds, std::uint64_t from, int snaps, bool volume = false) {
    std::string s = sr::begin(ds + "@last", false, 0, 0, 0, true) + sr::end(0);
    std::uint64_t prev = from;
    for (int i = 1; i <= snaps; ++i) {
        s += sr::substream(ds + "@s" + std::to_string(i), volume, 100 + i, prev, 5000);
        prev = 100 + i;
    }
    return s + sr::end(0);
}

// The record with every multi-byte field in the other byte order (a big-endian sender).
std::string swapped(std::string rec, const std::vector<std::pair<std::size_t, int>>& fields) {
    for (const auto& [off, width] : fields)
        std::reverse(rec.begin() + static_cast<std::ptrdiff_t>(off),
                     rec.begin() + static_cast<std::ptrdiff_t>(off) + width);
    return rec;
}

std::string gunzip(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    REQUIRE_MESSAGE(f != nullptr, path);
    std::string out;
    char buf[65536];
    int n;
    while ((n = gzread(f, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    gzclose(f);
    return out;
}

} // namespace

TEST_CASE("a full stream passes whole, in any chunks") {
    const std::string s = sr::substream("tank/a@s1", false, 11, 0, 200000);
    for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{311},
                             std::size_t{312}, std::size_t{313}, std::size_t{65536}}) {
        CAPTURE(step);
        const Fed f = feed(s, fs_expect(), step);
        CHECK_FALSE(f.check.failed());
        CHECK(f.out == s);
        CHECK(f.check.complete());
        CHECK(f.check.kind() == DatasetKind::filesystem);
        CHECK(f.check.substreams() == 1);
    }
}

TEST_CASE("a package of chained substreams passes; the first starts from the expected guid") {
    const std::string s = package("tank/a", 50, 3);
    const Fed f = feed(s, fs_expect(50), 1000);
    CHECK_MESSAGE(!f.check.failed(), f.check.error());
    CHECK(f.out == s);
    CHECK(f.check.complete());
    CHECK(f.check.substreams() == 3);
}

TEST_CASE("a new dataset takes the stream's type; a volume stream says volume") {
    const std::string s = sr::substream("tank/v@s1", true, 11, 0, 100);
    const Fed f = feed(s, StreamExpect{"tank/v", std::nullopt, 0});
    CHECK_FALSE(f.check.failed());
    CHECK(f.check.kind() == DatasetKind::volume);
}

TEST_CASE("the kind is known as soon as the first substream's BEGIN is read") {
    StreamCheck c(fs_expect(50));
    std::string out;
    const std::string s = package("tank/a", 50, 2);
    c.feed(s.data(), 2 * sr::record_size, out); // package header and its END
    CHECK_FALSE(c.kind());
    c.feed(s.data() + 2 * sr::record_size, sr::record_size - 1, out);
    CHECK_FALSE(c.kind());
    c.feed(s.data() + 3 * sr::record_size - 1, 1, out);
    CHECK(c.kind() == DatasetKind::filesystem);
    CHECK(out.size() == 3 * sr::record_size);
}

TEST_CASE("payloads can be skipped unseen (the relay splices them)") {
    const std::string s = sr::substream("tank/a@s1", false, 11, 0, 1 << 20);
    StreamCheck c(fs_expect());
    std::string out;
    c.feed(s.data(), 2 * sr::record_size, out); // BEGIN and the WRITE header
    CHECK(c.payload_left() == 1 << 20);
    c.skip(1 << 20);
    c.feed(s.data() + 2 * sr::record_size + (1 << 20), sr::record_size, out);
    CHECK(c.complete());
}

TEST_CASE("a stream from a big-endian sender is read in its byte order") {
    const auto begin_fields = std::vector<std::pair<std::size_t, int>>{
        {0, 4}, {4, 4}, {8, 8}, {16, 8}, {24, 8}, {32, 4}, {36, 4}, {40, 8}, {48, 8}};
    const std::string s = swapped(sr::begin("tank/a@s1", false, 11, 0), begin_fields) +
                          swapped(sr::write(4096), {{0, 4}, {32, 8}}) + std::string(4096, 'x') +
                          swapped(sr::end(11), {{0, 4}, {40, 8}});
    const Fed f = feed(s, fs_expect(), 100);
    CHECK_MESSAGE(!f.check.failed(), f.check.error());
    CHECK(f.out == s);
    CHECK(f.check.complete());
}

TEST_CASE("what the puller did not ask for is stopped before it reaches zfs receive") {
    struct Row {
        const char* what;
        std::string stream;
        StreamExpect expect;
        std::size_t passes; // bytes that reach zfs receive
        const char* error;
    };
    const std::string full = sr::substream("tank/a@s1", false, 11, 0, 1000);
    const std::string pkg = package("tank/a", 50, 2);
    const std::string pkg_head = pkg.substr(0, pkg.size() - sr::record_size);
    const Row rows[] = {
        {"another dataset", sr::substream("tank/b@s1", false, 11, 0, 10), fs_expect(), 0,
         "a stream for tank/b@s1, not for tank/a"},
        {"a sibling whose name starts alike", sr::substream("tank/ab@s1", false, 11, 0, 10),
         fs_expect(), 0, "not for tank/a"},
        {"a child in a package (zfs send -R)",
         pkg_head + sr::substream("tank/a/kid@s1", false, 9, 0, 10) + sr::end(0), fs_expect(50),
         pkg_head.size(), "a stream for tank/a/kid@s1"},
        {"a package header naming another dataset",
         sr::begin("tank@s1", false, 0, 0, 0, true) + sr::end(0), fs_expect(), 0,
         "a stream for tank@s1"},
        {"a volume into a filesystem", sr::substream("tank/a@s1", true, 11, 0, 10), fs_expect(), 0,
         "a volume stream for tank/a@s1, but the target is a filesystem"},
        {"a filesystem into a volume", sr::substream("tank/a@s1", false, 11, 0, 10),
         StreamExpect{"tank/a", DatasetKind::volume, 0}, 0, "but the target is a volume"},
        {"substreams of two types",
         pkg_head + sr::substream("tank/a@s9", true, 9, 102, 10) + sr::end(0), fs_expect(50),
         pkg_head.size(), "a volume stream"},
        {"an increment from another snapshot (receive -F would roll back to it)",
         sr::substream("tank/a@s2", false, 12, 7, 10), fs_expect(11), 0,
         "from guid 7, not from guid 11"},
        {"a full stream where an increment was asked for",
         sr::substream("tank/a@s2", false, 12, 0, 10), fs_expect(11), 0, "from guid 0"},
        {"a broken chain in a package",
         pkg_head + sr::substream("tank/a@s9", false, 9, 101, 10) + sr::end(0), fs_expect(50),
         pkg_head.size(), "from guid 101, not from guid 102"},
        {"data after the end", full + "trailing", fs_expect(), full.size(),
         "data after the end of the stream"},
        {"a second stream after the end", full + full, fs_expect(), full.size(),
         "data after the end"},
        {"no BEGIN first", sr::write(10) + std::string(10, 'x'), fs_expect(), 0,
         "no BEGIN record first"},
        {"a BEGIN without the magic",
         [] {
             std::string b = sr::begin("tank/a@s1", false, 11, 0);
             b[8] ^= 1;
             return b;
         }(),
         fs_expect(), 0, "magic"},
        {"a record of unknown type",
         [&] {
             std::string r = sr::write(0);
             r[0] = 42;
             return sr::begin("tank/a@s1", false, 11, 0) + r;
         }(),
         fs_expect(), sr::record_size, "unknown type 42"},
        {"a record larger than a block",
         sr::begin("tank/a@s1", false, 11, 0) + sr::write(17ULL << 20), fs_expect(),
         sr::record_size, "larger than any zfs block"},
        {"a BEGIN inside a substream",
         sr::begin("tank/a@s1", false, 11, 0) + sr::begin("tank/a@s2", false, 12, 11), fs_expect(),
         sr::record_size, "inside a substream"},
        {"a package inside a package",
         sr::begin("tank/a@s1", false, 0, 0, 0, true) + sr::end(0) +
             sr::begin("tank/a@s1", false, 0, 0, 0, true),
         fs_expect(), 2 * sr::record_size, "package header inside"},
        {"a name without its NUL",
         [] {
             std::string b = sr::begin("tank/a@s1", false, 11, 0);
             std::fill(b.begin() + 56, b.end(), 'a');
             return b;
         }(),
         fs_expect(), 0, "not for tank/a"},
    };
    for (const auto& row : rows) {
        for (std::size_t step : {std::size_t{0}, std::size_t{1}, std::size_t{100}}) {
            const std::string what = row.what;
            CAPTURE(what);
            CAPTURE(step);
            const Fed f = feed(row.stream, row.expect, step);
            REQUIRE(f.check.failed());
            CHECK_MESSAGE(f.check.error().find(row.error) != std::string::npos, f.check.error());
            CHECK(f.out.size() == row.passes);
            CHECK(f.out == row.stream.substr(0, row.passes));
            CHECK_FALSE(f.check.complete());
        }
    }
}

TEST_CASE("real OpenZFS 2.1.11 streams (tests/puller/streams/manifest.txt)") {
    const std::string dir = test_support::source_path("tests/puller/streams/");
    std::istringstream manifest(test_support::read_file(dir + "manifest.txt"));
    std::string line;
    int n = 0;
    while (std::getline(manifest, line)) {
        std::vector<std::string> f;
        std::istringstream cols(line);
        for (std::string c; std::getline(cols, c, '\t');)
            f.push_back(c);
        REQUIRE(f.size() == 6);
        CAPTURE(line);
        ++n;
        const std::string stream = gunzip(dir + f[0] + ".zstream.gz");
        const StreamExpect expect{f[1],
                                  f[2] == "volume" ? DatasetKind::volume : DatasetKind::filesystem,
                                  std::stoull(f[3])};
        for (std::size_t step : {std::size_t{0}, std::size_t{4093}, std::size_t{65536}}) {
            CAPTURE(step);
            const Fed fed = feed(stream, expect, step);
            if (f[5] == "pass") {
                CHECK_MESSAGE(!fed.check.failed(), fed.check.error());
                CHECK(fed.out.size() == stream.size());
                CHECK(fed.check.complete());
                CHECK(fed.check.substreams() == std::stoul(f[4]));
            } else {
                REQUIRE(fed.check.failed());
                CHECK_MESSAGE(fed.check.error().starts_with(f[5]), fed.check.error());
                CHECK(fed.out.size() < stream.size());
            }
        }
    }
    CHECK(n >= 10);
}

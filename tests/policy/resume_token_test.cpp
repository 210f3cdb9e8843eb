// Tests for policy::decode_resume_token: round trips, one row per TokenError, corruption sweeps,
// and real OpenZFS tokens from tests/fixtures/resume_tokens when that directory has any.
// Defines no main(); std::filesystem is used here only, never in the library.
#include "policy/resume_token.hpp"
#include "tests/policy/nvlist_builder.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

namespace {

using policy::decode_resume_token;
using policy::ResumeToken;
using policy::TokenError;
using namespace policy::test;

constexpr std::uint64_t guid_from = 0x1d2c3b4a59687766;
constexpr std::uint64_t guid_to = 0xfedcba9876543210;

TokenSpec full_spec() {
    TokenSpec s;
    s.object = 128;
    s.offset = 0x20000;
    s.bytes = 5 * 1024 * 1024;
    s.toguid = guid_to;
    s.toname = "tank/data@daily-2024-01-01";
    s.largeblockok = s.embedok = s.compressok = s.rawok = true;
    return s;
}

TokenSpec incremental_spec() {
    TokenSpec s = full_spec();
    s.fromguid = guid_from;
    s.toname = "tank/data/child with space@autosnap_2024-01-02_00:00:00_hourly";
    s.savedok = true;
    s.redact_snaps = std::vector<std::uint64_t>{1, 2, 3};
    s.book_redact_snaps = std::vector<std::uint64_t>{};
    return s;
}

// Splits a valid token into its four text fields.
std::vector<std::string> fields_of(const std::string& token) {
    std::vector<std::string> out;
    std::stringstream ss(token);
    for (std::string f; std::getline(ss, f, '-');)
        out.push_back(f);
    return out;
}

std::string join(const std::vector<std::string>& f) {
    return f[0] + "-" + f[1] + "-" + f[2] + "-" + f[3];
}

// A kernel-shaped nvlist with one extra pair image appended (or replacing toname).
ByteVec packed_with(const ByteVec& image, bool with_toname = true) {
    TokenSpec s = full_spec();
    if (!with_toname) s.toname.reset();
    return kernel_nvlist(s).add_image(image).pack();
}

// Every result must be internally consistent, whatever the input.
void check_consistent(const policy::TokenResult& r) {
    if (r.ok()) {
        CHECK(!r.token->toname.empty());
        CHECK(r.token->version == 1);
    } else {
        CHECK(!r.message.empty());
        CHECK(!policy::to_string(r.error).empty());
    }
}

} // namespace

TEST_CASE("resume token: full token round-trips") {
    const auto r = decode_resume_token(kernel_token(full_spec()));
    REQUIRE_MESSAGE(r.ok(), r.message);
    const ResumeToken& t = *r.token;
    CHECK(t.version == 1);
    CHECK(t.toname == "tank/data@daily-2024-01-01");
    CHECK(!t.fromguid);
    CHECK(t.toguid == guid_to);
    CHECK(t.object == 128u);
    CHECK(t.offset == 0x20000u);
    CHECK(t.bytes == 5u * 1024 * 1024);
    CHECK(t.embedok);
    CHECK(t.largeblockok);
    CHECK(t.compressok);
    CHECK(t.rawok);
    CHECK(!t.savedok);
    CHECK(!t.redact_snaps);
    CHECK(!t.book_redact_snaps);
    CHECK(t.unknown_fields.empty());
}

TEST_CASE("resume token: incremental token with every flag round-trips") {
    const auto r = decode_resume_token(kernel_token(incremental_spec()));
    REQUIRE_MESSAGE(r.ok(), r.message);
    const ResumeToken& t = *r.token;
    CHECK(t.toname == "tank/data/child with space@autosnap_2024-01-02_00:00:00_hourly");
    CHECK(t.fromguid == guid_from);
    CHECK(t.toguid == guid_to);
    CHECK((t.embedok && t.largeblockok && t.compressok && t.rawok && t.savedok));
    REQUIRE(t.redact_snaps);
    CHECK(*t.redact_snaps == std::vector<std::uint64_t>{1, 2, 3});
    REQUIRE(t.book_redact_snaps);
    CHECK(t.book_redact_snaps->empty());
    CHECK(t.unknown_fields.empty());
}

TEST_CASE("resume token: minimal token and flag-free token decode") {
    TokenSpec s;
    s.toname = "p@s";
    const auto r = decode_resume_token(kernel_token(s));
    REQUIRE_MESSAGE(r.ok(), r.message);
    CHECK(r.token->toname == "p@s");
    CHECK(!r.token->toguid);
    CHECK((!r.token->embedok && !r.token->largeblockok && !r.token->compressok && !r.token->rawok &&
           !r.token->savedok));
}

TEST_CASE("resume token: unknown fields are reported, not dropped") {
    const auto r = decode_resume_token(token_from_packed(
        kernel_nvlist(full_spec()).add_uint64("mystery", 7).add_boolean("").pack()));
    REQUIRE_MESSAGE(r.ok(), r.message);
    CHECK(r.token->unknown_fields == std::vector<std::string>{"mystery", ""});
}

TEST_CASE("resume token: text-level errors") {
    const std::string good = kernel_token(full_spec());
    const auto f = fields_of(good);
    REQUIRE(f.size() == 4);
    auto upper = [](std::string s) {
        std::transform(s.begin(), s.end(), s.begin(),
                       [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
        return s;
    };
    std::string body_upper = f[3];
    // Uppercase only one letter so the bytes are the same and only the spelling is wrong.
    const auto letter = body_upper.find_first_of("abcdef");
    REQUIRE(letter != std::string::npos);
    body_upper[letter] = static_cast<char>(std::toupper(body_upper[letter]));

    struct Row {
        const char* name;
        std::string input;
        TokenError expected;
    };
    const std::vector<Row> rows{
        {"empty", "", TokenError::malformed_syntax},
        {"semicolon", ";", TokenError::malformed_syntax},
        {"junk hex", "1-abc-10-zz", TokenError::bad_hex},
        {"three fields", f[0] + "-" + f[1] + "-" + f[2], TokenError::malformed_syntax},
        {"five fields", good + "-00", TokenError::malformed_syntax},
        {"empty field", "1--10-00", TokenError::malformed_syntax},
        {"trailing dash", good + "-", TokenError::malformed_syntax},
        {"leading space", " " + good, TokenError::malformed_syntax},
        {"trailing newline", good + "\n", TokenError::bad_hex},
        {"trailing space", good + " ", TokenError::bad_hex},
        {"version 2", join({"2", f[1], f[2], f[3]}), TokenError::unsupported_version},
        {"version 0", join({"0", f[1], f[2], f[3]}), TokenError::unsupported_version},
        {"version 01", join({"01", f[1], f[2], f[3]}), TokenError::malformed_syntax},
        {"version +1", join({"+1", f[1], f[2], f[3]}), TokenError::malformed_syntax},
        {"version huge", join({"4294967297", f[1], f[2], f[3]}), TokenError::malformed_syntax},
        {"uppercase body", join({f[0], f[1], f[2], body_upper}), TokenError::bad_hex},
        {"uppercase checksum", join({f[0], upper(f[1]), f[2], f[3]}), TokenError::bad_hex},
        {"0x checksum", join({f[0], "0x" + f[1], f[2], f[3]}), TokenError::bad_hex},
        {"leading zero size", join({f[0], f[1], "0" + f[2], f[3]}), TokenError::bad_hex},
        {"17-digit size", join({f[0], f[1], "10000000000000000", f[3]}), TokenError::bad_hex},
        {"odd body", join({f[0], f[1], f[2], f[3] + "0"}), TokenError::bad_hex},
        {"oversize text", good + std::string(policy::max_token_text, '0'), TokenError::size_limit},
        {"packed size over 1 MiB", join({f[0], f[1], "100001", f[3]}), TokenError::size_limit},
        {"packed size zero", join({f[0], f[1], "0", f[3]}), TokenError::size_limit},
    };
    for (const auto& row : rows) {
        CAPTURE(std::string(row.name));
        const auto r = decode_resume_token(row.input);
        CHECK(!r.ok());
        CHECK(r.error == row.expected);
        check_consistent(r);
    }
}

TEST_CASE("resume token: checksum, zlib and size errors") {
    const ByteVec packed = kernel_nvlist(full_spec()).pack();
    const ByteVec compressed = compress6(packed);
    const std::string good = token_from_compressed(compressed, packed.size());
    const auto f = fields_of(good);

    std::string flipped = f[3];
    flipped[0] = flipped[0] == '0' ? '1' : '0';
    ByteVec truncated(compressed.begin(), compressed.end() - 4);
    ByteVec trailing = compressed;
    trailing.push_back(0);
    ByteVec garbage(64, 0x5a);
    ByteVec uncompressed_body = packed; // what the kernel emits if compression fails

    struct Row {
        const char* name;
        std::string input;
        TokenError expected;
    };
    const std::vector<Row> rows{
        {"flipped body digit", join({f[0], f[1], f[2], flipped}), TokenError::checksum_mismatch},
        {"checksum off by one",
         token_text(1, fletcher4_word0(compressed) + 1, packed.size(), compressed),
         TokenError::checksum_mismatch},
        {"truncated body, stale checksum",
         join({f[0], f[1], f[2], f[3].substr(0, f[3].size() - 8)}), TokenError::checksum_mismatch},
        {"truncated body, fixed checksum", token_from_compressed(truncated, packed.size()),
         TokenError::decompression_failed},
        {"bytes after zlib stream", token_from_compressed(trailing, packed.size()),
         TokenError::decompression_failed},
        {"not zlib", token_from_compressed(garbage, packed.size()),
         TokenError::decompression_failed},
        {"uncompressed body", token_from_compressed(uncompressed_body, packed.size()),
         TokenError::decompression_failed},
        {"packed size too big", token_from_compressed(compressed, packed.size() + 8),
         TokenError::size_mismatch},
        {"packed size too small", token_from_compressed(compressed, packed.size() - 8),
         TokenError::size_mismatch},
    };
    for (const auto& row : rows) {
        CAPTURE(std::string(row.name));
        const auto r = decode_resume_token(row.input);
        CHECK(!r.ok());
        CHECK(r.error == row.expected);
        check_consistent(r);
    }
}

TEST_CASE("resume token: nvlist-level errors") {
    auto with_header = [](auto change) {
        NvlistBuilder b = kernel_nvlist(full_spec());
        change(b);
        return token_from_packed(b.pack());
    };
    auto with_toname = [](std::optional<std::string> toname) {
        TokenSpec s = full_spec();
        s.toname = std::move(toname);
        return kernel_token(s);
    };
    ByteVec no_nul{'t', 'a', 'n', 'k', '@', 's', 'n', 'p'};
    // Pair whose declared size runs past the end of the list.
    ByteVec long_pair = pair_image("object", nv_uint64, 1, ByteVec(8, 0));
    long_pair[0] = 0xf8;
    long_pair[1] = 0x01;
    // Name not terminated where name_sz says.
    ByteVec bad_name = pair_image("object", nv_uint64, 1, ByteVec(8, 0));
    bad_name[4] = 3;
    // Non-zero padding after a string value.
    ByteVec dirty_pad = pair_image("toname", nv_string, 1, ByteVec{'p', '@', 's', 0});
    dirty_pad.back() = 'x';
    // toname whose string stops early: "p@s\0evil" inside an 8-byte slot.
    ByteVec early_nul =
        pair_image("toname", nv_string, 1, ByteVec{'p', '@', 's', 0, 'e', 'v', 'i', 'l'});
    ByteVec packed_trailing = kernel_nvlist(full_spec()).pack();
    packed_trailing.push_back(0);

    struct Row {
        const char* name;
        std::string input;
        std::optional<TokenError> expected; // nullopt: must decode
    };
    const std::vector<Row> rows{
        {"string without NUL",
         token_from_packed(packed_with(pair_image("toname", nv_string, 1, no_nul), false)),
         TokenError::bad_nvlist},
        {"uint64 field as uint32",
         token_from_packed(packed_with(pair_image("fromguid", nv_uint32, 1, ByteVec(4, 1)))),
         TokenError::bad_field_type},
        {"uint64 field as string",
         token_from_packed(
             kernel_nvlist({}).add_string("toname", "p@s").add_string("toguid", "123").pack()),
         TokenError::bad_field_type},
        {"flag as boolean_value",
         token_from_packed(kernel_nvlist({})
                               .add_string("toname", "p@s")
                               .add_raw("rawok", nv_boolean_value, 1, ByteVec{1, 0, 0, 0})
                               .pack()),
         TokenError::bad_field_type},
        {"toname as uint64",
         token_from_packed(packed_with(pair_image("toname", nv_uint64, 1, ByteVec(8, 0)), false)),
         TokenError::bad_field_type},
        {"redact_snaps as uint64",
         token_from_packed(packed_with(pair_image("redact_snaps", nv_uint64, 1, ByteVec(8, 0)))),
         TokenError::bad_field_type},
        {"duplicate toname",
         token_from_packed(
             packed_with(pair_image("toname", nv_string, 1, ByteVec{'x', '@', 'y', 0}))),
         TokenError::bad_nvlist},
        {"duplicate object, other type",
         token_from_packed(packed_with(pair_image("object", nv_uint32, 1, ByteVec(4, 0)))),
         TokenError::bad_nvlist},
        {"missing toname", with_toname(std::nullopt), TokenError::missing_toname},
        {"empty toname", with_toname(""), TokenError::missing_toname},
        {"toname too long", with_toname("tank/" + std::string(246, 'a') + "@snap"),
         TokenError::size_limit},
        {"toname at the limit", with_toname("tank/" + std::string(245, 'a') + "@snap"),
         std::nullopt},
        {"XDR encoding", with_header([](NvlistBuilder& b) { b.encoding = 1; }),
         TokenError::bad_nvlist},
        {"big-endian", with_header([](NvlistBuilder& b) { b.endian = 0; }), TokenError::bad_nvlist},
        {"nvl_version 1", with_header([](NvlistBuilder& b) { b.nvl_version = 1; }),
         TokenError::bad_nvlist},
        {"nvflag 0 (duplicates allowed)", with_header([](NvlistBuilder& b) { b.nvl_nvflag = 0; }),
         TokenError::bad_nvlist},
        {"nvflag unique-by-type", with_header([](NvlistBuilder& b) { b.nvl_nvflag = 2; }),
         TokenError::bad_nvlist},
        {"nested nvlist",
         token_from_packed(packed_with(pair_image("nested", nv_nvlist, 1, ByteVec(24, 0)))),
         TokenError::bad_nvlist},
        {"pair size past end", token_from_packed(packed_with(long_pair)), TokenError::bad_nvlist},
        {"name not terminated", token_from_packed(packed_with(bad_name)), TokenError::bad_nvlist},
        {"dirty padding", token_from_packed(packed_with(dirty_pad, false)), TokenError::bad_nvlist},
        {"string stops early", token_from_packed(packed_with(early_nul, false)),
         TokenError::bad_nvlist},
        {"bytes after end marker", token_from_packed(packed_trailing), TokenError::bad_nvlist},
        {"boolean with a value",
         token_from_packed(packed_with(pair_image("x", nv_boolean, 1, ByteVec(8, 0)))),
         TokenError::bad_nvlist},
        {"unknown data type", token_from_packed(packed_with(pair_image("x", 99, 1, ByteVec(8, 0)))),
         TokenError::bad_nvlist},
        {"array with negative count",
         token_from_packed(packed_with(pair_image("redact_snaps", nv_uint64_array, -1, {}))),
         TokenError::bad_nvlist},
        {"array count disagrees with size",
         token_from_packed(
             packed_with(pair_image("redact_snaps", nv_uint64_array, 2, ByteVec(8, 0)))),
         TokenError::bad_nvlist},
    };
    for (const auto& row : rows) {
        CAPTURE(std::string(row.name));
        const auto r = decode_resume_token(row.input);
        CHECK(r.ok() == !row.expected);
        if (row.expected) CHECK(r.error == *row.expected);
        check_consistent(r);
    }
}

TEST_CASE("resume token: nvlist truncated at every length never decodes") {
    const ByteVec packed = kernel_nvlist(incremental_spec()).pack();
    for (std::size_t len = 0; len < packed.size(); ++len) {
        CAPTURE(len);
        ByteVec cut(packed.begin(), packed.begin() + static_cast<std::ptrdiff_t>(len));
        const auto r = decode_resume_token(token_from_packed(cut));
        CHECK(!r.ok());
        check_consistent(r);
    }
}

TEST_CASE("resume token: every text position corrupted; decode fails or yields a token") {
    const std::string good = kernel_token(incremental_spec());
    const std::string replacements("0f9a-Gz \n\x00\xff", 11);
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < good.size(); ++i) {
        for (char c : replacements) {
            if (good[i] == c) continue;
            std::string t = good;
            t[i] = c;
            const auto r = decode_resume_token(t);
            check_consistent(r);
            accepted += r.ok();
        }
        // Deletion and insertion shift every later field.
        check_consistent(decode_resume_token(good.substr(0, i) + good.substr(i + 1)));
        check_consistent(decode_resume_token(good.substr(0, i) + "0" + good.substr(i)));
    }
    // Only flips inside the unchecked fletcher tail (body length not a multiple of 4 bytes)
    // could survive the checksum, and zlib's adler32 catches those.
    CHECK(accepted == 0);
}

TEST_CASE("resume token: every packed byte corrupted under an honest checksum") {
    const ByteVec packed = kernel_nvlist(incremental_spec()).pack();
    const ResumeToken reference = *decode_resume_token(token_from_packed(packed)).token;
    for (std::size_t i = 0; i < packed.size(); ++i) {
        for (int x : {0x01, 0x80, 0xff}) {
            ByteVec p = packed;
            p[i] = static_cast<unsigned char>(p[i] ^ x);
            const auto r = decode_resume_token(token_from_packed(p));
            check_consistent(r);
            if (r.ok()) {
                // A change that still decodes must show up in some decoded field.
                const ResumeToken& t = *r.token;
                const bool same =
                    t.toname == reference.toname && t.fromguid == reference.fromguid &&
                    t.toguid == reference.toguid && t.object == reference.object &&
                    t.offset == reference.offset && t.bytes == reference.bytes &&
                    t.redact_snaps == reference.redact_snaps &&
                    t.book_redact_snaps == reference.book_redact_snaps &&
                    t.unknown_fields == reference.unknown_fields &&
                    t.embedok == reference.embedok && t.rawok == reference.rawok &&
                    t.largeblockok == reference.largeblockok &&
                    t.compressok == reference.compressok && t.savedok == reference.savedok;
                CAPTURE(i);
                CHECK(!same);
            }
        }
    }
}

TEST_CASE("resume token: to_string names every error") {
    std::set<std::string_view> names;
    for (auto e : {TokenError::malformed_syntax, TokenError::unsupported_version,
                   TokenError::bad_hex, TokenError::size_limit, TokenError::checksum_mismatch,
                   TokenError::decompression_failed, TokenError::size_mismatch,
                   TokenError::bad_nvlist, TokenError::missing_toname, TokenError::bad_field_type})
        names.insert(policy::to_string(e));
    CHECK(names.size() == 10);
    CHECK(names.count("unknown") == 0);
}

// ---- real tokens made by OpenZFS ----

namespace {

std::filesystem::path fixture_dir() {
#if defined(ZG_RESUME_TOKEN_FIXTURES_DIR)
    return ZG_RESUME_TOKEN_FIXTURES_DIR;
#elif defined(ZG_SOURCE_DIR)
    return std::filesystem::path(ZG_SOURCE_DIR) / "tests" / "fixtures" / "resume_tokens";
#else
    // Fallback for builds that do not pass the directory: relative to this source file.
    return std::filesystem::path(__FILE__).parent_path() / ".." / "fixtures" / "resume_tokens";
#endif
}

std::string read_all(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::string trim(std::string s) {
    const auto is_space = [](unsigned char c) {
        return c == ' ' || c == '\n' || c == '\r' || c == '\t';
    };
    while (!s.empty() && is_space(static_cast<unsigned char>(s.back())))
        s.pop_back();
    std::size_t start = 0;
    while (start < s.size() && is_space(static_cast<unsigned char>(s[start])))
        ++start;
    return s.substr(start);
}

// key=value lines; '#' comments and blank lines ignored.
std::map<std::string, std::string> read_expect(const std::filesystem::path& p) {
    std::map<std::string, std::string> out;
    std::istringstream in(read_all(p));
    for (std::string line; std::getline(in, line);) {
        line = trim(line);
        if (line.empty() || line[0] == '#') continue;
        const auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        out[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
    }
    return out;
}

std::optional<std::uint64_t> parse_number(const std::string& s) {
    if (s.empty()) return std::nullopt;
    const bool hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    return std::stoull(hex ? s.substr(2) : s, nullptr, hex ? 16 : 10);
}

// Printable forms, so a failing comparison shows the values.
std::string show(const std::optional<std::uint64_t>& v) {
    return v ? std::to_string(*v) : "(absent)";
}

std::string join_set(const std::set<std::string>& s) {
    std::string out;
    for (const auto& x : s)
        out += (out.empty() ? "" : ",") + x;
    return out;
}

} // namespace

TEST_CASE("resume token: real OpenZFS fixtures decode to their .expect fields") {
    const auto dir = fixture_dir();
    std::vector<std::filesystem::path> tokens;
    std::error_code ec;
    if (std::filesystem::is_directory(dir, ec))
        for (const auto& e : std::filesystem::directory_iterator(dir, ec))
            if (e.path().extension() == ".token") tokens.push_back(e.path());
    if (tokens.empty()) {
        MESSAGE("no resume token fixtures in " << dir.string() << "; real-token check skipped");
        return;
    }
    std::sort(tokens.begin(), tokens.end());
    for (const auto& path : tokens) {
        CAPTURE(path.filename().string());
        const auto r = decode_resume_token(trim(read_all(path)));
        REQUIRE_MESSAGE(r.ok(), policy::to_string(r.error) << ": " << r.message);
        const ResumeToken& t = *r.token;
        auto expect_path = path;
        expect_path.replace_extension(".expect");
        REQUIRE_MESSAGE(std::filesystem::exists(expect_path), "missing " << expect_path.string());
        const auto expect = read_expect(expect_path);
        // A key with an empty value means the field must be absent; a missing key is not checked.
        for (const auto& [key, value] : expect) {
            CAPTURE(key);
            if (key == "toname") {
                CHECK(t.toname == value);
            } else if (key == "fromguid" || key == "toguid" || key == "object" || key == "offset" ||
                       key == "bytes") {
                const auto& field = key == "fromguid" ? t.fromguid
                                    : key == "toguid" ? t.toguid
                                    : key == "object" ? t.object
                                    : key == "offset" ? t.offset
                                                      : t.bytes;
                CHECK(show(field) == show(parse_number(value)));
            } else if (key == "flags") {
                std::set<std::string> want;
                std::stringstream ss(value);
                for (std::string flag; std::getline(ss, flag, ',');)
                    if (!trim(flag).empty()) want.insert(trim(flag));
                std::set<std::string> got;
                if (t.embedok) got.insert("embedok");
                if (t.largeblockok) got.insert("largeblockok");
                if (t.compressok) got.insert("compressok");
                if (t.rawok) got.insert("rawok");
                if (t.savedok) got.insert("savedok");
                CHECK(join_set(got) == join_set(want));
            }
        }
        CHECK(t.unknown_fields.empty());
    }
}

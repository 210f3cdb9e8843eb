// Decoder for OpenZFS resume tokens: strict text syntax, fletcher4 check, zlib, native nvlist.
// Pure library code: no I/O, no globals, no logging; every failure comes back as a TokenResult.
// Follows zfs_send_resume_token_to_nvlist() (libzfs_sendrecv.c) and nvs_native_* (nvpair.c).
#include "policy/resume_token.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <new>
#include <span>

namespace policy {
namespace {

using Bytes = std::span<const unsigned char>;

// data_type_t from OpenZFS include/sys/nvpair.h; the values are part of the packed format.
enum DataType : std::int32_t {
    type_boolean = 1,
    type_byte = 2,
    type_int16 = 3,
    type_uint16 = 4,
    type_int32 = 5,
    type_uint32 = 6,
    type_int64 = 7,
    type_uint64 = 8,
    type_string = 9,
    type_byte_array = 10,
    type_int16_array = 11,
    type_uint16_array = 12,
    type_int32_array = 13,
    type_uint32_array = 14,
    type_int64_array = 15,
    type_uint64_array = 16,
    type_string_array = 17,
    type_hrtime = 18,
    type_nvlist = 19,
    type_nvlist_array = 20,
    type_boolean_value = 21,
    type_int8 = 22,
    type_uint8 = 23,
    type_boolean_array = 24,
    type_int8_array = 25,
    type_uint8_array = 26,
    type_double = 27,
};

// The kernel writes about a dozen pairs; a cap keeps the duplicate scan linear in practice.
constexpr std::size_t max_pairs = 64;
// ZFS_MAX_DATASET_NAME_LEN is 256 with the NUL; libzfs strlcpy()s toname into buffers of that
// size, so a longer name would be silently truncated into a different name.
constexpr std::size_t max_toname = 255;
// sizeof(nvpair_t): int32 size, int16 name_sz, int16 reserve, int32 nelem, int32 type.
constexpr std::size_t nvpair_header = 16;
// nvs_header_t (4 bytes) + nvl_version + nvl_nvflag + the 4-byte end marker.
constexpr std::uint64_t min_packed_size = 16;

TokenResult fail(TokenError error, std::string message) {
    TokenResult result;
    result.error = error;
    result.message = std::move(message);
    return result;
}

std::uint32_t load_le32(Bytes b, std::size_t at) {
    return static_cast<std::uint32_t>(b[at]) | static_cast<std::uint32_t>(b[at + 1]) << 8 |
           static_cast<std::uint32_t>(b[at + 2]) << 16 |
           static_cast<std::uint32_t>(b[at + 3]) << 24;
}

std::uint64_t load_le64(Bytes b, std::size_t at) {
    return static_cast<std::uint64_t>(load_le32(b, at)) |
           static_cast<std::uint64_t>(load_le32(b, at + 4)) << 32;
}

std::int32_t load_le_i32(Bytes b, std::size_t at) {
    return static_cast<std::int32_t>(load_le32(b, at));
}

std::int16_t load_le_i16(Bytes b, std::size_t at) {
    return static_cast<std::int16_t>(static_cast<std::uint16_t>(b[at] | b[at + 1] << 8));
}

constexpr std::uint64_t align8(std::uint64_t n) {
    return (n + 7) & ~std::uint64_t{7};
}

bool all_zero(Bytes b) {
    return std::all_of(b.begin(), b.end(), [](unsigned char c) { return c == 0; });
}

int hex_value(char c) {
    // Lowercase only: the kernel prints with %x and %02x, and one spelling per value keeps
    // the token text canonical.
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

// A %llx field as the kernel prints it: 1..16 lowercase digits, no leading zero.
std::optional<std::uint64_t> parse_hex_u64(std::string_view s) {
    if (s.empty() || s.size() > 16 || (s.size() > 1 && s.front() == '0')) return std::nullopt;
    std::uint64_t value = 0;
    for (char c : s) {
        int digit = hex_value(c);
        if (digit < 0) return std::nullopt;
        value = value << 4 | static_cast<std::uint64_t>(digit);
    }
    return value;
}

std::optional<std::vector<unsigned char>> parse_hex_body(std::string_view s) {
    if (s.size() % 2 != 0) return std::nullopt;
    std::vector<unsigned char> out(s.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(s[2 * i]);
        int lo = hex_value(s[2 * i + 1]);
        if (hi < 0 || lo < 0) return std::nullopt;
        out[i] = static_cast<unsigned char>(hi << 4 | lo);
    }
    return out;
}

// fletcher_4_native_varsize() word 0: the sum of the native (little-endian on every host
// this runs on) 32-bit words; a tail shorter than 4 bytes is not summed.
std::uint64_t fletcher4_word0(Bytes b) {
    std::uint64_t a = 0;
    for (std::size_t at = 0; at + 4 <= b.size(); at += 4)
        a += load_le32(b, at);
    return a;
}

// Unpadded value size of one packed pair, mirroring i_get_value_size() and
// i_validate_nvpair_value(); nullopt when libnvpair would reject the pair.
std::optional<std::uint64_t> value_size(std::int32_t type, std::int32_t nelem, Bytes value) {
    auto scalar = [&](std::uint64_t size) -> std::optional<std::uint64_t> {
        if (nelem != 1) return std::nullopt;
        return size;
    };
    auto array = [&](std::uint64_t size) -> std::optional<std::uint64_t> {
        if (nelem < 0) return std::nullopt;
        return static_cast<std::uint64_t>(nelem) * size;
    };
    switch (type) {
    case type_boolean:
        if (nelem != 0) return std::nullopt;
        return 0;
    case type_boolean_value:
        if (nelem != 1 || value.size() < 4 || load_le32(value, 0) > 1) return std::nullopt;
        return 4;
    case type_byte:
    case type_int8:
    case type_uint8:
        return scalar(1);
    case type_int16:
    case type_uint16:
        return scalar(2);
    case type_int32:
    case type_uint32:
        return scalar(4);
    case type_int64:
    case type_uint64:
    case type_hrtime:
    case type_double:
        return scalar(8);
    case type_string: {
        if (nelem != 1) return std::nullopt;
        auto nul = std::find(value.begin(), value.end(), 0);
        if (nul == value.end()) return std::nullopt;
        return static_cast<std::uint64_t>(nul - value.begin()) + 1;
    }
    case type_boolean_array: {
        auto size = array(4);
        if (!size || *size > value.size()) return std::nullopt;
        for (std::size_t at = 0; at < *size; at += 4)
            if (load_le32(value, at) > 1) return std::nullopt;
        return size;
    }
    case type_byte_array:
    case type_int8_array:
    case type_uint8_array:
        return array(1);
    case type_int16_array:
    case type_uint16_array:
        return array(2);
    case type_int32_array:
    case type_uint32_array:
        return array(4);
    case type_int64_array:
    case type_uint64_array:
        return array(8);
    case type_string_array: {
        // A table of nelem zeroed pointer slots, then the strings back to back.
        auto table = array(8);
        if (!table || *table > value.size()) return std::nullopt;
        if (!all_zero(value.first(*table))) return std::nullopt;
        std::size_t at = *table;
        for (std::int32_t i = 0; i < nelem; ++i) {
            auto rest = value.subspan(at);
            auto nul = std::find(rest.begin(), rest.end(), 0);
            if (nul == rest.end()) return std::nullopt;
            at += static_cast<std::size_t>(nul - rest.begin()) + 1;
        }
        return at;
    }
    default:
        return std::nullopt;
    }
}

struct Pair {
    std::string_view name;
    std::int32_t type = 0;
    std::int32_t nelem = 0;
    Bytes value; // unpadded
};

// Checks one packed nvpair image (already bounded to its nvp_size) the way nvs_native_nvp_op()
// and i_validate_nvpair() do, and additionally requires every pad byte to be zero, as the
// kernel's zeroed allocations leave them.
std::optional<Pair> parse_pair(Bytes p, std::string& why) {
    const std::int16_t name_sz = load_le_i16(p, 4);
    const std::int16_t reserve = load_le_i16(p, 6);
    Pair pair;
    pair.nelem = load_le_i32(p, 8);
    pair.type = load_le_i32(p, 12);
    if (name_sz <= 0 || reserve != 0) {
        why = "nvpair header is corrupt";
        return std::nullopt;
    }
    const auto name_end = nvpair_header + static_cast<std::size_t>(name_sz);
    const auto value_off = align8(name_end);
    if (value_off > p.size()) {
        why = "nvpair name runs past the pair";
        return std::nullopt;
    }
    const auto name = p.subspan(nvpair_header, static_cast<std::size_t>(name_sz) - 1);
    if (p[name_end - 1] != 0 || std::find(name.begin(), name.end(), 0) != name.end()) {
        why = "nvpair name is not a single NUL-terminated string";
        return std::nullopt;
    }
    if (!all_zero(p.subspan(name_end, value_off - name_end))) {
        why = "nvpair name padding is not zero";
        return std::nullopt;
    }
    pair.name = std::string_view(reinterpret_cast<const char*>(name.data()), name.size());

    if (pair.type == type_nvlist || pair.type == type_nvlist_array) {
        // No token field is an nvlist; refusing them keeps this reader flat (no recursion).
        why = "nested nvlists are not accepted";
        return std::nullopt;
    }
    const auto area = p.subspan(value_off);
    const auto size = value_size(pair.type, pair.nelem, area);
    if (!size || align8(*size) != area.size()) {
        why = "nvpair value does not match its type and size";
        return std::nullopt;
    }
    if (!all_zero(area.subspan(*size))) {
        why = "nvpair value padding is not zero";
        return std::nullopt;
    }
    pair.value = area.first(*size);
    return pair;
}

enum class Slot { toname, uint64, flag, uint64_array };

struct Field {
    std::string_view name;
    Slot slot;
};

// The pairs get_receive_resume_token_impl() writes, plus savedok, which libzfs reads.
constexpr std::array<Field, 13> known_fields{{
    {"toname", Slot::toname},
    {"fromguid", Slot::uint64},
    {"toguid", Slot::uint64},
    {"object", Slot::uint64},
    {"offset", Slot::uint64},
    {"bytes", Slot::uint64},
    {"embedok", Slot::flag},
    {"largeblockok", Slot::flag},
    {"compressok", Slot::flag},
    {"rawok", Slot::flag},
    {"savedok", Slot::flag},
    {"redact_snaps", Slot::uint64_array},
    {"book_redact_snaps", Slot::uint64_array},
}};

std::int32_t slot_type(Slot slot) {
    switch (slot) {
    case Slot::toname:
        return type_string;
    case Slot::uint64:
        return type_uint64;
    case Slot::flag:
        return type_boolean;
    case Slot::uint64_array:
        return type_uint64_array;
    }
    return 0;
}

std::optional<std::uint64_t>* uint64_slot(ResumeToken& t, std::string_view name) {
    if (name == "fromguid") return &t.fromguid;
    if (name == "toguid") return &t.toguid;
    if (name == "object") return &t.object;
    if (name == "offset") return &t.offset;
    return &t.bytes;
}

bool* flag_slot(ResumeToken& t, std::string_view name) {
    if (name == "embedok") return &t.embedok;
    if (name == "largeblockok") return &t.largeblockok;
    if (name == "compressok") return &t.compressok;
    if (name == "rawok") return &t.rawok;
    return &t.savedok;
}

// Known pairs fill their slot; names of the field come only from known_fields, never from the
// token, so messages carry no attacker bytes.
std::optional<TokenResult> store(ResumeToken& t, const Pair& pair) {
    const auto known = std::find_if(known_fields.begin(), known_fields.end(),
                                    [&](const Field& f) { return f.name == pair.name; });
    if (known == known_fields.end()) {
        t.unknown_fields.emplace_back(pair.name);
        return std::nullopt;
    }
    if (pair.type != slot_type(known->slot))
        return fail(TokenError::bad_field_type,
                    "field " + std::string(known->name) + " has the wrong data type");
    switch (known->slot) {
    case Slot::toname:
        if (pair.value.size() - 1 > max_toname)
            return fail(TokenError::size_limit, "toname is longer than a ZFS name can be");
        t.toname.assign(reinterpret_cast<const char*>(pair.value.data()), pair.value.size() - 1);
        break;
    case Slot::uint64:
        *uint64_slot(t, known->name) = load_le64(pair.value, 0);
        break;
    case Slot::flag:
        *flag_slot(t, known->name) = true;
        break;
    case Slot::uint64_array: {
        std::vector<std::uint64_t> values(pair.value.size() / 8);
        for (std::size_t i = 0; i < values.size(); ++i)
            values[i] = load_le64(pair.value, 8 * i);
        (known->name == "redact_snaps" ? t.redact_snaps : t.book_redact_snaps) = std::move(values);
        break;
    }
    }
    return std::nullopt;
}

// Reads the packed nvlist as nvs_native() lays it out on a little-endian host.
TokenResult read_nvlist(Bytes b, ResumeToken& t) {
    // Header: encoding, endian, two reserved bytes; then nvl_version and nvl_nvflag.
    if (b.size() < min_packed_size) return fail(TokenError::bad_nvlist, "packed nvlist too short");
    if (b[0] == 1)
        // fnvlist_pack() always uses NV_ENCODE_NATIVE; an XDR list cannot come from the kernel.
        return fail(TokenError::bad_nvlist, "XDR-encoded nvlist; OpenZFS packs tokens natively");
    if (b[0] != 0) return fail(TokenError::bad_nvlist, "unknown nvlist encoding");
    if (b[1] != 1)
        // libnvpair refuses native lists of the other byte order (ENOTSUP), so does this.
        return fail(TokenError::bad_nvlist, "nvlist is not little-endian");
    if (b[2] != 0 || b[3] != 0) return fail(TokenError::bad_nvlist, "nvlist header reserved bytes");
    if (load_le32(b, 4) != 0) return fail(TokenError::bad_nvlist, "nvlist version is not 0");
    // fnvlist_alloc() sets NV_UNIQUE_NAME; other flags would let names repeat by type.
    if (load_le32(b, 8) != 1) return fail(TokenError::bad_nvlist, "nvlist flags are not 1");

    std::vector<std::string_view> seen;
    std::size_t at = 12;
    for (;;) {
        if (b.size() - at < 4) return fail(TokenError::bad_nvlist, "nvlist ends without marker");
        const std::int32_t size = load_le_i32(b, at);
        if (size == 0) {
            at += 4;
            break;
        }
        if (size < 0 || static_cast<std::size_t>(size) > b.size() - at)
            return fail(TokenError::bad_nvlist, "nvpair size runs past the nvlist");
        if (static_cast<std::size_t>(size) < nvpair_header + 8 || size % 8 != 0)
            return fail(TokenError::bad_nvlist, "nvpair size is not a valid pair size");
        if (seen.size() == max_pairs) return fail(TokenError::bad_nvlist, "too many nvpairs");
        std::string why;
        const auto pair = parse_pair(b.subspan(at, static_cast<std::size_t>(size)), why);
        if (!pair) return fail(TokenError::bad_nvlist, why);
        // libnvpair keeps the last of two same-named pairs, and with NV_UNIQUE_NAME_TYPE
        // would keep both; a reader that picked another one would check a different value.
        if (std::find(seen.begin(), seen.end(), pair->name) != seen.end())
            return fail(TokenError::bad_nvlist, "duplicate nvpair name");
        seen.push_back(pair->name);
        if (auto error = store(t, *pair)) return std::move(*error);
        at += static_cast<std::size_t>(size);
    }
    if (at != b.size()) return fail(TokenError::bad_nvlist, "bytes after the nvlist end marker");
    if (t.toname.empty()) return fail(TokenError::missing_toname, "token names no snapshot");
    TokenResult result;
    result.token = std::move(t);
    return result;
}

TokenResult decode(std::string_view text) {
    if (text.size() > max_token_text) return fail(TokenError::size_limit, "token text too long");

    // Exactly four dash-separated fields, each non-empty. The body never contains '-', so
    // this is the same split libzfs makes with sscanf and strrchr, minus its leniency.
    std::array<std::string_view, 4> fields;
    std::size_t count = 0;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= text.size(); ++i) {
        if (i < text.size() && text[i] != '-') continue;
        if (count == fields.size() || i == start)
            return fail(TokenError::malformed_syntax, "token is not four dash-separated fields");
        fields[count++] = text.substr(start, i - start);
        start = i + 1;
    }
    if (count != fields.size())
        return fail(TokenError::malformed_syntax, "token is not four dash-separated fields");

    const auto version_text = fields[0];
    if (version_text.size() > 9 || (version_text.size() > 1 && version_text.front() == '0') ||
        !std::all_of(version_text.begin(), version_text.end(),
                     [](char c) { return c >= '0' && c <= '9'; }))
        return fail(TokenError::malformed_syntax, "token version is not a decimal number");
    std::uint32_t version = 0;
    for (char c : version_text)
        version = version * 10 + static_cast<std::uint32_t>(c - '0');
    // ZFS_SEND_RESUME_TOKEN_VERSION.
    if (version != 1) return fail(TokenError::unsupported_version, "token version is not 1");

    const auto checksum = parse_hex_u64(fields[1]);
    if (!checksum) return fail(TokenError::bad_hex, "checksum is not canonical lowercase hex");
    const auto packed_size = parse_hex_u64(fields[2]);
    if (!packed_size)
        return fail(TokenError::bad_hex, "packed size is not canonical lowercase hex");
    // Checked before the buffer of that size is allocated below.
    if (*packed_size < min_packed_size || *packed_size > max_packed_size)
        return fail(TokenError::size_limit, "packed size outside the accepted range");
    const auto compressed = parse_hex_body(fields[3]);
    if (!compressed) return fail(TokenError::bad_hex, "body is not even-length lowercase hex");

    // The checksum comes first so that zlib only ever sees bytes the token vouches for.
    if (fletcher4_word0(*compressed) != *checksum)
        return fail(TokenError::checksum_mismatch, "checksum does not match the body");

    std::vector<unsigned char> packed(static_cast<std::size_t>(*packed_size));
    auto packed_len = static_cast<uLongf>(packed.size());
    auto source_len = static_cast<uLong>(compressed->size());
    const int rc = uncompress2(packed.data(), &packed_len, compressed->data(), &source_len);
    // Z_BUF_ERROR: the output buffer filled before the stream ended. With input left over
    // (at least the adler32 trailer is) the declared size was too small; with none left the
    // body was cut short.
    if (rc == Z_BUF_ERROR && source_len < compressed->size())
        return fail(TokenError::size_mismatch, "body inflates past the declared packed size");
    if (rc != Z_OK) return fail(TokenError::decompression_failed, "body is not a zlib stream");
    if (source_len != compressed->size())
        return fail(TokenError::decompression_failed, "bytes after the zlib stream");
    if (packed_len != packed.size())
        return fail(TokenError::size_mismatch, "body inflates short of the declared packed size");

    ResumeToken token;
    token.version = version;
    return read_nvlist(packed, token);
}

} // namespace

TokenResult decode_resume_token(std::string_view text) {
    // Allocations here are bounded by the caps above, but a failing one must not leave the
    // folder as an exception. The message fits std::string's small buffer.
    try {
        return decode(text);
    } catch (const std::bad_alloc&) {
        return fail(TokenError::size_limit, "out of memory");
    }
}

std::string_view to_string(TokenError error) {
    switch (error) {
    case TokenError::malformed_syntax:
        return "malformed_syntax";
    case TokenError::unsupported_version:
        return "unsupported_version";
    case TokenError::bad_hex:
        return "bad_hex";
    case TokenError::size_limit:
        return "size_limit";
    case TokenError::checksum_mismatch:
        return "checksum_mismatch";
    case TokenError::decompression_failed:
        return "decompression_failed";
    case TokenError::size_mismatch:
        return "size_mismatch";
    case TokenError::bad_nvlist:
        return "bad_nvlist";
    case TokenError::missing_toname:
        return "missing_toname";
    case TokenError::bad_field_type:
        return "bad_field_type";
    }
    return "unknown";
}

} // namespace policy

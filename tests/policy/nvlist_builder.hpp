// Test-only encoder that makes resume tokens the way OpenZFS does: nvlist_pack(NV_ENCODE_NATIVE)
// on a little-endian host, zlib level 6, fletcher4 word 0, "%u-%llx-%llx-%s".
// Test helper only: the library never encodes tokens, and nothing here is linked into it.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy::test {

using ByteVec = std::vector<unsigned char>;

// data_type_t values from OpenZFS include/sys/nvpair.h.
enum NvType : std::int32_t {
    nv_boolean = 1,
    nv_uint32 = 6,
    nv_uint64 = 8,
    nv_string = 9,
    nv_uint64_array = 16,
    nv_nvlist = 19,
    nv_boolean_value = 21,
};

inline void put_le(ByteVec& out, std::uint64_t v, int width) {
    for (int i = 0; i < width; ++i)
        out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

inline std::size_t align8(std::size_t n) {
    return (n + 7) & ~std::size_t{7};
}

// One packed nvpair image as nvs_native_nvp_op() copies it out of an nvpair_t: the 16-byte
// header, the NUL-terminated name padded to 8, the value padded to 8, all pads zero.
inline ByteVec pair_image(std::string_view name, std::int32_t type, std::int32_t nelem,
                          const ByteVec& value) {
    const std::size_t name_sz = name.size() + 1;
    const std::size_t size = align8(16 + name_sz) + align8(value.size());
    ByteVec out;
    put_le(out, size, 4);
    put_le(out, name_sz, 2);
    put_le(out, 0, 2); // nvp_reserve
    put_le(out, static_cast<std::uint32_t>(nelem), 4);
    put_le(out, static_cast<std::uint32_t>(type), 4);
    out.insert(out.end(), name.begin(), name.end());
    out.resize(align8(out.size() + 1), 0);
    out.insert(out.end(), value.begin(), value.end());
    out.resize(size, 0);
    return out;
}

class NvlistBuilder {
  public:
    // Header fields, public so tests can corrupt them.
    unsigned char encoding = 0; // NV_ENCODE_NATIVE
    unsigned char endian = 1;   // little-endian host
    std::uint32_t nvl_version = 0;
    std::uint32_t nvl_nvflag = 1; // NV_UNIQUE_NAME, as fnvlist_alloc() sets

    NvlistBuilder& add_uint64(std::string_view name, std::uint64_t v) {
        ByteVec value;
        put_le(value, v, 8);
        return add_raw(name, nv_uint64, 1, value);
    }
    NvlistBuilder& add_string(std::string_view name, std::string_view s) {
        ByteVec value(s.begin(), s.end());
        value.push_back(0);
        return add_raw(name, nv_string, 1, value);
    }
    NvlistBuilder& add_boolean(std::string_view name) { return add_raw(name, nv_boolean, 0, {}); }
    NvlistBuilder& add_uint64_array(std::string_view name, const std::vector<std::uint64_t>& v) {
        ByteVec value;
        for (auto x : v)
            put_le(value, x, 8);
        return add_raw(name, nv_uint64_array, static_cast<std::int32_t>(v.size()), value);
    }
    NvlistBuilder& add_raw(std::string_view name, std::int32_t type, std::int32_t nelem,
                           const ByteVec& value) {
        return add_image(pair_image(name, type, nelem, value));
    }
    // A pre-built (possibly corrupt) pair image, copied verbatim.
    NvlistBuilder& add_image(const ByteVec& image) {
        pairs_.insert(pairs_.end(), image.begin(), image.end());
        return *this;
    }

    ByteVec pack() const {
        ByteVec out{encoding, endian, 0, 0};
        put_le(out, nvl_version, 4);
        put_le(out, nvl_nvflag, 4);
        out.insert(out.end(), pairs_.begin(), pairs_.end());
        put_le(out, 0, 4); // end marker
        return out;
    }

  private:
    ByteVec pairs_;
};

// zfs_gzip_compress(..., 6): zlib format (compress2), not gzip framing.
inline ByteVec compress6(const ByteVec& in) {
    uLongf len = compressBound(static_cast<uLong>(in.size()));
    ByteVec out(len);
    if (compress2(out.data(), &len, in.data(), static_cast<uLong>(in.size()), 6) != Z_OK) return {};
    out.resize(len);
    return out;
}

inline std::uint64_t fletcher4_word0(const ByteVec& b) {
    std::uint64_t a = 0;
    for (std::size_t at = 0; at + 4 <= b.size(); at += 4)
        a += std::uint64_t{b[at]} | std::uint64_t{b[at + 1]} << 8 | std::uint64_t{b[at + 2]} << 16 |
             std::uint64_t{b[at + 3]} << 24;
    return a;
}

inline std::string to_hex(const ByteVec& b) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (auto c : b) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

inline std::string hex_u64(std::uint64_t v) {
    char buf[17];
    std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
    return buf;
}

// Assembles the text from parts; any part can be made to lie.
inline std::string token_text(std::uint32_t version, std::uint64_t checksum,
                              std::uint64_t packed_size, const ByteVec& compressed) {
    return std::to_string(version) + "-" + hex_u64(checksum) + "-" + hex_u64(packed_size) + "-" +
           to_hex(compressed);
}

// An honest token around already compressed bytes (checksum recomputed).
inline std::string token_from_compressed(const ByteVec& compressed, std::uint64_t packed_size) {
    return token_text(1, fletcher4_word0(compressed), packed_size, compressed);
}

// An honest token for a packed nvlist, as get_receive_resume_token_impl() makes it.
inline std::string token_from_packed(const ByteVec& packed) {
    return token_from_compressed(compress6(packed), packed.size());
}

// The fields a kernel token can carry, added in the kernel's order.
struct TokenSpec {
    std::optional<std::uint64_t> fromguid, object, offset, bytes, toguid;
    std::optional<std::string> toname;
    bool largeblockok = false, embedok = false, compressok = false, rawok = false;
    bool savedok = false; // never written by the kernel; libzfs reads it
    std::optional<std::vector<std::uint64_t>> redact_snaps, book_redact_snaps;
};

inline NvlistBuilder kernel_nvlist(const TokenSpec& s) {
    NvlistBuilder b;
    if (s.fromguid) b.add_uint64("fromguid", *s.fromguid);
    if (s.object) b.add_uint64("object", *s.object);
    if (s.offset) b.add_uint64("offset", *s.offset);
    if (s.bytes) b.add_uint64("bytes", *s.bytes);
    if (s.toguid) b.add_uint64("toguid", *s.toguid);
    if (s.toname) b.add_string("toname", *s.toname);
    if (s.largeblockok) b.add_boolean("largeblockok");
    if (s.embedok) b.add_boolean("embedok");
    if (s.compressok) b.add_boolean("compressok");
    if (s.rawok) b.add_boolean("rawok");
    if (s.redact_snaps) b.add_uint64_array("redact_snaps", *s.redact_snaps);
    if (s.book_redact_snaps) b.add_uint64_array("book_redact_snaps", *s.book_redact_snaps);
    if (s.savedok) b.add_boolean("savedok");
    return b;
}

inline std::string kernel_token(const TokenSpec& s) {
    return token_from_packed(kernel_nvlist(s).pack());
}

} // namespace policy::test

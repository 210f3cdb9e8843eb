// Decoder for OpenZFS `receive_resume_token` strings, the argument of `zfs send -t TOKEN`.
// Pure: text in, fields out. No I/O, no globals, no logging; no exception leaves this API.
// It only decodes; whether the decoded token may be sent is decide()'s business.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace policy {

// One decoded token. Field names follow get_receive_resume_token_impl() in OpenZFS
// module/zfs/dsl_dataset.c; optional fields are absent when the kernel did not write them.
struct ResumeToken {
    std::uint32_t version = 0;
    // The snapshot the interrupted send was sending ("pool/ds@snap"). libzfs does NOT send
    // this name as is: it searches the pool for the snapshot whose guid is toguid, starting
    // at toname's filesystem and widening to the whole pool (guid_to_name in
    // libzfs_sendrecv.c). A caller that checks toname must also tie toguid to it.
    std::string toname;
    std::optional<std::uint64_t> fromguid, toguid, object, offset, bytes;
    // Presence flags (DATA_TYPE_BOOLEAN pairs). The kernel never writes savedok, but libzfs
    // honours it (LZC_SEND_FLAG_SAVED) when a hand-made token carries it.
    bool embedok = false, largeblockok = false, compressok = false, rawok = false, savedok = false;
    // uint64 arrays the kernel adds when the receive involved redaction.
    std::optional<std::vector<std::uint64_t>> redact_snaps, book_redact_snaps;
    // Names of well-formed pairs this decoder does not know; decide() denies if non-empty.
    std::vector<std::string> unknown_fields;
};

enum class TokenError {
    malformed_syntax,     // not <decimal>-<hex>-<hex>-<hex>, or junk around it
    unsupported_version,  // version field is not 1
    bad_hex,              // a hex field has a character outside [0-9a-f] or odd length
    size_limit,           // token text or declared packed size above the hard caps
    checksum_mismatch,    // fletcher4 word 0 of the compressed bytes differs
    decompression_failed, // zlib refused the body
    size_mismatch,        // inflated length differs from the declared packed size
    bad_nvlist,           // packed nvlist malformed, duplicated, nested or not native LE
    missing_toname,       // no toname pair, or an empty one
    bad_field_type,       // a known field carries the wrong nvpair data type
};

struct TokenResult {
    std::optional<ResumeToken> token;
    TokenError error{};
    std::string message; // for the audit log; never shown to the client verbatim
    bool ok() const { return token.has_value(); }
};

// Hard caps, checked before anything is allocated from the token's own numbers.
inline constexpr std::size_t max_token_text = 64 * 1024;
inline constexpr std::uint64_t max_packed_size = 1024 * 1024;

TokenResult decode_resume_token(std::string_view text);
std::string_view to_string(TokenError error);

} // namespace policy

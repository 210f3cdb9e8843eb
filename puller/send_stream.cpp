// The record layout (include/sys/zfs_ioctl.h, dmu_replay_record_t, 312 bytes; the same in
// OpenZFS 2.1 and today): drr_type u32 at 0, drr_payloadlen u32 at 4, then the union at 8.
// Payload sizes are computed exactly as the receiving side computes them: a different rule
// here would let a stream hide a record between what we think is payload.
#include "puller/send_stream.hpp"

#include <cstring>

namespace puller {
namespace {

enum RecordType : std::uint32_t {
    drr_begin,
    drr_object,
    drr_freeobjects,
    drr_write,
    drr_free,
    drr_end,
    drr_write_byref,
    drr_spill,
    drr_write_embedded,
    drr_object_range,
    drr_redact,
};

constexpr std::uint64_t backup_magic = 0x2F5bacbacULL;
constexpr std::uint64_t substream_header = 1, compound_header = 2; // drr_versioninfo bits 0-1
constexpr std::uint32_t ost_zfs = 2, ost_zvol = 3; // dmu_objset_type_t (include/sys/fs/zfs.h)
// No record carries more than a block (SPA_MAXBLOCKSIZE); a package header's nvlist (names and
// guids of every snapshot of the dataset) is the one large payload.
constexpr std::uint64_t max_payload = 16ULL << 20;
constexpr std::uint64_t max_begin_payload = 64ULL << 20;
constexpr std::size_t max_name = 256; // MAXNAMELEN, with the NUL

std::uint32_t u32(const std::string& rec, std::size_t off, bool swapped) {
    std::uint32_t v = 0;
    std::memcpy(&v, rec.data() + off, 4);
    return swapped ? __builtin_bswap32(v) : v;
}
std::uint64_t u64(const std::string& rec, std::size_t off, bool swapped) {
    std::uint64_t v = 0;
    std::memcpy(&v, rec.data() + off, 8);
    return swapped ? __builtin_bswap64(v) : v;
}
std::uint64_t round8(std::uint64_t n) {
    return (n + 7) & ~std::uint64_t{7};
}

const char* kind_name(DatasetKind k) {
    return k == DatasetKind::volume ? "volume" : "filesystem";
}

} // namespace

void StreamCheck::feed(const char* data, std::size_t n, std::string& out) {
    std::size_t used = 0;
    while (used < n && error_.empty()) {
        if (payload_left_ > 0) {
            const auto take =
                static_cast<std::size_t>(std::min<std::uint64_t>(payload_left_, n - used));
            out.append(data + used, take);
            payload_left_ -= take;
            used += take;
            continue;
        }
        if (phase_ == Phase::done) {
            refuse("the source sent data after the end of the stream");
            return;
        }
        const std::size_t take = std::min(record_size - header_.size(), n - used);
        header_.append(data + used, take);
        used += take;
        if (header_.size() < record_size) return; // held back until the record is whole
        if (!record()) return;                    // a broken record is never passed on
        out += header_;
        header_.clear();
    }
}

bool StreamCheck::refuse(std::string why) {
    error_ = std::move(why);
    return false;
}

bool StreamCheck::record() {
    const std::uint32_t type = u32(header_, 0, swapped_);
    if (type == drr_begin) return begin();
    switch (phase_) {
    case Phase::start:
        return refuse("the source did not send a zfs send stream (no BEGIN record first)");
    case Phase::package_end:
        if (type != drr_end) return refuse("the source sent a package header without its END");
        phase_ = Phase::package;
        return true;
    case Phase::package:
        if (type != drr_end)
            return refuse("the source sent a record outside any substream (type " +
                          std::to_string(type) + ")");
        phase_ = Phase::done;
        return true;
    case Phase::done:
        return refuse("the source sent data after the end of the stream");
    case Phase::substream:
        break;
    }
    std::uint64_t payload = 0;
    switch (type) {
    case drr_object: {
        const std::uint32_t raw_bonus = u32(header_, 36, swapped_);
        payload = raw_bonus != 0 ? raw_bonus : round8(u32(header_, 28, swapped_));
        break;
    }
    case drr_write: {
        const bool compressed = static_cast<unsigned char>(header_[50]) != 0;
        payload = compressed ? u64(header_, 96, swapped_) : u64(header_, 32, swapped_);
        break;
    }
    case drr_spill: {
        const std::uint64_t compressed = u64(header_, 40, swapped_);
        payload = compressed != 0 ? compressed : u64(header_, 16, swapped_);
        break;
    }
    case drr_write_embedded:
        payload = round8(u32(header_, 52, swapped_));
        break;
    case drr_end:
        phase_ = package_ ? Phase::package : Phase::done;
        return true;
    case drr_freeobjects:
    case drr_free:
    case drr_write_byref:
    case drr_object_range:
    case drr_redact:
        break;
    default:
        return refuse("the source sent a record of unknown type " + std::to_string(type));
    }
    if (payload > max_payload)
        return refuse("the source sent a record of " + std::to_string(payload) +
                      " bytes, larger than any zfs block");
    payload_left_ = payload;
    return true;
}

bool StreamCheck::begin() {
    // The magic says in which byte order the sender wrote this BEGIN and the records after it.
    std::uint64_t magic = 0;
    std::memcpy(&magic, header_.data() + 8, 8);
    if (magic == backup_magic)
        swapped_ = false;
    else if (magic == __builtin_bswap64(backup_magic))
        swapped_ = true;
    else
        return refuse("the source sent a BEGIN record without the zfs send magic number");
    const std::uint64_t header_type = u64(header_, 16, swapped_) & 3;
    const std::uint64_t payload = u32(header_, 4, swapped_);
    if (payload > max_begin_payload)
        return refuse("the source sent a stream header of " + std::to_string(payload) + " bytes");

    const char* name = header_.data() + 56;
    const std::size_t len = strnlen(name, max_name);
    const std::string toname(name, len);
    const auto at = toname.find('@');
    if (len == max_name || at == std::string::npos || at + 1 == toname.size() ||
        toname.substr(0, at) != expect_.dataset)
        return refuse("the source sent a stream for " + toname + ", not for " + expect_.dataset +
                      "; stopped before it (nothing of it was received)");

    if (header_type == compound_header) {
        if (phase_ != Phase::start)
            return refuse("the source sent a package header inside a stream");
        package_ = true;
        phase_ = Phase::package_end;
        payload_left_ = payload;
        next_from_ = expect_.first_from_guid;
        return true;
    }
    if (header_type != substream_header)
        return refuse("the source sent a BEGIN record of unknown header type " +
                      std::to_string(header_type));
    if (phase_ == Phase::start) {
        next_from_ = expect_.first_from_guid;
    } else if (phase_ != Phase::package) {
        return refuse("the source sent a BEGIN record inside a substream");
    }

    const std::uint32_t ost = u32(header_, 32, swapped_);
    if (ost != ost_zfs && ost != ost_zvol)
        return refuse("the source sent a stream of objset type " + std::to_string(ost) +
                      " (neither a filesystem nor a volume)");
    const DatasetKind k = ost == ost_zvol ? DatasetKind::volume : DatasetKind::filesystem;
    const std::optional<DatasetKind> want = kind_ ? kind_ : expect_.kind;
    if (want && *want != k)
        return refuse(std::string("the source sent a ") + kind_name(k) + " stream for " + toname +
                      ", but the target is a " + kind_name(*want));
    kind_ = k;

    const std::uint64_t from = u64(header_, 48, swapped_);
    if (from != next_from_)
        return refuse("the source sent " + toname + " as an increment from guid " +
                      std::to_string(from) + ", not from guid " + std::to_string(next_from_) +
                      " (the snapshot the target has)");
    next_from_ = u64(header_, 40, swapped_); // the next substream builds on this one
    ++substreams_;
    phase_ = Phase::substream;
    payload_left_ = payload;
    return true;
}

} // namespace puller

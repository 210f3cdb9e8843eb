// Test helpers: zfs send stream records as OpenZFS writes them on a little-endian host
// (include/sys/zfs_ioctl.h, dmu_replay_record_t, 312 bytes), for the stream checker, the relay
// and the fake source. The checker is also tested against real streams (tests/puller/streams/),
// so a layout mistake here cannot hide one there.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

namespace stream_records {

constexpr std::size_t record_size = 312;
constexpr std::uint64_t backup_magic = 0x2F5bacbacULL;

inline void put64(std::string& rec, std::size_t off, std::uint64_t v) {
    std::memcpy(rec.data() + off, &v, 8);
}
inline void put32(std::string& rec, std::size_t off, std::uint32_t v) {
    std::memcpy(rec.data() + off, &v, 4);
}

// DRR_BEGIN: a substream (volume or filesystem), or with `compound` a package header.
inline std::string begin(const std::string& toname, bool volume, std::uint64_t toguid,
                         std::uint64_t fromguid, std::int64_t creation = 1700000000,
                         bool compound = false, std::uint32_t payload = 0) {
    std::string rec(record_size, '\0');
    put32(rec, 0, 0); // DRR_BEGIN
    put32(rec, 4, payload);
    put64(rec, 8, backup_magic);
    put64(rec, 16, compound ? 2 : 1); // header type in the low two bits of drr_versioninfo
    put64(rec, 24, static_cast<std::uint64_t>(creation));
    put32(rec, 32, compound ? 0 : (volume ? 3 : 2)); // DMU_OST_ZVOL / DMU_OST_ZFS
    put64(rec, 40, toguid);
    put64(rec, 48, fromguid);
    std::memcpy(rec.data() + 56, toname.data(), std::min<std::size_t>(toname.size(), 255));
    return rec;
}

inline std::string end(std::uint64_t toguid) {
    std::string rec(record_size, '\0');
    put32(rec, 0, 5); // DRR_END
    put64(rec, 40, toguid);
    return rec;
}

// DRR_WRITE whose payload (`bytes`, uncompressed) follows it.
inline std::string write(std::uint64_t bytes) {
    std::string rec(record_size, '\0');
    put32(rec, 0, 3);      // DRR_WRITE
    put64(rec, 32, bytes); // drr_logical_size; drr_compressiontype 0: the payload is this long
    return rec;
}

// A whole substream: BEGIN, one write of `bytes`, END.
inline std::string substream(const std::string& toname, bool volume, std::uint64_t toguid,
                             std::uint64_t fromguid, std::uint64_t bytes,
                             std::int64_t creation = 1700000000) {
    return begin(toname, volume, toguid, fromguid, creation) + write(bytes) +
           std::string(bytes, 'x') + end(toguid);
}

} // namespace stream_records

// Reads a zfs send stream as it passes from the source to `zfs receive`, record by record, with
// the record sizes the kernel and libzfs use (OpenZFS include/sys/zfs_ioctl.h,
// dmu_recv.c:receive_read_record, libzfs_sendrecv.c:recv_skip), and stops it at the first record
// the puller did not ask for. Pure: bytes in, a verdict out.
//
// What it enforces, because zfs receive would otherwise take it from the source:
//  * every BEGIN record names the dataset that was asked for (`DS@snap`), so a stream can never
//    create or change another dataset (the children of a replication stream, a sibling);
//  * every substream has one type, the target's own when the target exists, so the receive
//    options chosen for that type fit (and the type of a new dataset is the stream's, never the
//    listing's);
//  * substreams chain: the first starts from the snapshot the plan expects (0 for a full
//    stream), each later one from the one before, so `zfs receive -F` can never roll the target
//    back further than the plan said;
//  * the stream has the shape zfs send writes (one substream, or a package: compound BEGIN, END,
//    substreams, END) and nothing after its end.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "puller/inventory.hpp"

namespace puller {

struct StreamExpect {
    std::string dataset;               // the source dataset the send named
    std::optional<DatasetKind> kind;   // the target's type; nothing: a new dataset, the stream's
    std::uint64_t first_from_guid = 0; // what the first substream starts from (0: full)
};

class StreamCheck {
  public:
    static constexpr std::size_t record_size = 312; // sizeof(dmu_replay_record_t)

    explicit StreamCheck(StreamExpect expect) : expect_(std::move(expect)) {}

    // Looks at the next `n` bytes of the stream and appends to `out` every byte that may go on
    // to zfs receive: whole records that keep the rules, and their payloads. A record whose
    // header is not complete yet is held back until it is; one that breaks a rule is never
    // passed on (failed(), error()), and nothing after it either.
    void feed(const char* data, std::size_t n, std::string& out);
    // Bytes of the current record's payload not seen yet: the relay may move up to this many
    // without showing them to feed() (splice), and then says so with skip().
    std::uint64_t payload_left() const { return payload_left_; }
    void skip(std::uint64_t n) { payload_left_ -= n < payload_left_ ? n : payload_left_; }

    // The type of the stream's substreams, once the first substream's BEGIN has been read.
    std::optional<DatasetKind> kind() const { return kind_; }
    // The end of the whole stream was read.
    bool complete() const { return error_.empty() && phase_ == Phase::done && payload_left_ == 0; }
    bool failed() const { return !error_.empty(); }
    const std::string& error() const { return error_; }
    unsigned substreams() const { return substreams_; }

  private:
    enum class Phase { start, package_end, package, substream, done };
    StreamExpect expect_;
    Phase phase_ = Phase::start;
    bool package_ = false;
    bool swapped_ = false; // the sender's byte order is not ours (from the last BEGIN's magic)
    std::string header_;   // the record being assembled
    std::uint64_t payload_left_ = 0;
    std::optional<DatasetKind> kind_;
    std::uint64_t next_from_ = 0;
    unsigned substreams_ = 0;
    std::string error_;

    bool record(); // header_ is complete: check it, set payload_left_; false on a broken rule
    bool begin();
    bool refuse(std::string why);
};

} // namespace puller

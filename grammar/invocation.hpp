// The typed result of parsing one SSH_ORIGINAL_COMMAND: what syncoid (or zfs-puller) asked for,
// as plain values. No PEGTL type appears here; nothing in this header holds a client token
// verbatim except after the grammar checked it against its field's character set.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace grammar {

// `pool/fs@snap`: dataset and snapshot parts, each checked against ZFS name rules.
struct SnapshotName {
    std::string dataset;
    std::string snapshot;
    std::string full() const { return dataset + "@" + snapshot; }
    bool operator==(const SnapshotName&) const = default;
};

// `pool/fs#bookmark`.
struct BookmarkName {
    std::string dataset;
    std::string bookmark;
    std::string full() const { return dataset + "#" + bookmark; }
    bool operator==(const BookmarkName&) const = default;
};

// Pipeline helpers the gatekeeper may start, and the names `command -v` may ask about.
enum class Tool { lzop, gzip, pigz, zstd, zstdmt, xz, lz4, mbuffer, socat };

// --- builtins: answered by the gatekeeper itself, nothing is started -------------------------
struct Exit { // `exit`: ControlMaster session (all syncoid versions)
    bool operator==(const Exit&) const = default;
};
struct EchoN { // `echo -n`: syncoid's connectivity test, must exit 0
    bool operator==(const EchoN&) const = default;
};
struct CommandV { // `command -v TOOL`: non-empty stdout means "available"
    Tool tool;
    bool operator==(const CommandV&) const = default;
};

// --- zpool ------------------------------------------------------------------------------------
// `zpool get -o value -H feature@extensible_dataset POOL`: resume-support probe.
struct ZpoolGetFeature {
    std::string pool;
    bool operator==(const ZpoolGetFeature&) const = default;
};

// --- zfs get / list -----------------------------------------------------------------------------
// Every `zfs get` shape we accept, one enumerator per syncoid production. The argv words for a
// query come from a fixed table (canonical.cpp), never from the client.
enum class GetQuery {
    syncoid_sync,         // get -H syncoid:sync DS
    type,                 // get -H type DS
    recordsize,           // get -H recordsize DS
    snapshots,            // get -Hpd 1 -t snapshot guid,creation DS
    snapshots_txg,        // get -Hpd 1 -t snapshot guid,creation,createtxg DS (master)
    children_typed,       // get -Hpd 1 type,guid,creation DS (2.2.0+ fallback)
    children_typed_last,  // get -Hpd 1 guid,creation,type DS (master)
    children_typed_txg,   // get -Hpd 1 guid,creation,createtxg,type DS (master)
    bookmarks,            // get -Hpd 1 -t bookmark guid,creation DS
    bookmarks_txg,        // get -Hpd 1 -t bookmark guid,creation,createtxg DS (master)
    local_properties,     // get -s local -H all DS (2.3.0+) / get all -s local -H DS (2.2.0)
    probe_snapshot_type,  // get -H -t snapshot (master probe, no operands)
    probe_createtxg,      // get -H createtxg (master probe; run scoped, see decide.cpp)
    receive_resume_token, // get -H -p -o name,value receive_resume_token DS (zfs-puller restore)
};

struct ZfsGet {
    GetQuery query;
    std::vector<std::string> datasets; // empty only for the master probes
    bool operator==(const ZfsGet&) const = default;
};

enum class ListQuery {
    recursive_origins, // list -o name,origin -t filesystem,volume -Hr DS (syncoid --recursive)
    puller_inventory,  // list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written
                       // DS (zfs-puller)
};

struct ZfsList {
    ListQuery query;
    std::string dataset;
    bool operator==(const ZfsList&) const = default;
};

// --- snapshot-changing commands -----------------------------------------------------------------
struct ZfsSnapshot { // zfs snapshot DS@SNAP [DS@SNAP]... (one atomic transaction)
    std::vector<SnapshotName> snapshots;
    bool operator==(const ZfsSnapshot&) const = default;
};
struct ZfsDestroy { // zfs destroy DS@SNAP (one snapshot; never ranges, lists, -r)
    SnapshotName snapshot;
    bool operator==(const ZfsDestroy&) const = default;
};
struct ZfsHold {     // zfs hold TAG DS@SNAP [DS@SNAP]... (syncoid 2.2.0+ --use-hold
    std::string tag; // sends one; zfs-puller holds a whole job's snapshots at once)
    std::vector<SnapshotName> snapshots;
    bool operator==(const ZfsHold&) const = default;
};
struct ZfsRelease { // zfs release TAG DS@SNAP [DS@SNAP]...
    std::string tag;
    std::vector<SnapshotName> snapshots;
    bool operator==(const ZfsRelease&) const = default;
};
struct ZfsBookmark { // zfs bookmark DS@SNAP DS#BM
    SnapshotName snapshot;
    BookmarkName bookmark;
    bool operator==(const ZfsBookmark&) const = default;
};

// --- zfs receive (zfs-puller restore) ----------------------------------------------------------
// Always `zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o
// devices=off -x mountpoint -- DS`: resumable, never mounted, read-only, not mounted at boot, the
// stream's mountpoint ignored. The stream is the client's stdin.
struct ZfsReceive {
    std::string dataset;
    bool operator==(const ZfsReceive&) const = default;
};

// --- zfs send
// -------------------------------------------------------------------------------------
// Single-letter send flags syncoid can pass through --sendoptions (syncoid --sendoptions), in
// the canonical order the argv is rebuilt in.
inline constexpr char send_flag_order[] = "DLPRVbcehpsvw";

struct SendFull {
    SnapshotName snapshot;
    bool operator==(const SendFull&) const = default;
};
struct SendIncremental {
    bool intermediates;                            // -I (true) or -i (false)
    std::variant<SnapshotName, BookmarkName> from; // snapshot, bookmark, or clone origin snapshot
    SnapshotName to;
    bool operator==(const SendIncremental&) const = default;
};
struct SendResume {
    std::string token; // shape-checked: 1-<hex>-<hex>-<hex>
    bool operator==(const SendResume&) const = default;
};

struct ZfsSend {
    std::string flags;                 // subset of send_flag_order, sorted, unique
    std::vector<std::string> excludes; // -X DS (2.3.0+ --sendoptions=X)
    bool estimate = false;             // -nvP: size estimate, no stream
    std::variant<SendFull, SendIncremental, SendResume> source;
    bool has_flag(char f) const { return flags.find(f) != std::string::npos; }
    bool operator==(const ZfsSend&) const = default;
};

// --- pipeline stages after zfs send
// -----------------------------------------------------------------
struct Compress { // lzop | gzip -3 | pigz -3/-9 | zstd(mt) -3/-19 | xz | lz4
    Tool tool;
    std::optional<int> level;
    bool operator==(const Compress&) const = default;
};
struct Mbuffer { // mbuffer [-R RATE] -q -s 128k -m SIZE
    std::optional<std::string> rate;
    std::string size;
    bool operator==(const Mbuffer&) const = default;
};
struct Socat { // socat - TCP:HOST:PORT,retry=N,interval=1 (2.2.0+ direct connection)
    std::string host;
    std::uint16_t port = 0;
    unsigned retry = 0;
    bool operator==(const Socat&) const = default;
};

using Command =
    std::variant<Exit, EchoN, CommandV, ZpoolGetFeature, ZfsGet, ZfsList, ZfsSnapshot, ZfsDestroy,
                 ZfsHold, ZfsRelease, ZfsBookmark, ZfsSend, ZfsReceive, Compress, Mbuffer, Socat>;

// Stages joined by `|`. `2>/dev/null` (syncoid 2.1.0, after mbuffer) silences the last stage's
// stderr only, as in sh.
struct Pipeline {
    std::vector<Command> stages;
    bool last_stderr_to_devnull = false;
    bool operator==(const Pipeline&) const = default;
};

// Pipelines joined by `;` (only syncoid's prune chains use more than one).
struct Invocation {
    std::vector<Pipeline> pipelines;
    bool sudo_stripped = false; // a leading `sudo` word was removed somewhere
    bool operator==(const Invocation&) const = default;
};

// Bytes of an mbuffer size or rate as mbuffer(1) reads it: decimal digits and an optional
// k/M/G unit (either case). nullopt for zero, another unit, or more than 64 bits.
std::optional<std::uint64_t> mbuffer_bytes(std::string_view text);

} // namespace grammar

// What exists on one side: datasets with their snapshots and bookmarks, parsed from
// `zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written` text, plus
// the common-snapshot search by guid. Pure: text in, values out; no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace puller {

enum class DatasetKind { filesystem, volume };

// A snapshot or a bookmark: the part after `@` / `#`, and the numbers that identify it.
struct Point {
    std::string name;
    std::uint64_t guid = 0; // a bookmark carries the guid of the snapshot it was made of
    std::uint64_t createtxg = 0;
    std::uint64_t written = 0; // snapshots: bytes written since the previous snapshot
    // Target side only: `creation` (seconds; for a received snapshot the source's clock), and
    // when this host received it, from the zfs-puller:received property zfs-puller sets locally
    // after each receive (0: not set locally).
    std::int64_t creation = 0;
    std::int64_t received_at = 0;
    bool operator==(const Point&) const = default;
};

struct Dataset {
    std::string name; // full name, e.g. "tank/home/alice"
    DatasetKind kind = DatasetKind::filesystem;
    std::uint64_t guid = 0;
    std::uint64_t createtxg = 0;
    std::string origin;           // "pool/ds@snap" for a clone, "" otherwise
    std::string encryption;       // "off" or the cipher
    std::uint64_t written = 0;    // bytes written since the newest snapshot
    std::vector<Point> snapshots; // ascending createtxg
    std::vector<Point> bookmarks; // ascending createtxg
    std::string resume_token;     // target side: receive_resume_token, "" if none
    bool kind_known = true;       // false: only a partial first receive exists (no listing row)

    bool encrypted() const { return !encryption.empty() && encryption != "off"; }
    const Point* snapshot_named(std::string_view snap) const;
    const Point* snapshot_by_guid(std::uint64_t guid) const;
    const Point* bookmark_by_guid(std::uint64_t guid) const;
    const Point* newest_snapshot() const { return snapshots.empty() ? nullptr : &snapshots.back(); }
    bool operator==(const Dataset&) const = default;
};

// Datasets by full name.
using Inventory = std::map<std::string, Dataset>;

struct InventoryResult {
    std::optional<Inventory> inventory;
    std::string error; // "line 3: ..." on malformed input
    bool ok() const { return inventory.has_value(); }
};

// The listing columns, in order (the puller_inventory query of the grammar). The local target
// listing adds `creation`.
inline constexpr std::string_view listing_columns =
    "name,type,guid,createtxg,origin,encryption,written";
inline constexpr std::string_view target_listing_columns =
    "name,type,guid,createtxg,origin,encryption,written,creation";

enum class Listing { source, target };
InventoryResult parse_listing(std::string_view text, Listing columns = Listing::source);

// The locally set property zfs-puller marks received snapshots with (value: unix seconds).
inline constexpr std::string_view received_property = "zfs-puller:received";

// `zfs get -H -p -r -t snapshot -s local -o name,value zfs-puller:received` text: sets
// received_at on the snapshots it names. Unknown names and values that are not a number are
// ignored (the property is only ever read with source `local`: a received value of the same
// name, which a source could send, never counts).
void apply_markers(Inventory& inventory, std::string_view text);

// `zfs get -H -p -r -o name,value receive_resume_token DS` text: sets resume_token on the
// datasets it names ("-" means none). Unknown names are ignored. Returns "" or an error.
std::string apply_resume_tokens(Inventory& inventory, std::string_view text);

// A dataset name zfs and the gatekeeper's grammar both accept: at most 255 bytes, at most 49
// levels below the pool, no `.` or `..` components, the grammar's characters.
bool valid_dataset_name(std::string_view name);

// `pool/a/b` below `pool/a`? (component by component; equal counts as within)
bool dataset_within(std::string_view name, std::string_view root);

// Map a source dataset name below source_root to the same place below target_root.
std::string map_name(std::string_view name, std::string_view from_root, std::string_view to_root);

// The newest snapshot of `target` whose guid the source holds as a snapshot or a bookmark.
// A source snapshot wins over a bookmark of the same guid (it allows -I).
struct Common {
    Point target; // the snapshot on the target
    Point source; // the source snapshot or bookmark with that guid
    bool source_is_bookmark = false;
    bool operator==(const Common&) const = default;
};
std::optional<Common> find_common(const Dataset& source,
                                  const std::vector<Point>& target_snapshots);

} // namespace puller

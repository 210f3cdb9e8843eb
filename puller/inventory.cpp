// Listing parser and common-snapshot search. Strict: a line that does not have the seven columns
// or whose numbers do not parse rejects the whole listing, so a plan is never built on a guess.
#include "puller/inventory.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <unordered_map>

#include "grammar/canonical.hpp"
#include "puller/lines.hpp"

namespace puller {
namespace {

std::optional<std::uint64_t> number(std::string_view s) {
    std::uint64_t v = 0;
    if (s.empty()) return std::nullopt;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// "-" (bookmarks have no `written`) reads as 0.
std::optional<std::uint64_t> number_or_dash(std::string_view s) {
    if (s == "-") return 0;
    return number(s);
}

struct Row {
    std::string name, type, origin, encryption;
    std::uint64_t guid = 0, createtxg = 0, written = 0;
    std::int64_t creation = 0;
};

// The grammar's own name rules, and its nesting limit (zfs_max_dataset_nesting): a name that
// passes here can always be sent back to the gatekeeper in a command.
constexpr std::size_t max_nesting = 50;

bool nesting_ok(std::string_view name) {
    return static_cast<std::size_t>(std::count(name.begin(), name.end(), '/')) < max_nesting;
}

// "ds@snap" or, with sep '#', "ds#bookmark" (the same component rules).
bool valid_child(std::string_view name, char sep) {
    std::string as_snapshot(name);
    const auto at = as_snapshot.find(sep);
    if (at == std::string::npos) return false;
    as_snapshot[at] = '@';
    return grammar::is_valid_snapshot_name(as_snapshot) && nesting_ok(name);
}

// The encryption column: "off" or a cipher name such as aes-256-gcm.
bool valid_encryption(std::string_view s) {
    return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
    });
}

// A name as it may appear in a message: shortened, never the whole of a hostile line.
std::string shown(std::string_view name) {
    return name.size() <= 80 ? std::string(name) : std::string(name.substr(0, 80)) + "...";
}

bool by_txg(const Point& a, const Point& b) {
    return a.createtxg < b.createtxg;
}

} // namespace

const Point* Dataset::snapshot_named(std::string_view snap) const {
    for (const auto& p : snapshots)
        if (p.name == snap) return &p;
    return nullptr;
}
const Point* Dataset::snapshot_by_guid(std::uint64_t g) const {
    for (const auto& p : snapshots)
        if (p.guid == g) return &p;
    return nullptr;
}
const Point* Dataset::bookmark_by_guid(std::uint64_t g) const {
    for (const auto& p : bookmarks)
        if (p.guid == g) return &p;
    return nullptr;
}

InventoryResult parse_listing(std::string_view text, Listing columns) {
    const std::size_t want = columns == Listing::target ? 8 : 7;
    InventoryResult result;
    Inventory inv;
    std::vector<Row> children; // snapshots and bookmarks, attached once every dataset is known
    Lines lines(text);
    auto fail = [&](const std::string& why) {
        result.error = "line " + std::to_string(lines.number()) + ": " + why;
        return result;
    };
    for (std::string_view line; lines.next(line);) {
        const auto cols = split_tabs(line);
        if (cols.size() != want)
            return fail("expected " + std::to_string(want) + " tab-separated columns, got " +
                        std::to_string(cols.size()));
        Row r;
        r.name = cols[0];
        r.type = cols[1];
        const auto guid = number(cols[2]), txg = number(cols[3]), written = number_or_dash(cols[6]);
        if (!guid || !txg || !written) return fail("guid, createtxg or written is not a number");
        r.guid = *guid;
        r.createtxg = *txg;
        r.written = *written;
        if (want == 8) {
            const auto creation = number(cols[7]);
            if (!creation) return fail("creation is not a number");
            r.creation = static_cast<std::int64_t>(*creation);
        }
        r.origin = cols[4] == "-" ? "" : std::string(cols[4]);
        r.encryption = cols[5];
        if (r.name.empty()) return fail("empty name");
        if (!r.origin.empty() && !valid_child(r.origin, '@'))
            return fail("not a valid origin snapshot name: " + shown(r.origin));
        if (!valid_encryption(r.encryption))
            return fail("not a valid encryption value: " + shown(r.encryption));
        if (r.type == "filesystem" || r.type == "volume") {
            if (!valid_dataset_name(r.name))
                return fail("not a valid dataset name (at most 255 bytes, 49 levels below the "
                            "pool, no . or .. components): " +
                            shown(r.name));
            Dataset d;
            d.name = r.name;
            d.kind = r.type == "volume" ? DatasetKind::volume : DatasetKind::filesystem;
            d.guid = r.guid;
            d.createtxg = r.createtxg;
            d.origin = r.origin;
            d.encryption = r.encryption;
            d.written = r.written;
            if (!inv.emplace(d.name, d).second)
                return fail("dataset listed twice: " + shown(d.name));
        } else if (r.type == "snapshot" || r.type == "bookmark") {
            const char sep = r.type == "snapshot" ? '@' : '#';
            if (r.name.find(sep) == std::string::npos)
                return fail(r.type + " name without '" + sep + "': " + shown(r.name));
            if (!valid_child(r.name, sep))
                return fail("not a valid " + r.type + " name: " + shown(r.name));
            children.push_back(std::move(r));
        } else {
            return fail("unknown type '" + shown(r.type) + "'");
        }
    }
    for (const auto& r : children) {
        const char sep = r.type == "snapshot" ? '@' : '#';
        const auto at = r.name.find(sep);
        const auto it = inv.find(r.name.substr(0, at));
        if (it == inv.end()) continue; // a dataset outside the listing (cannot happen with -r)
        Point p{r.name.substr(at + 1), r.guid, r.createtxg, r.written, r.creation, 0};
        (sep == '@' ? it->second.snapshots : it->second.bookmarks).push_back(std::move(p));
    }
    for (auto& [name, d] : inv) {
        std::stable_sort(d.snapshots.begin(), d.snapshots.end(), by_txg);
        std::stable_sort(d.bookmarks.begin(), d.bookmarks.end(), by_txg);
        // Two snapshots (or bookmarks) of one name or one guid would make the common-snapshot
        // search and the plan ambiguous; zfs never lists such a thing.
        for (const auto* points : {&d.snapshots, &d.bookmarks}) {
            std::set<std::string_view> names;
            std::set<std::uint64_t> guids;
            for (const auto& p : *points) {
                if (!names.insert(p.name).second || !guids.insert(p.guid).second) {
                    result.error =
                        "two " + std::string(points == &d.snapshots ? "snapshots" : "bookmarks") +
                        " of " + shown(name) + " share the name or guid of @" + shown(p.name);
                    return result;
                }
            }
        }
    }
    result.inventory = std::move(inv);
    return result;
}

std::string apply_resume_tokens(Inventory& inventory, std::string_view text) {
    Lines lines(text);
    for (std::string_view line; lines.next(line);) {
        const auto cols = split_tabs(line);
        if (cols.size() != 2)
            return "line " + std::to_string(lines.number()) + ": expected name and value";
        const auto it = inventory.find(std::string(cols[0]));
        if (it == inventory.end() || cols[1] == "-") continue;
        it->second.resume_token = cols[1];
    }
    return "";
}

void apply_markers(Inventory& inventory, std::string_view text) {
    Lines lines(text);
    for (std::string_view line; lines.next(line);) {
        const auto tab = line.find('\t'), at = line.find('@');
        if (tab == std::string_view::npos || at == std::string_view::npos || at > tab) continue;
        const auto seconds = number(line.substr(tab + 1));
        const auto it = inventory.find(std::string(line.substr(0, at)));
        if (!seconds || it == inventory.end()) continue;
        const std::string_view snap = line.substr(at + 1, tab - at - 1);
        for (auto& p : it->second.snapshots)
            if (p.name == snap) p.received_at = static_cast<std::int64_t>(*seconds);
    }
}

bool valid_dataset_name(std::string_view name) {
    return grammar::is_valid_dataset_name(name) && nesting_ok(name);
}

bool dataset_within(std::string_view name, std::string_view root) {
    if (!name.starts_with(root)) return false;
    return name.size() == root.size() || name[root.size()] == '/';
}

std::string map_name(std::string_view name, std::string_view from_root, std::string_view to_root) {
    return std::string(to_root) + std::string(name.substr(from_root.size()));
}

std::optional<Common> find_common(const Dataset& source,
                                  const std::vector<Point>& target_snapshots) {
    // The source's points by guid, snapshots first (a snapshot wins over a bookmark: -I), so the
    // search is linear in both sides however many snapshots there are.
    std::unordered_map<std::uint64_t, std::pair<const Point*, bool>> by_guid;
    for (const auto& b : source.bookmarks)
        by_guid[b.guid] = {&b, true};
    for (const auto& s : source.snapshots)
        by_guid[s.guid] = {&s, false};
    // Newest first on the target: the newest shared point keeps the increment smallest.
    for (auto it = target_snapshots.rbegin(); it != target_snapshots.rend(); ++it) {
        const auto found = by_guid.find(it->guid);
        if (found != by_guid.end()) return Common{*it, *found->second.first, found->second.second};
    }
    return std::nullopt;
}

} // namespace puller

// Builders for the puller's remote vocabulary and the grammar round-trip check.
#include "puller/remote_commands.hpp"

#include <charconv>

#include "grammar/canonical.hpp"
#include "grammar/parse.hpp"
#include "puller/lines.hpp"

namespace puller {

using namespace grammar;

namespace {

Invocation single(Command c) {
    Invocation inv;
    inv.pipelines.push_back(Pipeline{{std::move(c)}, false});
    return inv;
}

} // namespace

Rendered checked_render(const Invocation& invocation) {
    Rendered r;
    const std::string text = render_command(invocation);
    const ParseResult parsed = parse_command(text);
    if (!parsed.ok()) {
        r.error = "the gatekeeper grammar rejects the command the puller built (" +
                  std::string(stage_name(parsed.error.stage)) + ": " + parsed.error.message +
                  "): " + text;
        return r;
    }
    if (!(*parsed.invocation == invocation)) {
        r.error = "the gatekeeper grammar reads the command the puller built differently: " + text;
        return r;
    }
    r.text = text;
    return r;
}

SnapshotName snapshot_name(const std::string& full) {
    const auto at = full.find('@');
    if (at == std::string::npos) return {full, ""};
    return {full.substr(0, at), full.substr(at + 1)};
}

BookmarkName bookmark_name(const std::string& full) {
    const auto at = full.find('#');
    if (at == std::string::npos) return {full, ""};
    return {full.substr(0, at), full.substr(at + 1)};
}

Invocation list_inventory(const std::string& dataset) {
    return single(ZfsList{ListQuery::puller_inventory, dataset});
}

namespace {
std::vector<SnapshotName> snapshot_names(const std::vector<std::string>& full_names) {
    std::vector<SnapshotName> out;
    for (const auto& n : full_names)
        out.push_back(snapshot_name(n));
    return out;
}
} // namespace

Invocation snapshot_all(const std::vector<std::string>& full_names) {
    return single(ZfsSnapshot{snapshot_names(full_names)});
}

Invocation destroy_chain(const std::string& dataset, const std::vector<std::string>& snapshots) {
    Invocation inv;
    for (const auto& s : snapshots)
        inv.pipelines.push_back(Pipeline{{ZfsDestroy{SnapshotName{dataset, s}}}, false});
    return inv;
}

Invocation hold(const std::string& tag, const std::vector<std::string>& full_names) {
    return single(ZfsHold{tag, snapshot_names(full_names)});
}

Invocation release(const std::string& tag, const std::vector<std::string>& full_names) {
    return single(ZfsRelease{tag, snapshot_names(full_names)});
}

Invocation bookmark(const std::string& full_snapshot, const std::string& full_bookmark) {
    return single(ZfsBookmark{snapshot_name(full_snapshot), bookmark_name(full_bookmark)});
}

Invocation send(const Send& step, bool estimate) {
    ZfsSend s;
    s.estimate = estimate;
    switch (step.kind) {
    case Send::Kind::full:
        s.flags = step.flags;
        s.source = SendFull{snapshot_name(step.to)};
        break;
    case Send::Kind::incremental: {
        s.flags = step.flags;
        SendIncremental inc;
        inc.intermediates = step.intermediates;
        if (step.from.find('#') != std::string::npos)
            inc.from = bookmark_name(step.from);
        else
            inc.from = snapshot_name(step.from);
        inc.to = snapshot_name(step.to);
        s.source = inc;
        break;
    }
    case Send::Kind::resume:
        // The token carries the stream's flags; zfs send -t takes no others besides -nvP.
        s.source = SendResume{step.token};
        break;
    }
    return single(s);
}

std::optional<std::uint64_t> parse_estimate(const std::string& output) {
    std::optional<std::uint64_t> size;
    std::size_t pos = 0;
    while (pos < output.size()) {
        auto nl = output.find('\n', pos);
        if (nl == std::string::npos) nl = output.size();
        const std::string line = output.substr(pos, nl - pos);
        pos = nl + 1;
        if (!line.starts_with("size\t")) continue;
        std::uint64_t v = 0;
        const char* b = line.data() + 5;
        const auto [p, ec] = std::from_chars(b, line.data() + line.size(), v);
        if (ec == std::errc() && p == line.data() + line.size()) size = v;
    }
    return size;
}

std::vector<FailedOperand> failed_operands(const std::string& err,
                                           const std::vector<std::string>& batch) {
    std::vector<FailedOperand> named;
    for (const auto& full : batch) {
        const std::string quoted_snapshot = "'" + full + "'",
                          quoted_dataset = "'" + full.substr(0, full.find('@')) + "'";
        Lines lines(err);
        for (std::string_view line; lines.next(line);) {
            if (line.find(quoted_snapshot) != std::string_view::npos ||
                line.find(quoted_dataset) != std::string_view::npos) {
                named.push_back({full, std::string(line)});
                break;
            }
        }
    }
    if (!named.empty()) return named;
    const std::string message = last_line(err);
    std::vector<FailedOperand> all;
    for (const auto& full : batch)
        all.push_back({full, message});
    return all;
}

std::string hold_tag(const std::string& prefix) {
    return prefix + "keep";
}

std::vector<std::vector<std::string>> snapshot_batches(const std::vector<std::string>& full_names) {
    constexpr std::size_t max_names = 1000, max_bytes = 60 * 1024;
    std::vector<std::vector<std::string>> out;
    std::size_t bytes = 0;
    for (const auto& n : full_names) {
        const std::size_t cost = n.size() + 3; // quotes and a space at most
        if (out.empty() || out.back().size() >= max_names || bytes + cost > max_bytes) {
            out.emplace_back();
            bytes = 32;
        }
        out.back().push_back(n);
        bytes += cost;
    }
    return out;
}

} // namespace puller

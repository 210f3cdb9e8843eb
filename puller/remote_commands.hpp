// Every command the puller sends to the source, built as a typed grammar::Invocation and rendered
// with the gatekeeper's own renderer; checked_render() parses the text back with the gatekeeper's
// parser and refuses to hand out a command that does not come back equal. Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "grammar/invocation.hpp"
#include "puller/plan.hpp"

namespace puller {

struct Rendered {
    std::optional<std::string> text; // the command line to send
    std::string error;               // internal error: the grammar disagrees with the builder
    bool ok() const { return text.has_value(); }
};

// render_command, then parse_command, then ==. A failure is a bug in the puller (or a grammar
// change that dropped part of its vocabulary), never a runtime condition.
Rendered checked_render(const grammar::Invocation& invocation);

// "ds@snap" / "ds#bm" split at the separator (no validation: the self-check does that).
grammar::SnapshotName snapshot_name(const std::string& full);
grammar::BookmarkName bookmark_name(const std::string& full);

grammar::Invocation list_inventory(const std::string& dataset);
grammar::Invocation snapshot_all(const std::vector<std::string>& full_names);
grammar::Invocation destroy_chain(const std::string& dataset,
                                  const std::vector<std::string>& snapshots);
// One `zfs hold` / `zfs release` of the tag on several snapshots (zfs applies it to each in turn).
grammar::Invocation hold(const std::string& tag, const std::vector<std::string>& full_names);
grammar::Invocation release(const std::string& tag, const std::vector<std::string>& full_names);
grammar::Invocation bookmark(const std::string& full_snapshot, const std::string& full_bookmark);
grammar::Invocation send(const Send& step, bool estimate);

// The size from `zfs send -nvP` output: the last line `size\t<bytes>`.
std::optional<std::uint64_t> parse_estimate(const std::string& output);

// Which snapshots of a failed `zfs hold` / `zfs release` batch failed, each with the stderr
// line about it. zfs goes on past a failed operand and names it (or its dataset) in quotes:
// "cannot hold snapshot 'ds@snap': ...", "cannot open 'ds': ...". When no operand is named,
// all of them count as failed (with the last line): the caller keeps the state it is sure of.
struct FailedOperand {
    std::string name; // ds@snap, as in the batch
    std::string message;
    bool operator==(const FailedOperand&) const = default;
};
std::vector<FailedOperand> failed_operands(const std::string& err,
                                           const std::vector<std::string>& batch);

// The hold tag for a prefix: "<prefix>keep".
std::string hold_tag(const std::string& prefix);

// Split a job's snapshot operands (for zfs snapshot, hold or release) into commands the grammar
// accepts (at most 1000 names and well under the 64 KiB command limit each); one command when
// the job is of ordinary size.
std::vector<std::vector<std::string>> snapshot_batches(const std::vector<std::string>& full_names);

} // namespace puller

// The decision: a pure function of the parsed invocation, the identity's policy and the program
// table. Default deny: every branch that does not end in an explicit allow denies. The result
// is a typed verdict: denied, answered by the gatekeeper itself, or run (with the exec plan and
// the facts about the live system that must hold before anything starts; live_checks.hpp).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "grammar/invocation.hpp"
#include "policy/policy.hpp"

namespace policy {

using Argv = std::vector<std::string>;

// One `|`-joined pipeline: one argv per stage, argv[0] an absolute path from [programs].
struct PipelinePlan {
    std::vector<Argv> stages;
    bool last_stderr_to_devnull = false; // syncoid 2.1.0's `2>/dev/null` on the last stage
    // The first stage reads the client's stdin (zfs receive of a restore); otherwise it reads
    // /dev/null and the client's input is never read.
    bool stdin_from_client = false;
    bool operator==(const PipelinePlan&) const = default;
};

// `;`-joined pipelines, run in order.
using ExecPlan = std::vector<PipelinePlan>;

// Facts only the live system knows, checked (live_checks.hpp) before anything runs.
// libzfs sends the snapshot it finds by guid, not by name (guid_to_name in libzfs_sendrecv.c):
struct SnapshotHasGuid { // a resume token's toguid must be the guid of its toname
    std::string snapshot;
    std::uint64_t guid = 0;
    bool operator==(const SnapshotHasGuid&) const = default;
};
struct GuidBelow { // a resume token's fromguid must be carried by something below `root`
    std::uint64_t guid = 0;
    std::string root; // the identity's dataset that holds the token's toname
    bool operator==(const GuidBelow&) const = default;
};
// A restore never receives into a complete dataset: the target below the restore root must be
// absent, or an unfinished resumable receive (listed with a receive_resume_token), which only
// the stream `zfs send -t` makes from that token can complete.
struct RestoreTargetFree {
    std::string dataset;
    std::string root;
    bool operator==(const RestoreTargetFree&) const = default;
};
using LiveCheck = std::variant<SnapshotHasGuid, GuidBelow, RestoreTargetFree>;

struct Denied {
    std::string reason; // audit log only; the client never sees it
    bool operator==(const Denied&) const = default;
};

// What the gatekeeper answers itself for exit / echo -n / command -v (nothing is started).
struct BuiltinAnswer {
    std::string stdout_text;
    int exit_status = 0;
    bool operator==(const BuiltinAnswer&) const = default;
};

struct Run {
    ExecPlan plan;
    std::vector<LiveCheck> live_checks; // all must hold, or nothing runs
    bool operator==(const Run&) const = default;
};

using Verdict = std::variant<Denied, BuiltinAnswer, Run>;

struct Decision {
    std::string rule;              // the rule that allowed or denied, e.g. "send.incremental"
    grammar::Invocation effective; // what runs (scoped probes differ from the request)
    Verdict verdict = Denied{};

    bool allowed() const { return !std::holds_alternative<Denied>(verdict); }
    const std::string& reason() const; // "" unless denied
    const BuiltinAnswer* builtin() const { return std::get_if<BuiltinAnswer>(&verdict); }
    const Run* run() const { return std::get_if<Run>(&verdict); }
    // The plan's argv, per pipeline and stage; empty unless the verdict is Run.
    std::vector<std::vector<Argv>> argv() const;
    bool operator==(const Decision&) const = default;
};

Decision decide(const grammar::Invocation& invocation, const IdentityPolicy& identity,
                const std::map<std::string, std::string>& programs);

} // namespace policy

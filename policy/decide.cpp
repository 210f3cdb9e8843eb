// decide(): preset vocabulary, dataset scope, snapshot prefix, destroy and raw-only rules,
// resume-token contents, tools and their limits. Rules are checked in a fixed order and the
// first failing one denies; nothing here performs I/O. What only the live system can answer
// (resume-token guids) becomes a live check of the Run verdict.
#include "policy/decide.hpp"

#include <algorithm>
#include <type_traits>

#include "grammar/canonical.hpp"
#include "grammar/programs.hpp"
#include "policy/resume_token.hpp"

namespace policy {
namespace {

using namespace grammar;

// A denial carries the rule name and a reason for the audit log.
struct Deny {
    std::string rule;
    std::string reason;
};

struct Checker {
    const IdentityPolicy& id;
    const std::map<std::string, std::string>& programs;
    std::optional<Deny> denied;
    std::string rule;
    std::vector<LiveCheck> live_checks;

    void deny(std::string r, std::string reason) {
        if (!denied) denied = Deny{std::move(r), std::move(reason)};
    }
    bool may_change_snapshots() const { return id.preset != Preset::read_only; }
    bool has_tool(Tool t) const {
        return std::find(id.tools.begin(), id.tools.end(), t) != id.tools.end() &&
               programs.contains(std::string(tool_name(t)));
    }

    void scope(const std::string& dataset, const char* what) {
        if (!in_scope(dataset, id))
            deny("scope",
                 std::string(what) + " '" + dataset + "' is outside the identity's datasets");
    }
    void prefixed(const SnapshotName& s, const char* what) {
        scope(s.dataset, what);
        if (!s.snapshot.starts_with(id.snapshot_prefix))
            deny("snapshot-prefix", std::string(what) + " '" + s.full() +
                                        "' does not carry the identity's snapshot prefix");
    }
    // syncoid's hold tag is its snapshot prefix without the stamp's separator
    // (`syncoid_HOST` for snapshots `syncoid_HOST_<stamp>`), so a per-target prefix such as
    // `syncoid_HOST_` also admits the tag `syncoid_HOST`, and nothing else that is shorter.
    void tag_prefixed(const std::string& tag) {
        const std::string& prefix = id.snapshot_prefix;
        const bool bare_tag = prefix.ends_with('_') && tag == prefix.substr(0, prefix.size() - 1);
        if (!tag.starts_with(prefix) && !bare_tag)
            deny("snapshot-prefix", "hold tag '" + tag + "' does not carry the snapshot prefix");
    }
    void changes_allowed(const char* what) {
        if (!may_change_snapshots())
            deny("preset", std::string(what) + " is not allowed by preset read-only");
    }

    void operator()(const Exit&) { rule = "builtin.exit"; }
    void operator()(const EchoN&) { rule = "builtin.echo"; }
    void operator()(const CommandV&) { rule = "builtin.command-v"; }
    void operator()(const ZpoolGetFeature& z) {
        rule = "zpool.get-feature";
        const bool pool_of_scope =
            std::any_of(id.datasets.begin(), id.datasets.end(), [&](const std::string& ds) {
                return ds.substr(0, ds.find('/')) == z.pool;
            });
        if (!pool_of_scope)
            deny("scope", "pool '" + z.pool + "' holds none of the identity's datasets");
        if (!programs.contains("zpool")) deny("programs", "no zpool program configured");
    }
    void operator()(const ZfsGet& g) {
        rule = "get";
        for (const auto& ds : g.datasets)
            scope(ds, "dataset");
        const bool probe =
            g.query == GetQuery::probe_snapshot_type || g.query == GetQuery::probe_createtxg;
        if (g.datasets.empty() && !probe) deny("grammar", "get without dataset");
    }
    void operator()(const ZfsList& l) {
        rule = "list";
        scope(l.dataset, "dataset");
    }
    void operator()(const ZfsSnapshot& s) {
        rule = "snapshot";
        changes_allowed("zfs snapshot");
        for (const auto& snap : s.snapshots)
            prefixed(snap, "snapshot");
    }
    void operator()(const ZfsDestroy& d) {
        rule = "destroy";
        changes_allowed("zfs destroy");
        if (!id.allow_destroy) deny("destroy", "this identity may not destroy anything");
        prefixed(d.snapshot, "destroy target");
    }
    void operator()(const ZfsHold& h) {
        rule = "hold";
        changes_allowed("zfs hold");
        for (const auto& snap : h.snapshots)
            prefixed(snap, "held snapshot");
        tag_prefixed(h.tag);
    }
    void operator()(const ZfsRelease& h) {
        rule = "release";
        changes_allowed("zfs release");
        for (const auto& snap : h.snapshots)
            prefixed(snap, "released snapshot");
        tag_prefixed(h.tag);
    }
    void operator()(const ZfsBookmark& b) {
        rule = "bookmark";
        changes_allowed("zfs bookmark");
        scope(b.snapshot.dataset, "snapshot");
        scope(b.bookmark.dataset, "bookmark");
    }
    void operator()(const ZfsReceive& r) {
        rule = "receive";
        // Only a new direct child of the restore root: never the root, never a dataset inside
        // an earlier restore. Whether it exists is for the live system to say.
        const auto slash = r.dataset.rfind('/');
        if (id.preset != Preset::restore || id.restore_root.empty() || slash == std::string::npos ||
            r.dataset.substr(0, slash) != id.restore_root)
            return deny("scope", "receive target '" + r.dataset +
                                     "' is not a direct child of the identity's restore_root");
        live_checks.emplace_back(RestoreTargetFree{r.dataset, id.restore_root});
    }
    void operator()(const ZfsSend& s) {
        rule = s.estimate ? "send.estimate" : "send";
        for (const auto& ds : s.excludes)
            scope(ds, "excluded dataset");
        std::visit(
            [&](const auto& src) {
                using T = std::decay_t<decltype(src)>;
                if constexpr (std::is_same_v<T, SendFull>) {
                    rule += ".full";
                    scope(src.snapshot.dataset, "sent snapshot");
                    require_raw(s);
                } else if constexpr (std::is_same_v<T, SendIncremental>) {
                    rule += ".incremental";
                    std::visit([&](const auto& from) { scope(from.dataset, "incremental source"); },
                               src.from);
                    scope(src.to.dataset, "sent snapshot");
                    require_raw(s);
                } else {
                    rule += ".resume";
                    check_token(src.token);
                }
            },
            s.source);
    }
    void require_raw(const ZfsSend& s) {
        if (id.raw_only && !s.has_flag('w'))
            deny("raw-only", "this identity may only send raw (-w) streams");
    }
    void check_token(const std::string& text) {
        const TokenResult t = decode_resume_token(text);
        if (!t.ok()) return deny("resume-token", "resume token rejected: " + t.message);
        if (!t.token->unknown_fields.empty())
            return deny("resume-token", "resume token carries unknown field '" +
                                            t.token->unknown_fields.front() + "'");
        // libzfs sends the snapshot whose guid is toguid (guid_to_name), so the gatekeeper must
        // tie toguid to toname before running it (supervisor pre-flight); without it, deny.
        if (!t.token->toguid) return deny("resume-token", "resume token has no toguid");
        // The kernel never writes savedok (it would send a partially received dataset), and
        // syncoid never redacts: both are refused rather than reasoned about.
        if (t.token->savedok)
            return deny("resume-token", "resume token asks for saved (partial) data");
        if (t.token->redact_snaps || t.token->book_redact_snaps)
            return deny("resume-token", "resume token of a redacted send");
        const std::string& to = t.token->toname;
        if (!is_valid_snapshot_name(to))
            return deny("resume-token", "resume token names no valid snapshot");
        const std::string dataset = to.substr(0, to.find('@'));
        scope(dataset, "resume token dataset");
        if (id.raw_only && !t.token->rawok)
            deny("raw-only", "resume token is for a non-raw stream");
        if (denied) return;
        // libzfs finds the snapshot to send by toguid and the incremental source by fromguid,
        // searching outwards from toname's dataset (guid_to_name): both are checked on the live
        // system before the send runs. A fromguid found below the outermost identity dataset
        // that holds toname is what libzfs finds first, so it cannot name anything out of scope
        // (with -v, zfs send prints that name: without this check, a guid-to-name oracle).
        live_checks.emplace_back(SnapshotHasGuid{to, *t.token->toguid});
        if (t.token->fromguid)
            live_checks.emplace_back(GuidBelow{*t.token->fromguid, scope_root(dataset)});
    }
    // The outermost identity dataset that holds `dataset` (which is in scope).
    std::string scope_root(const std::string& dataset) const {
        std::string root;
        for (const auto& r : id.datasets)
            if (dataset_within(dataset, r) && (root.empty() || r.size() < root.size())) root = r;
        return root;
    }
    void stage_tool(Tool t) {
        if (!has_tool(t))
            deny("tools", "pipeline stage '" + std::string(tool_name(t)) +
                              "' is not allowed for this identity");
    }
    void operator()(const Compress& c) { stage_tool(c.tool); }
    void operator()(const Mbuffer& m) {
        stage_tool(Tool::mbuffer);
        // mbuffer allocates -m up front: one stolen key could otherwise pin gigabytes of the
        // source's memory per session.
        const auto size = mbuffer_bytes(m.size), limit = mbuffer_bytes(id.mbuffer_max_memory);
        if (!size || !limit || *size > *limit)
            deny("mbuffer-memory", "mbuffer -m " + m.size + " is above the identity's " +
                                       "mbuffer_max_memory (" + id.mbuffer_max_memory + ")");
    }
    void operator()(const Socat& s) {
        stage_tool(Tool::socat);
        const std::string target = s.host + ":" + std::to_string(s.port);
        if (std::find(id.direct_connections.begin(), id.direct_connections.end(), target) ==
            id.direct_connections.end())
            deny("direct-connection", "direct connection to " + target + " is not allowed");
    }
};

// The puller preset speaks a fixed minimal vocabulary; anything else from that key is foreign.
bool puller_vocabulary(const Command& c) {
    if (const auto* l = std::get_if<ZfsList>(&c)) return l->query == ListQuery::puller_inventory;
    return std::holds_alternative<ZfsSnapshot>(c) || std::holds_alternative<ZfsDestroy>(c) ||
           std::holds_alternative<ZfsHold>(c) || std::holds_alternative<ZfsRelease>(c) ||
           std::holds_alternative<ZfsBookmark>(c) || std::holds_alternative<ZfsSend>(c) ||
           std::holds_alternative<Compress>(c) || std::holds_alternative<Mbuffer>(c);
}

// The restore vocabulary: the receive, and the probe for an unfinished one. Nothing that sends
// or changes snapshots.
bool restore_vocabulary(const Command& c) {
    if (const auto* g = std::get_if<ZfsGet>(&c)) return g->query == GetQuery::receive_resume_token;
    return std::holds_alternative<ZfsReceive>(c);
}

// Why a stage is outside the identity's preset, or nothing.
std::optional<std::string> vocabulary_denial(const Command& c, Preset preset) {
    switch (preset) {
    case Preset::puller:
        if (!puller_vocabulary(c)) return "command is not part of the puller vocabulary";
        return std::nullopt;
    case Preset::restore:
        if (!restore_vocabulary(c)) return "command is not part of the restore vocabulary";
        return std::nullopt;
    case Preset::syncoid_pull:
    case Preset::read_only:
        if (restore_vocabulary(c)) return "receiving is only for restore identities";
        return std::nullopt;
    }
    return "unknown preset";
}

std::optional<BuiltinAnswer> builtin_answer(const Command& c, const Checker& check) {
    if (std::holds_alternative<Exit>(c) || std::holds_alternative<EchoN>(c))
        return BuiltinAnswer{"", 0};
    if (const auto* v = std::get_if<CommandV>(&c)) {
        // Answering "not found" (empty output, status 1) makes syncoid drop that stage.
        const std::string name(tool_name(v->tool));
        const bool socat_usable = v->tool != Tool::socat || !check.id.direct_connections.empty();
        if (check.has_tool(v->tool) && socat_usable)
            return BuiltinAnswer{check.programs.at(name) + "\n", 0};
        return BuiltinAnswer{"", 1};
    }
    return std::nullopt;
}

Decision denied(Decision d, const Deny& why) {
    d.rule = why.rule;
    d.verdict = Denied{why.reason};
    return d;
}

ExecPlan exec_plan(const Invocation& effective,
                   const std::map<std::string, std::string>& programs) {
    ExecPlan plan;
    for (const auto& pipeline : effective.pipelines) {
        PipelinePlan p;
        p.last_stderr_to_devnull = pipeline.last_stderr_to_devnull;
        p.stdin_from_client = std::holds_alternative<ZfsReceive>(pipeline.stages.front());
        for (const auto& stage : pipeline.stages) {
            Argv argv = canonical_words(stage);
            argv.front() = programs.at(argv.front());
            p.stages.push_back(std::move(argv));
        }
        plan.push_back(std::move(p));
    }
    return plan;
}

} // namespace

const std::string& Decision::reason() const {
    static const std::string none;
    const auto* d = std::get_if<Denied>(&verdict);
    return d != nullptr ? d->reason : none;
}

std::vector<std::vector<Argv>> Decision::argv() const {
    std::vector<std::vector<Argv>> out;
    if (const Run* r = run())
        for (const auto& pipeline : r->plan)
            out.push_back(pipeline.stages);
    return out;
}

Decision decide(const Invocation& invocation, const IdentityPolicy& identity,
                const std::map<std::string, std::string>& programs) {
    Decision d;
    d.effective = invocation;
    Checker check{identity, programs, std::nullopt, "", {}};

    if (invocation.pipelines.empty() || invocation.pipelines.front().stages.empty())
        return denied(std::move(d), {"grammar", "empty invocation"});
    if (invocation.sudo_stripped &&
        (identity.preset == Preset::puller || identity.preset == Preset::restore))
        return denied(std::move(d),
                      {"preset", "sudo is not part of the " +
                                     std::string(preset_name(identity.preset)) + " vocabulary"});

    std::string first_rule;
    for (auto& pipeline : d.effective.pipelines) {
        for (auto& stage : pipeline.stages) {
            if (const auto why = vocabulary_denial(stage, identity.preset))
                return denied(std::move(d), {"preset", *why});
            // The master probe `zfs get -H createtxg` has no operand and would list every
            // dataset on the host: it runs scoped to the identity's own datasets instead.
            if (auto* g = std::get_if<ZfsGet>(&stage);
                g && g->query == GetQuery::probe_createtxg && g->datasets.empty())
                g->datasets = identity.datasets;
            std::visit(check, stage);
            if (first_rule.empty()) first_rule = check.rule;
            if (check.denied) return denied(std::move(d), *check.denied);
            const std::string program = program_of(stage);
            if (!program.empty() && !programs.contains(program))
                return denied(std::move(d), {"programs", "no path configured for " + program});
        }
    }

    d.rule = first_rule;
    if (auto answer = builtin_answer(d.effective.pipelines.front().stages.front(), check))
        d.verdict = std::move(*answer);
    else
        d.verdict = Run{exec_plan(d.effective, programs), std::move(check.live_checks)};
    return d;
}

} // namespace policy

// libFuzzer harness for the command surface: SSH_ORIGINAL_COMMAND bytes through lex + parse +
// decide() under the fixed policy (fixed_policy.hpp: the corpus identities `corpus` and
// `direct`, plus `puller` and a read-only raw-only `ro`), with the security properties of
// asserted on every input. Links grammar and policy only.
//
// The name and scope checks below are written out again here on purpose (an oracle that
// shares no code with the grammar); only the fixed option-word tables come from canonical.hpp.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "fuzz/fixed_policy.hpp"
#include "fuzz/fuzz_check.hpp"
#include "grammar/canonical.hpp"
#include "grammar/parse.hpp"
#include "grammar/programs.hpp"
#include "policy/decide.hpp"
#include "policy/resume_token.hpp"

namespace {

using fuzz::require;
using policy::Argv;

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_digit(char c) {
    return c >= '0' && c <= '9';
}
bool is_alnum(char c) {
    return is_alpha(c) || is_digit(c);
}
bool is_lower_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f');
}

// zfs(8) "Naming": component characters [A-Za-z0-9_.: -] (we also refuse `%`).
bool component_ok(std::string_view c) {
    if (c.empty() || c == "." || c == "..") return false;
    return std::all_of(c.begin(), c.end(), [](char ch) {
        return is_alnum(ch) || ch == '_' || ch == '.' || ch == ':' || ch == '-' || ch == ' ';
    });
}

bool dataset_ok(std::string_view ds) {
    if (ds.empty() || ds.size() > 255 || !is_alpha(ds.front())) return false;
    std::size_t start = 0;
    for (;;) {
        const std::size_t slash = ds.find('/', start);
        if (!component_ok(ds.substr(start, slash - start))) return false;
        if (slash == std::string_view::npos) return true;
        start = slash + 1;
    }
}

// DS@SNAP or DS#BM, given the typed parts.
bool qualified_ok(const std::string& dataset, const std::string& part) {
    return dataset_ok(dataset) && component_ok(part) && dataset.size() + 1 + part.size() <= 255;
}

bool within(std::string_view ds, const std::vector<std::string>& roots) {
    return std::any_of(roots.begin(), roots.end(), [&](const std::string& root) {
        return ds == root ||
               (ds.size() > root.size() && ds.starts_with(root) && ds[root.size()] == '/');
    });
}

bool hold_tag_ok(std::string_view tag) {
    return !tag.empty() && is_alnum(tag.front()) && std::all_of(tag.begin(), tag.end(), [](char c) {
        return is_alnum(c) || c == '_' || c == '.' || c == ':' || c == '-';
    });
}

// mbuffer sizes and rates: 1..12 digits and an optional unit letter.
bool size_ok(std::string_view s, std::string_view units) {
    std::size_t digits = 0;
    while (digits < s.size() && is_digit(s[digits]))
        ++digits;
    if (digits == 0 || digits > 12) return false;
    return digits == s.size() ||
           (digits + 1 == s.size() && units.find(s.back()) != std::string_view::npos);
}

bool token_shape_ok(std::string_view t) {
    // <decimal>-<hex>-<hex>-<hex>
    std::size_t field = 0, len = 0;
    for (char c : t) {
        if (c == '-') {
            if (len == 0 || ++field > 3) return false;
            len = 0;
        } else if (field == 0 ? is_digit(c) : is_lower_hex(c)) {
            ++len;
        } else {
            return false;
        }
    }
    return field == 3 && len > 0;
}

// Walks one stage's argv against its typed stage: argv[0] is the configured program, option
// words come from the canonical tables, and every other word is one typed field, checked
// against that field's character set and the identity's scope.
class StageCheck {
  public:
    StageCheck(const policy::Policy& pol, const policy::IdentityPolicy& id, const Argv& argv)
        : pol_(pol), id_(id), argv_(argv) {}

    void operator()(const grammar::Exit&) { builtin_in_argv(); }
    void operator()(const grammar::EchoN&) { builtin_in_argv(); }
    void operator()(const grammar::CommandV&) { builtin_in_argv(); }

    void operator()(const grammar::ZpoolGetFeature& z) {
        program("zpool");
        fixed({"get", "-o", "value", "-H", "feature@extensible_dataset", "--"});
        operand(z.pool);
        require(dataset_ok(z.pool) && z.pool.find('/') == std::string::npos, "pool name charset",
                z.pool);
        require(std::any_of(
                    id_.datasets.begin(), id_.datasets.end(),
                    [&](const std::string& ds) { return ds.substr(0, ds.find('/')) == z.pool; }),
                "zpool get on a pool outside the identity's scope", z.pool);
        end();
    }
    void operator()(const grammar::ZfsGet& g) {
        program("zfs");
        fixed({"get"});
        fixed(grammar::get_query_words(g.query));
        // Only the `-t snapshot` probe (no property, so zfs lists nothing) runs without an
        // operand; the createtxg probe must have been scoped by decide().
        const bool probe = g.query == grammar::GetQuery::probe_snapshot_type;
        require(probe == g.datasets.empty(), "zfs get runs without a dataset operand");
        if (!g.datasets.empty()) fixed({"--"});
        for (const auto& ds : g.datasets)
            dataset(ds);
        end();
    }
    void operator()(const grammar::ZfsList& l) {
        program("zfs");
        fixed({"list"});
        fixed(grammar::list_query_words(l.query));
        fixed({"--"});
        dataset(l.dataset);
        end();
    }
    void operator()(const grammar::ZfsSnapshot& s) {
        changes_snapshots();
        program("zfs");
        fixed({"snapshot", "--"});
        require(!s.snapshots.empty(), "zfs snapshot without a snapshot");
        for (const auto& snap : s.snapshots)
            snapshot(snap, true);
        end();
    }
    void operator()(const grammar::ZfsDestroy& d) {
        changes_snapshots();
        program("zfs");
        require(id_.allow_destroy, "destroy allowed for an identity without allow_destroy");
        fixed({"destroy", "--"});
        snapshot(d.snapshot, true);
        const std::string target = d.snapshot.full();
        require(target.find_first_of("%,") == std::string::npos, "destroy target holds '%' or ','",
                target);
        require(std::count(target.begin(), target.end(), '@') == 1,
                "destroy target is not one snapshot", target);
        end();
    }
    void operator()(const grammar::ZfsHold& h) { hold_or_release("hold", h.tag, h.snapshots); }
    void operator()(const grammar::ZfsRelease& h) {
        hold_or_release("release", h.tag, h.snapshots);
    }
    void operator()(const grammar::ZfsBookmark& b) {
        changes_snapshots();
        program("zfs");
        fixed({"bookmark", "--"});
        snapshot(b.snapshot, false);
        bookmark(b.bookmark);
        end();
    }
    void operator()(const grammar::ZfsSend& s) {
        program("zfs");
        fixed({"send"});
        // Flags: a sorted, duplicate-free subsequence of send_flag_order, one word each.
        std::string_view order(grammar::send_flag_order);
        std::size_t last = 0;
        for (char f : s.flags) {
            const std::size_t pos = order.find(f, last);
            require(pos != std::string_view::npos, "send flag outside the canonical set or order",
                    s.flags);
            last = pos + 1;
            fixed({std::string{'-', f}});
        }
        for (const auto& ds : s.excludes) {
            fixed({"-X"});
            dataset(ds);
        }
        if (s.estimate) fixed({"-nvP"});
        std::visit(
            [&](const auto& src) {
                using T = std::decay_t<decltype(src)>;
                if constexpr (std::is_same_v<T, grammar::SendFull>) {
                    fixed({"--"});
                    snapshot(src.snapshot, false);
                } else if constexpr (std::is_same_v<T, grammar::SendIncremental>) {
                    fixed({src.intermediates ? "-I" : "-i"});
                    if (const auto* from = std::get_if<grammar::SnapshotName>(&src.from)) {
                        snapshot(*from, false);
                    } else {
                        require(!src.intermediates, "-I from a bookmark");
                        bookmark(std::get<grammar::BookmarkName>(src.from));
                    }
                    fixed({"--"});
                    snapshot(src.to, false);
                } else {
                    fixed({"-t"});
                    operand(src.token);
                    require(token_shape_ok(src.token), "resume token charset", src.token);
                    const auto t = policy::decode_resume_token(src.token);
                    require(t.ok(), "allowed resume token does not decode", src.token);
                    const std::string& to = t.token->toname;
                    const auto at = to.find('@');
                    require(at != std::string::npos &&
                                qualified_ok(to.substr(0, at), to.substr(at + 1)),
                            "allowed resume token names no valid snapshot", to);
                    require(within(to.substr(0, at), id_.datasets),
                            "resume token outside the identity's scope", to);
                    require(!id_.raw_only || t.token->rawok,
                            "raw-only identity resumes a non-raw stream", to);
                    require(t.token->toguid.has_value() && !t.token->savedok &&
                                !t.token->redact_snaps && !t.token->book_redact_snaps &&
                                t.token->unknown_fields.empty(),
                            "allowed resume token carries a refused field", src.token);
                }
            },
            s.source);
        if (id_.raw_only)
            require(s.has_flag('w') || std::holds_alternative<grammar::SendResume>(s.source),
                    "raw-only identity sends a non-raw stream");
        end();
    }
    void operator()(const grammar::Compress& c) {
        tool(c.tool);
        if (c.level) {
            const int l = *c.level;
            require(l == 3 || l == 9 || l == 19, "compression level outside the grammar's set");
            fixed({"-" + std::to_string(l)});
        }
        end();
    }
    void operator()(const grammar::Mbuffer& m) {
        tool(grammar::Tool::mbuffer);
        if (m.rate) {
            fixed({"-R"});
            operand(*m.rate);
            require(size_ok(*m.rate, "kKmMgGtTbB"), "mbuffer rate charset", *m.rate);
        }
        fixed({"-q", "-s", "128k", "-m"});
        operand(m.size);
        require(size_ok(m.size, "kKMGTbB"), "mbuffer size charset", m.size);
        end();
    }
    void operator()(const grammar::Socat& s) {
        tool(grammar::Tool::socat);
        fixed({"-"});
        const std::string target = s.host + ":" + std::to_string(s.port);
        require(std::find(id_.direct_connections.begin(), id_.direct_connections.end(), target) !=
                    id_.direct_connections.end(),
                "socat connects to a target the identity does not list", target);
        fixed({"TCP:" + target + ",retry=" + std::to_string(s.retry) + ",interval=1"});
        end();
    }

    void operator()(const grammar::ZfsReceive& r) {
        program("zfs");
        require(id_.preset == policy::Preset::restore, "a receive for a non-restore identity");
        fixed({"receive", "-s", "-u", "-o", "readonly=on", "-o", "canmount=noauto", "-o",
               "setuid=off", "-o", "exec=off", "-o", "devices=off", "-x", "mountpoint", "--"});
        operand(r.dataset);
        require(dataset_ok(r.dataset), "receive target charset", r.dataset);
        require(r.dataset.rfind('/') != std::string::npos &&
                    r.dataset.substr(0, r.dataset.rfind('/')) == id_.restore_root,
                "receive target is not a direct child of restore_root", r.dataset);
        end();
    }

  private:
    const std::string& word(const char* what) {
        require(at_ < argv_.size(), "argv is shorter than its typed stage", what);
        const std::string& w = argv_[at_++];
        require(!w.empty() && fuzz::printable_ascii(w), "argv token empty or not printable ASCII",
                w);
        return w;
    }
    void fixed(const std::vector<std::string>& words) {
        for (const auto& expected : words)
            require(word("fixed word") == expected, "argv word is not the canonical table's",
                    expected);
    }
    void operand(const std::string& field) {
        const std::string& w = word("operand");
        require(w == field, "argv operand is not its typed field", w);
        require(w.front() != '-', "operand token starts with '-'", w);
    }
    void dataset(const std::string& ds) {
        operand(ds);
        require(dataset_ok(ds), "dataset operand outside the name charset", ds);
        require(within(ds, id_.datasets), "dataset operand outside the identity's scope", ds);
    }
    void snapshot(const grammar::SnapshotName& s, bool prefixed) {
        operand(s.full());
        require(qualified_ok(s.dataset, s.snapshot), "snapshot operand outside the name charset",
                s.full());
        require(within(s.dataset, id_.datasets), "snapshot operand outside the identity's scope",
                s.full());
        if (prefixed)
            require(s.snapshot.starts_with(id_.snapshot_prefix),
                    "snapshot lacks the identity's prefix", s.full());
    }
    void bookmark(const grammar::BookmarkName& b) {
        operand(b.full());
        require(qualified_ok(b.dataset, b.bookmark), "bookmark operand outside the name charset",
                b.full());
        require(within(b.dataset, id_.datasets), "bookmark operand outside the identity's scope",
                b.full());
    }
    void hold_or_release(const char* sub, const std::string& tag,
                         const std::vector<grammar::SnapshotName>& snaps) {
        changes_snapshots();
        program("zfs");
        fixed({sub, "--"});
        operand(tag);
        require(hold_tag_ok(tag) && tag.starts_with(id_.snapshot_prefix),
                "hold tag charset or prefix", tag);
        require(!snaps.empty(), "zfs hold or release without a snapshot");
        for (const auto& s : snaps)
            snapshot(s, true);
        end();
    }
    void program(const std::string& name) {
        require(!argv_.empty(), "empty argv for a stage");
        const auto it = pol_.programs.find(name);
        require(it != pol_.programs.end() && argv_[0] == it->second,
                "argv[0] is not the policy's program", argv_[0]);
        require(argv_[0].starts_with('/'), "argv[0] is not absolute", argv_[0]);
    }
    void tool(grammar::Tool t) {
        require(std::find(id_.tools.begin(), id_.tools.end(), t) != id_.tools.end(),
                "pipeline stage uses a tool the identity does not list", grammar::tool_name(t));
        program(std::string(grammar::tool_name(t)));
    }
    void changes_snapshots() {
        require(id_.preset != policy::Preset::read_only, "read-only identity changes snapshots");
        require(id_.preset != policy::Preset::restore, "restore identity changes snapshots");
    }
    void builtin_in_argv() {
        fuzz::violated("builtin stage has an argv", argv_.empty() ? "" : argv_[0]);
    }
    void end() {
        require(at_ == argv_.size(), "argv is longer than its typed stage", argv_.back());
    }

    const policy::Policy& pol_;
    const policy::IdentityPolicy& id_;
    const Argv& argv_;
    std::size_t at_ = 1;
};

bool is_builtin(const grammar::Command& c) {
    return std::holds_alternative<grammar::Exit>(c) || std::holds_alternative<grammar::EchoN>(c) ||
           std::holds_alternative<grammar::CommandV>(c);
}

// zfs-puller's vocabulary (decide.hpp: "no probes, no sudo, no pipelines" beyond compression).
bool puller_stage(const grammar::Command& c) {
    if (const auto* l = std::get_if<grammar::ZfsList>(&c))
        return l->query == grammar::ListQuery::puller_inventory;
    return std::holds_alternative<grammar::ZfsSnapshot>(c) ||
           std::holds_alternative<grammar::ZfsDestroy>(c) ||
           std::holds_alternative<grammar::ZfsHold>(c) ||
           std::holds_alternative<grammar::ZfsRelease>(c) ||
           std::holds_alternative<grammar::ZfsBookmark>(c) ||
           std::holds_alternative<grammar::ZfsSend>(c) ||
           std::holds_alternative<grammar::Compress>(c) ||
           std::holds_alternative<grammar::Mbuffer>(c);
}

void check_allowed(const policy::Policy& pol, const policy::IdentityPolicy& id,
                   const grammar::Invocation& requested, const policy::Decision& d) {
    const auto& pipelines = d.effective.pipelines;
    require(!pipelines.empty() && !pipelines.front().stages.empty(), "allowed an empty invocation");
    if (id.preset == policy::Preset::puller) {
        require(!requested.sudo_stripped, "puller identity allowed a sudo command");
        for (const auto& p : pipelines)
            for (const auto& stage : p.stages)
                require(puller_stage(stage), "puller identity allowed a non-puller command");
    }
    if (id.preset == policy::Preset::restore) {
        require(!requested.sudo_stripped, "restore identity allowed a sudo command");
        require(pipelines.size() == 1 && pipelines.front().stages.size() == 1,
                "restore identity allowed a pipeline or chain");
        const auto* g = std::get_if<grammar::ZfsGet>(&pipelines.front().stages.front());
        require(std::holds_alternative<grammar::ZfsReceive>(pipelines.front().stages.front()) ||
                    (g != nullptr && g->query == grammar::GetQuery::receive_resume_token),
                "restore identity allowed a command outside its vocabulary");
    }
    // Only a receive reads the client's stdin; everything else reads /dev/null.
    for (std::size_t p = 0; p < pipelines.size(); ++p)
        require(d.run() == nullptr ||
                    d.run()->plan[p].stdin_from_client ==
                        std::holds_alternative<grammar::ZfsReceive>(pipelines[p].stages.front()),
                "the client's stdin reaches a stage that is not a receive");
    const grammar::Command& first = pipelines.front().stages.front();
    if (is_builtin(first)) {
        require(pipelines.size() == 1 && pipelines.front().stages.size() == 1,
                "builtin inside a pipeline");
        require(d.builtin() != nullptr && d.argv().empty(), "builtin answered with an argv");
        if (const auto* v = std::get_if<grammar::CommandV>(&first);
            v && d.builtin()->exit_status == 0) {
            const std::string name(grammar::tool_name(v->tool));
            require(std::find(id.tools.begin(), id.tools.end(), v->tool) != id.tools.end() &&
                        d.builtin()->stdout_text == pol.programs.at(name) + "\n",
                    "command -v reports a tool the identity may not use", name);
        }
        return;
    }
    require(d.builtin() == nullptr, "a started command also has a builtin answer");
    require(d.argv().size() == pipelines.size(), "argv pipelines differ from the typed pipelines");
    for (std::size_t p = 0; p < pipelines.size(); ++p) {
        require(d.argv()[p].size() == pipelines[p].stages.size(),
                "argv stages differ from the typed stages");
        for (std::size_t s = 0; s < pipelines[p].stages.size(); ++s) {
            require(!is_builtin(pipelines[p].stages[s]), "builtin stage in a started pipeline");
            std::visit(StageCheck(pol, id, d.argv()[p][s]), pipelines[p].stages[s]);
        }
    }
}

// render_command(effective), parsed and decided again, gives the same decision and argv.
void check_idempotent(const policy::Policy& pol, const policy::IdentityPolicy& id,
                      const policy::Decision& d) {
    const std::string again = grammar::render_command(d.effective);
    require(fuzz::printable_ascii(again), "canonical command is not printable ASCII", again);
    const auto reparsed = grammar::parse_command(again);
    require(reparsed.ok(), "canonical command does not parse", again);
    const auto d2 = policy::decide(*reparsed.invocation, id, pol.programs);
    require(d2.allowed(), "canonical command is denied on the second decision", again);
    require(d2.rule == d.rule && d2.verdict == d.verdict &&
                d2.effective.pipelines == d.effective.pipelines,
            "second decision differs from the first", again);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view command(reinterpret_cast<const char*>(data), size);
    const policy::Policy& pol = fuzz::fixed_policy();

    const grammar::ParseResult parsed = grammar::parse_command(command);
    if (!parsed.ok()) {
        require(!parsed.error.message.empty() &&
                    parsed.error.stage != grammar::ParseError::Stage::none,
                "parse failed without an error");
        require(parsed.error.offset <= command.size(), "parse error offset past the input");
        return 0;
    }
    const grammar::Invocation& inv = *parsed.invocation;
    // The round trip canonical.hpp promises, for every accepted command (allowed or not).
    const auto round = grammar::parse_command(grammar::render_command(inv));
    require(round.ok() && round.invocation->pipelines == inv.pipelines,
            "render_command does not parse back to the same invocation",
            grammar::render_command(inv));

    for (const char* name : fuzz::identity_names) {
        const policy::IdentityPolicy& id = pol.identities.at(name);
        const policy::Decision d = policy::decide(inv, id, pol.programs);
        require(!d.rule.empty(), "decision without a rule");
        if (!d.allowed()) {
            require(d.argv().empty() && d.builtin() == nullptr,
                    "denied decision carries an argv or answer", d.rule);
            require(!d.reason().empty(), "denied decision without a reason", d.rule);
            continue;
        }
        check_allowed(pol, id, inv, d);
        check_idempotent(pol, id, d);
    }
    return 0;
}

// Rebuilds argv words from typed fields. The option words for each query are constants in the
// tables below; client-derived values (names, tags, tokens, sizes) were checked by the grammar.
#include "grammar/canonical.hpp"

#include <type_traits>

#include "grammar/lexer.hpp"
#include "grammar/programs.hpp"

namespace grammar {

Words get_query_words(GetQuery q) {
    switch (q) {
    case GetQuery::syncoid_sync:
        return {"-H", "syncoid:sync"};
    case GetQuery::type:
        return {"-H", "type"};
    case GetQuery::recordsize:
        return {"-H", "recordsize"};
    case GetQuery::snapshots:
        return {"-Hpd", "1", "-t", "snapshot", "guid,creation"};
    case GetQuery::snapshots_txg:
        return {"-Hpd", "1", "-t", "snapshot", "guid,creation,createtxg"};
    case GetQuery::children_typed:
        return {"-Hpd", "1", "type,guid,creation"};
    case GetQuery::children_typed_last:
        return {"-Hpd", "1", "guid,creation,type"};
    case GetQuery::children_typed_txg:
        return {"-Hpd", "1", "guid,creation,createtxg,type"};
    case GetQuery::bookmarks:
        return {"-Hpd", "1", "-t", "bookmark", "guid,creation"};
    case GetQuery::bookmarks_txg:
        return {"-Hpd", "1", "-t", "bookmark", "guid,creation,createtxg"};
    case GetQuery::local_properties:
        return {"-s", "local", "-H", "all"};
    case GetQuery::probe_snapshot_type:
        return {"-H", "-t", "snapshot"};
    case GetQuery::probe_createtxg:
        return {"-H", "createtxg"};
    case GetQuery::receive_resume_token:
        return {"-H", "-p", "-o", "name,value", "receive_resume_token"};
    }
    return {};
}

Words list_query_words(ListQuery q) {
    switch (q) {
    case ListQuery::recursive_origins:
        return {"-o", "name,origin", "-t", "filesystem,volume", "-Hr"};
    case ListQuery::puller_inventory:
        return {"-H",
                "-p",
                "-r",
                "-t",
                "all",
                "-o",
                "name,type,guid,createtxg,origin,encryption,written"};
    }
    return {};
}

namespace {

void append(Words& out, const Words& more) {
    out.insert(out.end(), more.begin(), more.end());
}

Words with_snapshots(Words head, const std::vector<SnapshotName>& snapshots) {
    for (const auto& s : snapshots)
        head.push_back(s.full());
    return head;
}

Words send_words(const ZfsSend& s) {
    Words w{"zfs", "send"};
    for (char f : s.flags)
        w.push_back(std::string{'-', f});
    for (const auto& ds : s.excludes)
        append(w, {"-X", ds});
    if (s.estimate) w.push_back("-nvP");
    std::visit(
        [&](const auto& src) {
            using T = std::decay_t<decltype(src)>;
            if constexpr (std::is_same_v<T, SendFull>) {
                append(w, {"--", src.snapshot.full()});
            } else if constexpr (std::is_same_v<T, SendIncremental>) {
                w.push_back(src.intermediates ? "-I" : "-i");
                w.push_back(std::visit([](const auto& from) { return from.full(); }, src.from));
                append(w, {"--", src.to.full()});
            } else {
                append(w, {"-t", src.token});
            }
        },
        s.source);
    return w;
}

struct WordsVisitor {
    Words operator()(const Exit&) const { return {"exit"}; }
    Words operator()(const EchoN&) const { return {"echo", "-n"}; }
    Words operator()(const CommandV& c) const {
        return {"command", "-v", std::string(tool_name(c.tool))};
    }
    Words operator()(const ZpoolGetFeature& z) const {
        return {"zpool", "get", "-o", "value", "-H", "feature@extensible_dataset", "--", z.pool};
    }
    Words operator()(const ZfsGet& g) const {
        Words w{"zfs", "get"};
        append(w, get_query_words(g.query));
        if (!g.datasets.empty()) {
            w.push_back("--");
            append(w, g.datasets);
        }
        return w;
    }
    Words operator()(const ZfsList& l) const {
        Words w{"zfs", "list"};
        append(w, list_query_words(l.query));
        append(w, {"--", l.dataset});
        return w;
    }
    Words operator()(const ZfsSnapshot& s) const {
        return with_snapshots({"zfs", "snapshot", "--"}, s.snapshots);
    }
    Words operator()(const ZfsDestroy& d) const {
        return {"zfs", "destroy", "--", d.snapshot.full()};
    }
    Words operator()(const ZfsHold& h) const {
        return with_snapshots({"zfs", "hold", "--", h.tag}, h.snapshots);
    }
    Words operator()(const ZfsRelease& h) const {
        return with_snapshots({"zfs", "release", "--", h.tag}, h.snapshots);
    }
    Words operator()(const ZfsBookmark& b) const {
        return {"zfs", "bookmark", "--", b.snapshot.full(), b.bookmark.full()};
    }
    Words operator()(const ZfsSend& s) const { return send_words(s); }
    Words operator()(const ZfsReceive& r) const {
        return {"zfs", "receive",         "-s", "-u",         "-o", "readonly=on",
                "-o",  "canmount=noauto", "-o", "setuid=off", "-o", "exec=off",
                "-o",  "devices=off",     "-x", "mountpoint", "--", r.dataset};
    }
    Words operator()(const Compress& c) const {
        Words w{std::string(tool_name(c.tool))};
        if (c.level) w.push_back("-" + std::to_string(*c.level));
        return w;
    }
    Words operator()(const Mbuffer& m) const {
        Words w{"mbuffer"};
        if (m.rate) append(w, {"-R", *m.rate});
        append(w, {"-q", "-s", "128k", "-m", m.size});
        return w;
    }
    Words operator()(const Socat& s) const {
        return {"socat", "-",
                "TCP:" + s.host + ":" + std::to_string(s.port) +
                    ",retry=" + std::to_string(s.retry) + ",interval=1"};
    }
};

} // namespace

Words canonical_words(const Command& command) {
    return std::visit(WordsVisitor{}, command);
}

std::string program_of(const Command& command) {
    if (std::holds_alternative<Exit>(command) || std::holds_alternative<EchoN>(command) ||
        std::holds_alternative<CommandV>(command))
        return "";
    return canonical_words(command).front();
}

std::string render_command(const Invocation& invocation) {
    std::string out;
    for (std::size_t p = 0; p < invocation.pipelines.size(); ++p) {
        if (p > 0) out += "; ";
        const Pipeline& pipeline = invocation.pipelines[p];
        for (std::size_t s = 0; s < pipeline.stages.size(); ++s) {
            if (s > 0) out += " | ";
            const Words words = canonical_words(pipeline.stages[s]);
            for (std::size_t i = 0; i < words.size(); ++i) {
                if (i > 0) out += ' ';
                out += quote_word(words[i]);
            }
        }
        if (pipeline.last_stderr_to_devnull) out += " 2>/dev/null";
    }
    return out;
}

} // namespace grammar

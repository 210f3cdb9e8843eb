// The only translation unit that includes PEGTL: lexes the command, runs the grammar in
// zfs_grammar.hpp over the tokens, and turns the parse tree into a typed Invocation.
// The parse tree (not actions) is used so that backtracking can never leave half-filled state
// behind (PEGTL's "AAC problem"); everything below reads only nodes of a successful match.
#include "grammar/parse.hpp"

#include <algorithm>
#include <charconv>
#include <exception>
#include <tao/pegtl/contrib/parse_tree.hpp>

#include "grammar/lexer.hpp"
#include "grammar/programs.hpp"
#include "grammar/zfs_grammar.hpp"

namespace grammar {
namespace {

namespace pegtl = tao::pegtl;
namespace r = rules;
using Node = pegtl::parse_tree::node;

// --- error messages at the grammar's commitment points (for the audit log) --------------------
template <typename> inline constexpr const char* error_message = nullptr;
template <> inline constexpr auto error_message<r::line> = "not a command this gatekeeper accepts";
template <> inline constexpr auto error_message<r::zfs_subcommand> = "zfs subcommand not allowed";
template <> inline constexpr auto error_message<r::get_query> = "zfs get form not allowed";
template <> inline constexpr auto error_message<r::list_query> = "zfs list form not allowed";
template <> inline constexpr auto error_message<r::send_source> = "zfs send operands not allowed";
template <> inline constexpr auto error_message<r::snapshot_word> = "expected a snapshot name";
template <> inline constexpr auto error_message<r::hold_tag_word> = "expected a hold tag";
template <> inline constexpr auto error_message<r::bookmark_word> = "expected a bookmark name";
template <> inline constexpr auto error_message<r::tool_word> = "unknown tool";
template <> inline constexpr auto error_message<r::pool_word> = "expected a pool name";

// Thrown where the grammar commits (a must<> point) and the input does not continue as it
// must. PEGTL's own pegtl::parse_error would do, but building it formats the position with an
// std::ostringstream, and that alone links libstdc++'s locale and iostream machinery into the
// gatekeeper, whose static set-up and relocations every session pays (bench/run-overhead).
struct grammar_rejection {
    std::string message;
    std::size_t byte;
};

// pegtl::must_if<error_table, pegtl::normal, false>, raising grammar_rejection: a rule with a
// message raises at failure; a must<> rule without one raises with PEGTL's own wording.
template <typename Rule> struct control : pegtl::normal<Rule> {
    template <typename ParseInput, typename... States>
    static void failure(const ParseInput& in, States&&... st) {
        if constexpr (error_message<Rule> != nullptr) {
            raise(in, st...);
        } else {
            pegtl::normal<Rule>::failure(in, st...);
        }
    }

    template <typename ParseInput, typename... States>
    [[noreturn]] static void raise(const ParseInput& in, States&&... /*unused*/) {
        if constexpr (error_message<Rule> != nullptr) {
            throw grammar_rejection{error_message<Rule>, in.byte()};
        } else {
            throw grammar_rejection{"parse error matching " + std::string(pegtl::demangle<Rule>()),
                                    in.byte()};
        }
    }
};

// --- which rules become parse-tree nodes -------------------------------------------------------
template <typename Rule>
using selector = pegtl::parse_tree::selector<
    Rule,
    pegtl::parse_tree::store_content::on<
        r::kw_sudo, r::exit_cmd, r::echo_cmd, r::command_v, r::tool_name, r::zpool_get_feature,
        r::pool_name, r::dataset_name, r::snapshot_ref, r::bookmark_ref, r::snap_part,
        r::bookmark_part, r::get_syncoid_sync, r::get_type, r::get_recordsize,
        r::get_probe_snapshot_type, r::get_probe_createtxg, r::get_snapshots, r::get_snapshots_txg,
        r::get_children_typed, r::get_children_typed_last, r::get_children_typed_txg,
        r::get_bookmarks, r::get_bookmarks_txg, r::get_local_properties,
        r::get_local_properties_220, r::get_receive_resume_token, r::zfs_receive,
        r::list_recursive_origins, r::list_puller_inventory, r::zfs_snapshot, r::zfs_hold,
        r::zfs_release, r::zfs_bookmark, r::zfs_destroy, r::zfs_send, r::send_flag_letter,
        r::send_exclude, r::send_estimate, r::send_full, r::send_incremental, r::send_intermediates,
        r::send_resume, r::resume_token, r::hold_tag, r::statement, r::stage_lzop, r::stage_gzip,
        r::stage_pigz, r::stage_zstd, r::stage_zstdmt, r::stage_xz, r::stage_lz4, r::level_3,
        r::level_9, r::level_19, r::stage_mbuffer, r::rate_value, r::size_value, r::stage_socat,
        r::socat_host, r::socat_port, r::socat_retry, r::devnull_op>>;

// Thrown only inside this file, by the builder, and caught in parse_command().
struct build_error {
    std::string message;
};

// syncoid batches prune destroys 11 per exec (the corpus's `[14 stale sync snaps]` lines);
// we accept no more.
constexpr std::size_t max_chain_length = 11;
// zfs-puller snapshots every changed dataset of a job in one atomic `zfs snapshot`, and holds
// and releases a job's snapshots in one `zfs hold` / `zfs release` each.
constexpr std::size_t max_snapshots_at_once = 1000;
// ZFS_MAX_DATASET_NAME_LEN is 256 including the NUL; zfs_max_dataset_nesting defaults to 50.
constexpr std::size_t max_name_bytes = 255;
constexpr std::size_t max_nesting = 50;
// Upper bounds for mbuffer's -m (memory it allocates) and -R (bytes per second).
constexpr unsigned long long max_mbuffer_bytes = 16ULL << 30;
constexpr unsigned long long max_rate_bytes = 100ULL << 30;

const Node& child_of(const Node& n, std::size_t i) {
    if (i >= n.children.size()) throw build_error{"internal: missing parse node"};
    return *n.children[i];
}

template <typename Rule> const Node* find_child(const Node& n) {
    for (const auto& c : n.children)
        if (c->is_type<Rule>()) return c.get();
    return nullptr;
}

template <typename Rule> const Node& need_child(const Node& n) {
    const Node* c = find_child<Rule>(n);
    if (c == nullptr) throw build_error{"internal: missing parse node"};
    return *c;
}

std::string checked_name(std::string name) {
    if (name.size() > max_name_bytes) throw build_error{"name longer than 255 bytes"};
    if (static_cast<std::size_t>(std::count(name.begin(), name.end(), '/')) >= max_nesting)
        throw build_error{"dataset nested deeper than 50 levels"};
    return name;
}

std::string dataset_of(const Node& n) {
    return checked_name(n.string());
}

SnapshotName snapshot_of(const Node& ref) {
    SnapshotName s{need_child<r::dataset_name>(ref).string(),
                   need_child<r::snap_part>(ref).string()};
    checked_name(s.full());
    return s;
}

// Every snapshot operand of a zfs snapshot / hold / release node, in order.
std::vector<SnapshotName> snapshot_operands(const Node& n) {
    std::vector<SnapshotName> out;
    for (const auto& c : n.children)
        if (c->is_type<r::snapshot_ref>()) out.push_back(snapshot_of(*c));
    if (out.size() > max_snapshots_at_once) throw build_error{"too many snapshots in one command"};
    return out;
}

BookmarkName bookmark_of(const Node& ref) {
    BookmarkName b{need_child<r::dataset_name>(ref).string(),
                   need_child<r::bookmark_part>(ref).string()};
    checked_name(b.full());
    return b;
}

// Bytes of an mbuffer size or rate whose shape the grammar already checked.
std::uint64_t size_in_bytes(const std::string& text) {
    const auto bytes = mbuffer_bytes(text);
    if (!bytes) throw build_error{"mbuffer size or rate out of range"};
    return *bytes;
}

unsigned small_number(const Node& n, unsigned max) {
    unsigned value = 0;
    const std::string text = n.string();
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || p != text.data() + text.size() || value > max)
        throw build_error{"number out of range"};
    return value;
}

std::vector<std::string> datasets_below(const Node& n) {
    std::vector<std::string> out;
    for (const auto& c : n.children)
        if (c->is_type<r::dataset_name>()) out.push_back(dataset_of(*c));
    return out;
}

ZfsGet build_get(const Node& q) {
    static const std::pair<std::string_view, GetQuery> table[] = {
        {pegtl::demangle<r::get_syncoid_sync>(), GetQuery::syncoid_sync},
        {pegtl::demangle<r::get_type>(), GetQuery::type},
        {pegtl::demangle<r::get_recordsize>(), GetQuery::recordsize},
        {pegtl::demangle<r::get_probe_snapshot_type>(), GetQuery::probe_snapshot_type},
        {pegtl::demangle<r::get_probe_createtxg>(), GetQuery::probe_createtxg},
        {pegtl::demangle<r::get_snapshots>(), GetQuery::snapshots},
        {pegtl::demangle<r::get_snapshots_txg>(), GetQuery::snapshots_txg},
        {pegtl::demangle<r::get_children_typed>(), GetQuery::children_typed},
        {pegtl::demangle<r::get_children_typed_last>(), GetQuery::children_typed_last},
        {pegtl::demangle<r::get_children_typed_txg>(), GetQuery::children_typed_txg},
        {pegtl::demangle<r::get_bookmarks>(), GetQuery::bookmarks},
        {pegtl::demangle<r::get_bookmarks_txg>(), GetQuery::bookmarks_txg},
        {pegtl::demangle<r::get_local_properties>(), GetQuery::local_properties},
        {pegtl::demangle<r::get_local_properties_220>(), GetQuery::local_properties},
        {pegtl::demangle<r::get_receive_resume_token>(), GetQuery::receive_resume_token},
    };
    for (const auto& [type, query] : table)
        if (q.type == type) return ZfsGet{query, datasets_below(q)};
    throw build_error{"internal: unknown get form"};
}

ZfsSend build_send(const Node& s) {
    ZfsSend send;
    const Node* source = nullptr;
    for (const auto& c : s.children) {
        if (c->is_type<r::send_flag_letter>()) {
            send.flags.push_back(c->string().at(0));
        } else if (c->is_type<r::send_exclude>()) {
            for (auto& ds : datasets_below(*c))
                send.excludes.push_back(std::move(ds));
        } else if (c->is_type<r::send_estimate>()) {
            send.estimate = true;
        } else {
            source = c.get();
        }
    }
    // Canonical flag order: sorted by send_flag_order, duplicates dropped (sets, as zfs reads
    // them).
    std::string canonical;
    for (char f : std::string_view(send_flag_order))
        if (send.flags.find(f) != std::string::npos) canonical.push_back(f);
    send.flags = canonical;

    if (source == nullptr) throw build_error{"internal: send without source"};
    if (source->is_type<r::send_resume>()) {
        send.source = SendResume{need_child<r::resume_token>(*source).string()};
    } else if (source->is_type<r::send_full>()) {
        send.source = SendFull{snapshot_of(need_child<r::snapshot_ref>(*source))};
    } else if (source->is_type<r::send_incremental>()) {
        SendIncremental inc{find_child<r::send_intermediates>(*source) != nullptr, {}, {}};
        const Node* from = nullptr;
        const Node* to = nullptr;
        for (const auto& c : source->children) {
            if (c->is_type<r::snapshot_ref>() || c->is_type<r::bookmark_ref>()) {
                (from == nullptr ? from : to) = c.get();
            }
        }
        if (from == nullptr || to == nullptr) throw build_error{"internal: incremental operands"};
        if (from->is_type<r::bookmark_ref>()) {
            if (inc.intermediates) throw build_error{"-I from a bookmark is not allowed"};
            inc.from = bookmark_of(*from);
        } else {
            inc.from = snapshot_of(*from);
        }
        inc.to = snapshot_of(*to);
        send.source = std::move(inc);
    } else {
        throw build_error{"internal: unknown send source"};
    }
    return send;
}

Command build_zfs(const Node& n) {
    if (n.is_type<r::zfs_send>()) return build_send(n);
    if (n.is_type<r::zfs_snapshot>()) return ZfsSnapshot{snapshot_operands(n)};
    if (n.is_type<r::zfs_destroy>()) return ZfsDestroy{snapshot_of(need_child<r::snapshot_ref>(n))};
    if (n.is_type<r::zfs_receive>()) return ZfsReceive{dataset_of(need_child<r::dataset_name>(n))};
    if (n.is_type<r::zfs_hold>())
        return ZfsHold{need_child<r::hold_tag>(n).string(), snapshot_operands(n)};
    if (n.is_type<r::zfs_release>())
        return ZfsRelease{need_child<r::hold_tag>(n).string(), snapshot_operands(n)};
    if (n.is_type<r::zfs_bookmark>())
        return ZfsBookmark{snapshot_of(need_child<r::snapshot_ref>(n)),
                           bookmark_of(need_child<r::bookmark_ref>(n))};
    if (n.is_type<r::list_recursive_origins>())
        return ZfsList{ListQuery::recursive_origins, dataset_of(need_child<r::dataset_name>(n))};
    if (n.is_type<r::list_puller_inventory>())
        return ZfsList{ListQuery::puller_inventory, dataset_of(need_child<r::dataset_name>(n))};
    if (n.is_type<r::zpool_get_feature>())
        return ZpoolGetFeature{checked_name(need_child<r::pool_name>(n).string())};
    return build_get(n);
}

// One `statement` node: optional sudo, then exactly one command node.
Command build_statement(const Node& st, bool& sudo) {
    std::size_t i = 0;
    if (child_of(st, 0).is_type<r::kw_sudo>()) {
        sudo = true;
        i = 1;
    }
    return build_zfs(child_of(st, i));
}

Command build_stage(const Node& n) {
    auto level = [&]() -> std::optional<int> {
        if (find_child<r::level_3>(n)) return 3;
        if (find_child<r::level_9>(n)) return 9;
        if (find_child<r::level_19>(n)) return 19;
        return std::nullopt;
    };
    if (n.is_type<r::stage_lzop>()) return Compress{Tool::lzop, std::nullopt};
    if (n.is_type<r::stage_gzip>()) return Compress{Tool::gzip, level()};
    if (n.is_type<r::stage_pigz>()) return Compress{Tool::pigz, level()};
    if (n.is_type<r::stage_zstd>()) return Compress{Tool::zstd, level()};
    if (n.is_type<r::stage_zstdmt>()) return Compress{Tool::zstdmt, level()};
    if (n.is_type<r::stage_xz>()) return Compress{Tool::xz, std::nullopt};
    if (n.is_type<r::stage_lz4>()) return Compress{Tool::lz4, std::nullopt};
    if (n.is_type<r::stage_mbuffer>()) {
        Mbuffer m;
        if (const Node* rate = find_child<r::rate_value>(n)) {
            if (size_in_bytes(rate->string()) > max_rate_bytes)
                throw build_error{"mbuffer rate too large"};
            m.rate = rate->string();
        }
        m.size = need_child<r::size_value>(n).string();
        if (size_in_bytes(m.size) > max_mbuffer_bytes) throw build_error{"mbuffer size too large"};
        return m;
    }
    if (n.is_type<r::stage_socat>()) {
        Socat s;
        s.host = need_child<r::socat_host>(n).string();
        if (s.host.size() > 253) throw build_error{"host name too long"};
        const unsigned port = small_number(need_child<r::socat_port>(n), 65535);
        if (port == 0) throw build_error{"port 0"};
        s.port = static_cast<std::uint16_t>(port);
        s.retry = small_number(need_child<r::socat_retry>(n), 3600);
        return s;
    }
    throw build_error{"internal: unknown stage"};
}

Invocation build(const Node& root) {
    Invocation inv;
    if (root.children.empty()) throw build_error{"internal: empty parse"};
    const Node& first = child_of(root, 0);
    if (first.is_type<r::exit_cmd>()) {
        inv.pipelines.push_back({{Exit{}}, false});
        return inv;
    }
    if (first.is_type<r::echo_cmd>()) {
        inv.pipelines.push_back({{EchoN{}}, false});
        return inv;
    }
    if (first.is_type<r::command_v>()) {
        const auto tool = tool_from_name(need_child<r::tool_name>(first).string());
        if (!tool) throw build_error{"internal: unknown tool"};
        inv.pipelines.push_back({{CommandV{*tool}}, false});
        return inv;
    }

    // A command line: statement, stream stages, then `;`-joined statements.
    Pipeline current;
    for (const auto& c : root.children) {
        if (c->is_type<r::statement>()) {
            if (!current.stages.empty()) inv.pipelines.push_back(std::move(current));
            current = Pipeline{};
            current.stages.push_back(build_statement(*c, inv.sudo_stripped));
        } else if (c->is_type<r::devnull_op>()) {
            current.last_stderr_to_devnull = true;
        } else {
            current.stages.push_back(build_stage(*c));
        }
    }
    inv.pipelines.push_back(std::move(current));

    // Structure the grammar leaves to us: only a real send (not an estimate) has stream stages,
    // and only single-snapshot destroys of one dataset may be chained with `;`.
    const Pipeline& head = inv.pipelines.front();
    if (head.stages.size() > 1) {
        const auto* send = std::get_if<ZfsSend>(&head.stages.front());
        if (send == nullptr) throw build_error{"only zfs send may be piped"};
        if (send->estimate) throw build_error{"a size estimate cannot be piped"};
    }
    if (inv.pipelines.size() > 1) {
        if (inv.pipelines.size() > max_chain_length) throw build_error{"destroy chain too long"};
        const auto* first_destroy = std::get_if<ZfsDestroy>(&head.stages.front());
        for (const auto& p : inv.pipelines) {
            const auto* d = std::get_if<ZfsDestroy>(&p.stages.front());
            if (d == nullptr || p.stages.size() != 1 || first_destroy == nullptr)
                throw build_error{"only zfs destroy may be chained with ';'"};
            if (d->snapshot.dataset != first_destroy->snapshot.dataset)
                throw build_error{"a destroy chain must name one dataset"};
        }
    }
    return inv;
}

// Tokens become one word per line; operators become control bytes no word can contain.
std::string encode(const std::vector<Token>& tokens) {
    std::string out;
    for (const auto& t : tokens) {
        switch (t.kind) {
        case Token::Kind::word:
            out += t.text;
            break;
        case Token::Kind::pipe:
            out += '\x01';
            break;
        case Token::Kind::semicolon:
            out += '\x02';
            break;
        case Token::Kind::stderr_to_devnull:
            out += '\x03';
            break;
        }
        out += '\n';
    }
    return out;
}

std::size_t original_offset(const std::vector<Token>& tokens, const std::string& encoded,
                            std::size_t at, std::size_t input_size) {
    const auto index = static_cast<std::size_t>(std::count(
        encoded.begin(),
        encoded.begin() + static_cast<std::ptrdiff_t>(std::min(at, encoded.size())), '\n'));
    return index < tokens.size() ? tokens[index].offset : input_size;
}

} // namespace

ParseResult parse_command(std::string_view command) {
    ParseResult result;
    if (command.size() > max_command_bytes) {
        result.error = {ParseError::Stage::too_long, "command longer than 65536 bytes",
                        max_command_bytes};
        return result;
    }
    LexResult lexed = lex(command);
    if (!lexed.ok()) {
        result.error = {ParseError::Stage::lexical, lexed.error, lexed.error_offset};
        return result;
    }
    const std::string encoded = encode(lexed.tokens);
    try {
        pegtl::memory_input in(encoded, "SSH_ORIGINAL_COMMAND");
        auto root = pegtl::parse_tree::parse<r::grammar, selector, pegtl::nothing, control>(in);
        if (!root) {
            result.error = {ParseError::Stage::grammar, "not a command this gatekeeper accepts", 0};
            return result;
        }
        result.invocation = build(*root);
    } catch (const grammar_rejection& e) {
        result.error = {ParseError::Stage::grammar, e.message,
                        original_offset(lexed.tokens, encoded, e.byte, command.size())};
    } catch (const build_error& e) {
        result.error = {ParseError::Stage::grammar, e.message, 0};
    } catch (const std::exception& e) {
        // Fail closed on anything unexpected (bad_alloc, out_of_range) without leaking it.
        result.error = {ParseError::Stage::grammar, std::string("internal error: ") + e.what(), 0};
    }
    if (!result.error.message.empty()) result.invocation.reset();
    return result;
}

std::string_view stage_name(ParseError::Stage stage) {
    switch (stage) {
    case ParseError::Stage::none:
        return "none";
    case ParseError::Stage::too_long:
        return "too-long";
    case ParseError::Stage::lexical:
        return "lexical";
    case ParseError::Stage::grammar:
        return "grammar";
    }
    return "unknown";
}

} // namespace grammar

namespace grammar {
namespace {
template <typename Rule> bool matches_whole(std::string_view text) {
    // Names never contain '\n', so appending the word terminator is unambiguous.
    if (text.find('\n') != std::string_view::npos) return false;
    std::string word(text);
    word += '\n';
    pegtl::memory_input in(word, "name");
    try {
        return pegtl::parse<pegtl::seq<Rule, pegtl::eof>>(in);
    } catch (const std::exception&) {
        return false;
    }
}
} // namespace

bool is_valid_dataset_name(std::string_view name) {
    return name.size() <= max_name_bytes && matches_whole<r::dataset_word>(name);
}
bool is_valid_snapshot_name(std::string_view name) {
    return name.size() <= max_name_bytes && matches_whole<r::snapshot_word>(name);
}

} // namespace grammar

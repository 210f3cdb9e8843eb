// PEGTL rules for the source-side vocabulary of syncoid 2.1.0, 2.2.0, 2.3.0, master and
// zfs-puller (recorded in tests/corpus/syncoid-corpus.txt; grammar/README.md). Rules only: no
// actions, no state. Included by grammar/parse.cpp alone (one PEGTL translation unit).
//
// Input is not the raw command but the lexer's tokens, re-encoded so each word is followed by
// '\n' and operators are single control bytes that no word can contain (lexer.cpp refuses
// control bytes): '\x01' = `|`, '\x02' = `;`, '\x03' = `2>/dev/null`. So a rule that matches a
// whole word always ends in `eow`, and quoting has already been removed.
#pragma once

#include <tao/pegtl.hpp>

namespace grammar::rules {

namespace pegtl = tao::pegtl;
using pegtl::alnum;
using pegtl::alpha;
using pegtl::at;
using pegtl::digit;
using pegtl::eof;
using pegtl::if_must;
using pegtl::list;
using pegtl::must;
using pegtl::not_at;
using pegtl::one;
using pegtl::opt;
using pegtl::plus;
using pegtl::range;
using pegtl::ranges;
using pegtl::rep_max;
using pegtl::rep_min_max;
using pegtl::seq;
using pegtl::sor;
using pegtl::star;

// clang-format off

// --- token framing -----------------------------------------------------------------------------
struct eow : one<'\n'> {};                                   // end of one word
template<typename Text> struct word : seq<Text, eow> {};     // a word that is exactly Text
struct pipe_op : seq<one<'\x01'>, eow> {};                   // `|`
struct semi_op : seq<one<'\x02'>, eow> {};                   // `;`
struct devnull_op : seq<one<'\x03'>, eow> {};                // `2>/dev/null` (syncoid 2.1.0)

#define ZG_WORD(name, text) struct name : word<TAO_PEGTL_STRING(text)> {}
ZG_WORD(kw_sudo, "sudo");
ZG_WORD(kw_exit, "exit");
ZG_WORD(kw_echo, "echo");
ZG_WORD(kw_command, "command");
ZG_WORD(kw_zfs, "zfs");
ZG_WORD(kw_zpool, "zpool");
ZG_WORD(kw_get, "get");
ZG_WORD(kw_list, "list");
ZG_WORD(kw_send, "send");
ZG_WORD(kw_snapshot, "snapshot");
ZG_WORD(kw_destroy, "destroy");
ZG_WORD(kw_hold, "hold");
ZG_WORD(kw_release, "release");
ZG_WORD(kw_bookmark, "bookmark");
ZG_WORD(opt_end, "--");                 // canonical argv puts `--` before operands
ZG_WORD(opt_n, "-n");
ZG_WORD(opt_v, "-v");
ZG_WORD(opt_o, "-o");
ZG_WORD(opt_H, "-H");
ZG_WORD(opt_t, "-t");
ZG_WORD(opt_s, "-s");
ZG_WORD(opt_q, "-q");
ZG_WORD(opt_m, "-m");
ZG_WORD(opt_R, "-R");
ZG_WORD(opt_X, "-X");
ZG_WORD(opt_I, "-I");
ZG_WORD(opt_i, "-i");
ZG_WORD(opt_Hpd, "-Hpd");
ZG_WORD(opt_Hr, "-Hr");
ZG_WORD(opt_nvP, "-nvP");
ZG_WORD(dash, "-");
ZG_WORD(one_word, "1");
ZG_WORD(w_value, "value");
ZG_WORD(w_local, "local");
ZG_WORD(w_all, "all");
ZG_WORD(w_snapshot, "snapshot");
ZG_WORD(w_bookmark, "bookmark");
ZG_WORD(w_128k, "128k");
ZG_WORD(w_feature_ext, "feature@extensible_dataset");
ZG_WORD(w_name_origin, "name,origin");
ZG_WORD(w_fs_vol, "filesystem,volume");
ZG_WORD(p_syncoid_sync, "syncoid:sync");
ZG_WORD(p_type, "type");
ZG_WORD(p_recordsize, "recordsize");
ZG_WORD(p_createtxg, "createtxg");
ZG_WORD(p_guid_creation, "guid,creation");
ZG_WORD(p_guid_creation_txg, "guid,creation,createtxg");
ZG_WORD(p_type_guid_creation, "type,guid,creation");
ZG_WORD(p_guid_creation_type, "guid,creation,type");
ZG_WORD(p_guid_creation_txg_type, "guid,creation,createtxg,type");
ZG_WORD(w_puller_columns, "name,type,guid,createtxg,origin,encryption,written");
ZG_WORD(opt_p, "-p");
ZG_WORD(opt_u, "-u");
ZG_WORD(opt_x, "-x");
ZG_WORD(kw_receive, "receive");
ZG_WORD(w_name_value, "name,value");
ZG_WORD(p_receive_resume_token, "receive_resume_token");
ZG_WORD(w_readonly_on, "readonly=on");
ZG_WORD(w_canmount_noauto, "canmount=noauto");
ZG_WORD(w_setuid_off, "setuid=off");
ZG_WORD(w_exec_off, "exec=off");
ZG_WORD(w_devices_off, "devices=off");
ZG_WORD(w_mountpoint, "mountpoint");
ZG_WORD(opt_r, "-r");
#undef ZG_WORD

struct opt_dashdash : opt<opt_end> {};

// --- ZFS names (zfs(8) "Naming"; openzfs zfs_namecheck.c, minus `%`) ---------------------------
// Components are [A-Za-z0-9_.: -]; `.` and `..` are not components; a pool starts with a letter,
// so no name can begin with `-`. Length (255 bytes) is checked by the builder in parse.cpp.
struct name_char : sor<alnum, one<'_', '.', ':', '-', ' '>> {};
struct name_end : sor<one<'/', '@', '#', ','>, eow> {};
struct dot_name : seq<one<'.'>, opt<one<'.'>>, at<name_end>> {};
struct component : seq<not_at<dot_name>, plus<name_char>> {};
struct pool_name : seq<alpha, star<name_char>> {};
struct dataset_name : seq<pool_name, star<one<'/'>, component>> {};
struct snap_part : component {};
struct bookmark_part : component {};
struct snapshot_ref : seq<dataset_name, one<'@'>, snap_part> {};   // DS@SNAP in one word
struct bookmark_ref : seq<dataset_name, one<'#'>, bookmark_part> {};

struct pool_word : seq<pool_name, eow> {};
struct dataset_word : seq<dataset_name, eow> {};
struct snapshot_word : seq<snapshot_ref, eow> {};
struct bookmark_word : seq<bookmark_ref, eow> {};
struct from_word : sor<snapshot_word, bookmark_word> {};          // -i/-I source: snap, bookmark, clone origin
struct exclude_list : seq<list<dataset_name, one<','>>, eow> {};  // -X DS[,DS]...

// Hold tags: syncoid_[ID_]HOST. Letters first, so a tag is never an option.
struct hold_tag : seq<alnum, star<sor<alnum, one<'_', '.', ':', '-'>>>> {};
struct hold_tag_word : seq<hold_tag, eow> {};

// Resume token `<version>-<cksum>-<size>-<zlib hex>`; content is checked by policy/resume_token.
struct lower_hex : ranges<'0', '9', 'a', 'f'> {};
struct resume_token : seq<plus<digit>, one<'-'>, plus<lower_hex>, one<'-'>, plus<lower_hex>, one<'-'>, plus<lower_hex>> {};
struct resume_token_word : seq<resume_token, eow> {};

// --- builtins (syncoid: every version) -----------------------------------------------------------
struct tool_name : sor<TAO_PEGTL_STRING("lzop"), TAO_PEGTL_STRING("gzip"), TAO_PEGTL_STRING("pigz"),
                       TAO_PEGTL_STRING("zstdmt"), TAO_PEGTL_STRING("zstd"), TAO_PEGTL_STRING("xz"),
                       TAO_PEGTL_STRING("lz4"), TAO_PEGTL_STRING("mbuffer"), TAO_PEGTL_STRING("socat")> {};
struct tool_word : seq<tool_name, eow> {};
struct exit_cmd : seq<kw_exit> {};                                       // syncoid, all versions: ends the ControlMaster setup session
struct echo_cmd : if_must<kw_echo, opt_n> {};                            // syncoid, all versions: connectivity test, must exit 0
struct command_v : if_must<kw_command, opt_v, tool_word> {};             // syncoid, all versions: which compressor / mbuffer / socat exists
struct builtin : sor<exit_cmd, echo_cmd, command_v> {};

// --- zpool get (zpool(8) get; syncoid, all versions: the resume-support probe) ----------------------------------------------------------
struct zpool_get_feature : if_must<kw_zpool, kw_get, opt_o, w_value, opt_H, w_feature_ext, opt_dashdash, pool_word> {};

// --- zfs get (zfs(8) get [-Hp] [-d depth] [-s source] [-t type] prop dataset) -----------------------
struct get_syncoid_sync : seq<opt_H, p_syncoid_sync, opt_dashdash, dataset_word> {};      // syncoid, all versions
struct get_type : seq<opt_H, p_type, opt_dashdash, dataset_word> {};                      // syncoid --preserve-recordsize
struct get_recordsize : seq<opt_H, p_recordsize, opt_dashdash, dataset_word> {};          // syncoid --preserve-recordsize
struct get_probe_snapshot_type : seq<opt_H, opt_t, w_snapshot> {};                        // syncoid master probe, no operand
struct get_probe_createtxg : seq<opt_H, p_createtxg, opt_dashdash, star<dataset_word>> {}; // syncoid master probe; scoped by decide()
struct get_snapshots : seq<opt_Hpd, one_word, opt_t, w_snapshot, p_guid_creation, opt_dashdash, dataset_word> {};          // syncoid 2.1.0-2.3.0
struct get_snapshots_txg : seq<opt_Hpd, one_word, opt_t, w_snapshot, p_guid_creation_txg, opt_dashdash, dataset_word> {};  // syncoid master
struct get_children_typed : seq<opt_Hpd, one_word, p_type_guid_creation, opt_dashdash, dataset_word> {};        // syncoid 2.2.0+ fallback
struct get_children_typed_last : seq<opt_Hpd, one_word, p_guid_creation_type, opt_dashdash, dataset_word> {};   // syncoid master
struct get_children_typed_txg : seq<opt_Hpd, one_word, p_guid_creation_txg_type, opt_dashdash, dataset_word> {}; // syncoid master
struct get_bookmarks : seq<opt_Hpd, one_word, opt_t, w_bookmark, p_guid_creation, opt_dashdash, dataset_word> {};          // syncoid 2.1.0-2.3.0
struct get_bookmarks_txg : seq<opt_Hpd, one_word, opt_t, w_bookmark, p_guid_creation_txg, opt_dashdash, dataset_word> {};  // syncoid master
struct get_local_properties : seq<opt_s, w_local, opt_H, w_all, opt_dashdash, dataset_word> {};  // syncoid 2.3.0+ --preserve-properties
struct get_local_properties_220 : seq<w_all, opt_s, w_local, opt_H, dataset_word> {};         // syncoid 2.2.0 --preserve-properties (options after `all`)
struct get_receive_resume_token : seq<opt_H, opt_p, opt_o, w_name_value, p_receive_resume_token, opt_dashdash, dataset_word> {}; // zfs-puller restore
struct get_query : sor<get_syncoid_sync, get_type, get_recordsize, get_probe_snapshot_type, get_probe_createtxg,
                       get_snapshots, get_snapshots_txg, get_children_typed, get_children_typed_last,
                       get_children_typed_txg, get_bookmarks, get_bookmarks_txg, get_local_properties,
                       get_local_properties_220, get_receive_resume_token> {};
struct zfs_get : if_must<kw_get, get_query> {};

// --- zfs list (zfs(8) list) -------------------------------------------------------------------------
struct list_recursive_origins : seq<opt_o, w_name_origin, opt_t, w_fs_vol, opt_Hr, opt_dashdash, dataset_word> {};  // syncoid --recursive
struct list_puller_inventory : seq<opt_H, opt_p, opt_r, opt_t, w_all, opt_o, w_puller_columns, opt_dashdash, dataset_word> {};  // zfs-puller
struct list_query : sor<list_recursive_origins, list_puller_inventory> {};
struct zfs_list : if_must<kw_list, list_query> {};

// --- snapshot-changing subcommands ----------------------------------------------------------------------
struct zfs_snapshot : if_must<kw_snapshot, opt_dashdash, plus<snapshot_word>> {};              // zfs snapshot DS@SNAP (syncoid); zfs-puller: several at once
struct zfs_hold : if_must<kw_hold, opt_dashdash, hold_tag_word, plus<snapshot_word>> {};       // zfs hold TAG DS@SNAP (syncoid 2.2.0+ --use-hold); zfs-puller: several
struct zfs_release : if_must<kw_release, opt_dashdash, hold_tag_word, plus<snapshot_word>> {}; // zfs release TAG DS@SNAP (syncoid 2.2.0+ --use-hold); likewise
struct zfs_bookmark : if_must<kw_bookmark, opt_dashdash, snapshot_word, bookmark_word> {};     // zfs bookmark DS@SNAP DS#BM (syncoid --create-bookmark)
struct zfs_destroy : if_must<kw_destroy, opt_dashdash, snapshot_word> {};                      // syncoid pruning: one snapshot, no flags

// --- zfs send (zfs(8) send; syncoid estimates and sends; the letters --sendoptions can add) ------------------------
struct send_flag_letter : one<'D', 'L', 'P', 'R', 'V', 'b', 'c', 'e', 'h', 'p', 's', 'v', 'w'> {};
struct send_flag : seq<one<'-'>, send_flag_letter, eow> {};
struct send_exclude : seq<opt_X, exclude_list> {};                          // 2.3.0+ --sendoptions=X
struct send_option : sor<send_flag, send_exclude> {};
struct send_estimate : seq<opt_nvP> {};                                     // syncoid: size estimate
struct send_intermediates : seq<opt_I> {};
struct send_incremental_from : sor<send_intermediates, opt_i> {};
struct send_resume : seq<opt_t, resume_token_word> {};                      // -t TOKEN
struct send_incremental : seq<send_incremental_from, from_word, opt_dashdash, snapshot_word> {};
struct send_full : seq<opt_dashdash, snapshot_word> {};
struct send_source : sor<send_resume, send_incremental, send_full> {};
struct zfs_send : if_must<kw_send, star<send_option>, opt<send_estimate>, send_source> {};

// --- zfs receive (zfs(8) receive; zfs-puller restore): exactly one form, resumable, never
// mounted, read-only, not mounted at boot, no set-uid, executables or device nodes whatever the
// stream says, the stream's mountpoint ignored; no -F, -d, -e ----------------------------------
struct zfs_receive : if_must<kw_receive, opt_s, opt_u, opt_o, w_readonly_on, opt_o, w_canmount_noauto,
                             opt_o, w_setuid_off, opt_o, w_exec_off, opt_o, w_devices_off,
                             opt_x, w_mountpoint, opt_dashdash, dataset_word> {};

struct zfs_subcommand : sor<zfs_get, zfs_list, zfs_snapshot, zfs_hold, zfs_release, zfs_bookmark, zfs_destroy, zfs_send, zfs_receive> {};
struct zfs_command : if_must<kw_zfs, zfs_subcommand> {};
struct sudo_prefix : opt<kw_sudo> {};                                       // stripped and recorded
struct statement : seq<sudo_prefix, sor<zfs_command, zpool_get_feature>> {};

// --- pipeline stages after zfs send (syncoid, all versions) ------------------------------------------------------
struct level_3 : word<TAO_PEGTL_STRING("-3")> {};
struct level_9 : word<TAO_PEGTL_STRING("-9")> {};
struct level_19 : word<TAO_PEGTL_STRING("-19")> {};
struct stage_lzop : word<TAO_PEGTL_STRING("lzop")> {};
struct stage_gzip : seq<word<TAO_PEGTL_STRING("gzip")>, level_3> {};
struct stage_pigz : seq<word<TAO_PEGTL_STRING("pigz")>, sor<level_3, level_9>> {};
struct stage_zstd : seq<word<TAO_PEGTL_STRING("zstd")>, sor<level_3, level_19>> {};
struct stage_zstdmt : seq<word<TAO_PEGTL_STRING("zstdmt")>, sor<level_3, level_19>> {};
struct stage_xz : word<TAO_PEGTL_STRING("xz")> {};
struct stage_lz4 : word<TAO_PEGTL_STRING("lz4")> {};
struct compress_stage : sor<stage_lzop, stage_gzip, stage_pigz, stage_zstd, stage_zstdmt, stage_xz, stage_lz4> {};

// mbuffer sizes and rates: decimal digits with an optional unit, as mbuffer(1) parses them.
struct size_value : seq<rep_min_max<1, 12, digit>, opt<one<'k', 'K', 'M', 'G', 'T', 'b', 'B'>>> {};
struct rate_value : seq<rep_min_max<1, 12, digit>, opt<one<'k', 'K', 'm', 'M', 'g', 'G', 't', 'T', 'b', 'B'>>> {};
struct mbuffer_rate : seq<opt_R, seq<rate_value, eow>> {};
struct mbuffer_size : seq<size_value, eow> {};
struct stage_mbuffer : seq<word<TAO_PEGTL_STRING("mbuffer")>, opt<mbuffer_rate>, opt_q, opt_s, w_128k, opt_m, mbuffer_size> {};

// socat - TCP:HOST:PORT,retry=N,interval=1 (2.2.0+ --insecure-direct-connection)
struct host_label : seq<alnum, star<sor<alnum, one<'-'>>>> {};
struct socat_host : list<host_label, one<'.'>> {};
struct socat_port : rep_min_max<1, 5, digit> {};
struct socat_retry : rep_min_max<1, 5, digit> {};
struct socat_address : seq<TAO_PEGTL_STRING("TCP:"), socat_host, one<':'>, socat_port,
                           TAO_PEGTL_STRING(",retry="), socat_retry, TAO_PEGTL_STRING(",interval=1"), eow> {};
struct stage_socat : seq<word<TAO_PEGTL_STRING("socat")>, dash, socat_address> {};

struct mbuffer_tail : seq<pipe_op, stage_mbuffer, sor<devnull_op, opt<pipe_op, stage_socat>>> {};
struct stream_tail : seq<opt<pipe_op, compress_stage>, sor<mbuffer_tail, opt<pipe_op, stage_socat>>> {};

// --- whole command lines ---------------------------------------------------------------------------------
// A statement, then either a send's stream stages or more `;`-joined statements (prune chains).
// Which statements may be combined is checked by the builder in parse.cpp.
struct chain_tail : star<semi_op, statement> {};
struct command_line : seq<statement, stream_tail, chain_tail> {};
struct line : sor<seq<builtin, eof>, seq<command_line, eof>> {};
struct grammar : must<line> {};

// clang-format on

} // namespace grammar::rules

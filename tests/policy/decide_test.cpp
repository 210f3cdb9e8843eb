// decide() tables: scope (component-wise), presets, snapshot prefix, destroy switch, raw-only,
// tools, direct connections, resume-token contents, scoped master probes.
#include <doctest/doctest.h>
#include <fstream>

#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "policy/policy_file.hpp"
#include "tests/policy/nvlist_builder.hpp"

using namespace policy;

namespace {
const char* base_programs = R"(
[programs]
zfs = "/sbin/zfs"
zpool = "/sbin/zpool"
lzop = "/usr/bin/lzop"
mbuffer = "/usr/bin/mbuffer"
zstd = "/usr/bin/zstd"
)";

Policy make_policy(const std::string& identities) {
    const auto r = parse_policy(std::string(base_programs) + identities);
    REQUIRE_MESSAGE(r.ok(), r.error);
    return *r.policy;
}

Decision run(const Policy& p, const std::string& id, const std::string& cmd) {
    const auto parsed = grammar::parse_command(cmd);
    REQUIRE_MESSAGE(parsed.ok(), cmd, ": ", parsed.error.message);
    return decide(*parsed.invocation, p.identities.at(id), p.programs);
}

const char* identities = R"(
[identity.pull]
datasets = ["tank/data", "tank/my data"]
preset = "syncoid-pull"
allow_destroy = true
tools = ["lzop", "mbuffer"]

[identity.nodestroy]
datasets = ["tank/data"]
preset = "syncoid-pull"
allow_destroy = false

[identity.ro]
datasets = ["tank/data"]
preset = "read-only"
allow_destroy = true

[identity.raw]
datasets = ["tank/enc"]
preset = "syncoid-pull"
raw_only = true

[identity.puller]
datasets = ["NIXROOT/home"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
allow_destroy = true
)";

std::string token_for(const std::string& toname, bool raw, std::optional<std::uint64_t> toguid = 42,
                      std::optional<std::uint64_t> fromguid = std::nullopt) {
    test::TokenSpec s;
    s.toname = toname;
    s.toguid = toguid;
    s.fromguid = fromguid;
    s.object = 1;
    s.offset = 0;
    s.bytes = 300000;
    s.rawok = raw;
    s.compressok = raw;
    s.embedok = true;
    s.largeblockok = true;
    return test::kernel_token(s);
}
} // namespace

TEST_CASE("dataset scope is matched component by component") {
    CHECK(dataset_within("tank/data", "tank/data"));
    CHECK(dataset_within("tank/data/child", "tank/data"));
    CHECK_FALSE(dataset_within("tank/database", "tank/data"));
    CHECK_FALSE(dataset_within("tank/dat", "tank/data"));
    CHECK_FALSE(dataset_within("tank", "tank/data"));
    CHECK_FALSE(dataset_within("tank/data", ""));
}

TEST_CASE("decision table") {
    const Policy p = make_policy(identities);
    struct Row {
        std::string identity, command;
        bool allowed;
        std::string rule;
    };
    const Row rows[] = {
        {"pull", "zfs get -H syncoid:sync 'tank/data/child'", true, "get"},
        {"pull", "zfs get -H syncoid:sync 'tank/database'", false, "scope"},
        {"pull", "zfs get -H syncoid:sync 'tank'", false, "scope"},
        {"pull", "zpool get -o value -H feature@extensible_dataset 'tank'", true,
         "zpool.get-feature"},
        {"pull", "zpool get -o value -H feature@extensible_dataset 'other'", false, "scope"},
        {"pull", "zfs snapshot 'tank/data'@syncoid_x", true, "snapshot"},
        {"pull", "zfs snapshot 'tank/data'@autosnap_x", false, "snapshot-prefix"},
        {"pull", "zfs destroy 'tank/data'@syncoid_x", true, "destroy"},
        {"pull", "zfs destroy 'tank/data'@autosnap_x", false, "snapshot-prefix"},
        {"pull", "zfs destroy 'tank/data'@syncoid_a; zfs destroy 'tank/data'@autosnap_b", false,
         "snapshot-prefix"},
        {"pull", "zfs destroy 'tank/database'@syncoid_a", false, "scope"},
        {"nodestroy", "zfs destroy 'tank/data'@syncoid_x", false, "destroy"},
        {"ro", "zfs destroy 'tank/data'@syncoid_x", false, "preset"},
        {"ro", "zfs snapshot 'tank/data'@syncoid_x", false, "preset"},
        {"ro", "zfs hold syncoid_h 'tank/data'@syncoid_x", false, "preset"},
        {"ro", " zfs send  'tank/data'@'autosnap_x'", true, "send.full"},
        {"pull", "zfs hold syncoid_h 'tank/data'@'syncoid_x'", true, "hold"},
        {"pull", "zfs hold admin_h 'tank/data'@'syncoid_x'", false, "snapshot-prefix"},
        {"pull", "zfs release syncoid_h 'tank/data'@'autosnap_x'", false, "snapshot-prefix"},
        {"pull", "zfs hold syncoid_h tank/data@syncoid_x tank/data/c@syncoid_x", true, "hold"},
        {"pull", "zfs hold syncoid_h tank/data@syncoid_x tank/data/c@autosnap_x", false,
         "snapshot-prefix"},
        {"pull", "zfs release syncoid_h tank/data@syncoid_x tank/database@syncoid_x", false,
         "scope"},
        {"ro", "zfs release syncoid_h tank/data@syncoid_x tank/data/c@syncoid_x", false, "preset"},
        {"pull", "zfs bookmark 'tank/data'@autosnap_x 'tank/data'#autosnap_x", true, "bookmark"},
        {"pull", "zfs bookmark 'tank/other'@autosnap_x 'tank/other'#autosnap_x", false, "scope"},
        {"pull",
         " zfs send  -I 'tank/data'@'a' 'tank/data'@'b' | lzop  | mbuffer  -q -s 128k -m 16M", true,
         "send.incremental"},
        {"pull", " zfs send  -I 'tank/data'@'a' 'tank/data'@'b' | zstd -3", false, "tools"},
        {"pull", " zfs send  -i 'tank/other@o' 'tank/data/clone'@'b'", false, "scope"},
        {"pull", " zfs send -X tank/other 'tank/data'@'b'", false, "scope"},
        {"pull", " zfs send -X 'tank/data/x' 'tank/data'@'b'", true, "send.full"},
        {"raw", " zfs send  'tank/enc'@'a'", false, "raw-only"},
        {"raw", " zfs send -w  'tank/enc'@'a'", true, "send.full"},
        {"raw", "zfs send -nvP 'tank/enc@a'", false, "raw-only"},
        {"raw", "zfs send -w -nvP 'tank/enc@a'", true, "send.estimate.full"},
        {"puller",
         "zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- "
         "NIXROOT/home",
         true, "list"},
        {"puller", "zfs list -o name,origin -t filesystem,volume -Hr 'NIXROOT/home'", false,
         "preset"},
        {"puller", "exit", false, "preset"},
        {"puller", "command -v lzop", false, "preset"},
        {"puller", "sudo zfs send -- NIXROOT/home@a", false, "preset"},
        {"puller", "zfs snapshot -- NIXROOT/home@zfs-puller_1", true, "snapshot"},
        {"puller", "zfs snapshot -- NIXROOT/home@syncoid_1", false, "snapshot-prefix"},
        {"puller", "zpool get -o value -H feature@extensible_dataset -- NIXROOT", false, "preset"},
        {"pull", "exit", true, "builtin.exit"},
        {"pull", "echo -n", true, "builtin.echo"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.identity);
        CAPTURE(row.command);
        const Decision d = run(p, row.identity, row.command);
        CHECK(d.allowed() == row.allowed);
        CHECK(d.rule == row.rule);
        if (!d.allowed()) {
            CHECK_FALSE(d.reason().empty());
            CHECK(d.argv().empty());
        }
    }
}

TEST_CASE("command -v answers from the identity's tools") {
    const Policy p = make_policy(identities);
    auto answer = [&](const std::string& id, const std::string& cmd) {
        const Decision d = run(p, id, cmd);
        REQUIRE(d.allowed());
        REQUIRE(d.builtin() != nullptr);
        CHECK(d.argv().empty());
        return *d.builtin();
    };
    CHECK(answer("pull", "command -v lzop") == BuiltinAnswer{"/usr/bin/lzop\n", 0});
    CHECK(answer("pull", "command -v mbuffer") == BuiltinAnswer{"/usr/bin/mbuffer\n", 0});
    CHECK(answer("pull", "command -v zstd") == BuiltinAnswer{"", 1}); // configured, not granted
    CHECK(answer("pull", "command -v socat") == BuiltinAnswer{"", 1});
    CHECK(answer("nodestroy", "command -v lzop") == BuiltinAnswer{"", 1});
    CHECK(answer("pull", "exit") == BuiltinAnswer{"", 0});
}

TEST_CASE("the createtxg master probe runs scoped to the identity's datasets") {
    const Policy p = make_policy(identities);
    const Decision d = run(p, "pull", "sudo zfs get -H createtxg ");
    REQUIRE(d.allowed());
    CHECK(d.argv() == std::vector<std::vector<Argv>>{{{"/sbin/zfs", "get", "-H", "createtxg", "--",
                                                       "tank/data", "tank/my data"}}});
    // The -t snapshot probe has no property operand, so zfs stops at its usage message and
    // lists nothing; it runs unchanged.
    const Decision t = run(p, "pull", "zfs get -H -t snapshot  ");
    REQUIRE(t.allowed());
    CHECK(t.argv() ==
          std::vector<std::vector<Argv>>{{{"/sbin/zfs", "get", "-H", "-t", "snapshot"}}});
}

TEST_CASE("resume tokens: decoded, scoped, raw-only, forgeries denied") {
    const Policy p = make_policy(identities);
    const auto ok = run(p, "pull", "zfs send -t " + token_for("tank/data@syncoid_x", false));
    CHECK(ok.allowed());
    CHECK(ok.rule == "send.resume");
    const auto out = run(p, "pull", "zfs send -t " + token_for("tank/database@x", false));
    CHECK_FALSE(out.allowed());
    CHECK(out.rule == "scope");
    const auto prefix = run(p, "pull", "zfs send -t " + token_for("tank/dat@x", false));
    CHECK_FALSE(prefix.allowed());
    CHECK_FALSE(run(p, "raw", "zfs send -t " + token_for("tank/enc@x", false)).allowed());
    CHECK(run(p, "raw", "zfs send -t " + token_for("tank/enc@x", true)).allowed());
    CHECK(run(p, "raw", "zfs send -nvP -t " + token_for("tank/enc@x", true)).allowed());
    // Without toguid the gatekeeper could not tie the name to the snapshot zfs will send.
    CHECK_FALSE(
        run(p, "pull", "zfs send -t " + token_for("tank/data@x", false, std::nullopt)).allowed());
    // Flip one hex digit of the body: checksum mismatch.
    std::string t = token_for("tank/data@x", false);
    t.back() = t.back() == '0' ? '1' : '0';
    const auto forged = run(p, "pull", "zfs send -t " + t);
    CHECK_FALSE(forged.allowed());
    CHECK(forged.rule == "resume-token");
    test::TokenSpec saved;
    saved.toname = "tank/data@x";
    saved.toguid = 1;
    saved.savedok = true;
    CHECK_FALSE(run(p, "pull", "zfs send -t " + test::kernel_token(saved)).allowed());
    test::TokenSpec redacted;
    redacted.toname = "tank/data@x";
    redacted.toguid = 1;
    redacted.redact_snaps = std::vector<std::uint64_t>{7};
    CHECK_FALSE(run(p, "pull", "zfs send -t " + test::kernel_token(redacted)).allowed());
    CHECK_FALSE(run(p, "pull", "zfs send -t " + token_for("tank/data@x%y", false)).allowed());
    CHECK_FALSE(run(p, "pull", "zfs send -t " + token_for("-tank/data@x", false)).allowed());
}

TEST_CASE(
    "real OpenZFS resume tokens (tests/fixtures/resume_tokens) are judged by their contents") {
    const Policy p = make_policy(R"(
[identity.data]
datasets = ["src/data"]
preset = "syncoid-pull"

[identity.enc-raw]
datasets = ["src/enc"]
preset = "syncoid-pull"
raw_only = true

[identity.elsewhere]
datasets = ["src/database", "dst"]
preset = "syncoid-pull"
)");
    auto token = [](const std::string& name) {
        std::ifstream in(std::string(ZG_SOURCE_DIR) + "/tests/fixtures/resume_tokens/" + name +
                         ".token");
        std::string t;
        std::getline(in, t);
        REQUIRE_FALSE(t.empty());
        return t;
    };
    for (const char* name :
         {"full_data", "incr_data", "compressed_data", "incr_bookmark_data", "full_data_resumed"}) {
        CAPTURE(name);
        const std::string t = token(name);
        CHECK(run(p, "data", "zfs send -t " + t).allowed());
        CHECK(run(p, "data", "zfs send -nvP -t " + t).allowed());
        CHECK(run(p, "elsewhere", "zfs send -t " + t).rule == "scope");
        // Not raw: a raw-only identity refuses it even for its own dataset name.
        CHECK_FALSE(run(p, "enc-raw", "zfs send -t " + t).allowed());
    }
    for (const char* name : {"raw_enc", "raw_incr_enc"}) {
        CAPTURE(name);
        const std::string t = token(name);
        CHECK(run(p, "enc-raw", "zfs send -t " + t).allowed());
        CHECK(run(p, "data", "zfs send -t " + t).rule == "scope");
    }
}

TEST_CASE("a resume send runs only after the live checks of both of its guids") {
    const Policy p = make_policy(R"(
[identity.nested]
datasets = ["tank/data/child", "tank/data", "tank/other"]
preset = "syncoid-pull"
)");
    const auto full = run(p, "nested", "zfs send -t " + token_for("tank/data/child@s", false, 7));
    REQUIRE(full.allowed());
    CHECK(full.run()->live_checks ==
          std::vector<LiveCheck>{SnapshotHasGuid{"tank/data/child@s", 7}});
    // An incremental token: libzfs resolves fromguid by searching outwards from toname's
    // dataset, so it must be found below the outermost identity dataset that holds toname.
    const auto incremental =
        run(p, "nested", "zfs send -nvP -t " + token_for("tank/data/child@s", false, 7, 99));
    REQUIRE(incremental.allowed());
    CHECK(incremental.run()->live_checks ==
          std::vector<LiveCheck>{SnapshotHasGuid{"tank/data/child@s", 7},
                                 GuidBelow{99, "tank/data"}});
    // Denials never carry live checks (nothing runs for them).
    CHECK_FALSE(
        run(p, "nested", "zfs send -t " + token_for("tank/secret@s", false, 7, 99)).allowed());
}

TEST_CASE("mbuffer's memory is bounded by the identity's mbuffer_max_memory") {
    const Policy p = make_policy(R"(
[identity.default]
datasets = ["tank/data"]
preset = "syncoid-pull"
tools = ["mbuffer"]

[identity.big]
datasets = ["tank/data"]
preset = "syncoid-pull"
tools = ["mbuffer"]
mbuffer_max_memory = "1G"
)");
    const auto with_m = [](const std::string& size) {
        return " zfs send  'tank/data'@'a' | mbuffer  -q -s 128k -m " + size + " 2>/dev/null";
    };
    CHECK(run(p, "default", with_m("16M")).allowed()); // what syncoid sends unless told otherwise
    CHECK(run(p, "default", with_m("16384k")).allowed());
    const auto big = run(p, "default", with_m("128M"));
    CHECK_FALSE(big.allowed());
    CHECK(big.rule == "mbuffer-memory");
    CHECK(big.reason().find("mbuffer_max_memory (16M)") != std::string::npos);
    CHECK_FALSE(run(p, "default", with_m("16385k")).allowed());
    CHECK(run(p, "big", with_m("1G")).allowed());
    CHECK(run(p, "big", with_m("1024M")).allowed());
    CHECK_FALSE(run(p, "big", with_m("1025M")).allowed());
    CHECK_FALSE(run(p, "big", with_m("16G")).allowed());
}

// syncoid names its snapshots syncoid_[ID_]HOST_<stamp> and its hold tag syncoid_[ID_]HOST: a
// prefix that pins the backup host keeps one host's key away from another host's snapshots.
TEST_CASE("a per-target snapshot prefix pins the backup host, hold tags included") {
    const Policy p = make_policy(R"(
[identity.host-a]
datasets = ["tank/data"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_hostA_"
allow_destroy = true
)");
    const std::string mine = "'tank/data'@syncoid_hostA_2026-11-27:02:46:41-GMT00:00";
    const std::string theirs = "'tank/data'@syncoid_hostB_2026-11-27:02:46:41-GMT00:00";
    CHECK(run(p, "host-a", "zfs snapshot " + mine).allowed());
    CHECK(run(p, "host-a", " zfs destroy " + mine).allowed());
    CHECK(run(p, "host-a", " zfs hold syncoid_hostA " + mine).allowed());
    CHECK(run(p, "host-a", " zfs release syncoid_hostA " + mine).allowed());
    for (const std::string& cmd :
         {"zfs snapshot " + theirs, " zfs destroy " + theirs, " zfs hold syncoid_hostA " + theirs,
          " zfs release syncoid_hostB " + theirs, " zfs release syncoid_hostB " + mine,
          " zfs hold syncoid_host " + mine, " zfs hold syncoid_hostAB " + mine,
          " zfs hold syncoid " + mine}) {
        CAPTURE(cmd);
        const auto d = run(p, "host-a", cmd);
        CHECK_FALSE(d.allowed());
        CHECK(d.rule == "snapshot-prefix");
    }
}

TEST_CASE("the restore preset receives new direct children of restore_root, from stdin") {
    const Policy p = make_policy(R"(
[identity.restore]
preset = "restore"
restore_root = "NIXROOT/restore"
)");
    const std::string receive = "zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off "
                                "-o exec=off -o devices=off -x mountpoint -- ";
    const Decision ok = run(p, "restore", receive + "NIXROOT/restore/home");
    REQUIRE(ok.allowed());
    CHECK(ok.rule == "receive");
    REQUIRE(ok.run() != nullptr);
    CHECK(ok.run()->plan.front().stdin_from_client);
    CHECK(ok.run()->plan.front().stages.front() ==
          Argv{"/sbin/zfs", "receive", "-s", "-u", "-o", "readonly=on", "-o", "canmount=noauto",
               "-o", "setuid=off", "-o", "exec=off", "-o", "devices=off", "-x", "mountpoint", "--",
               "NIXROOT/restore/home"});
    CHECK(ok.run()->live_checks ==
          std::vector<LiveCheck>{RestoreTargetFree{"NIXROOT/restore/home", "NIXROOT/restore"}});
    const Decision probe = run(
        p, "restore", "zfs get -H -p -o name,value receive_resume_token -- NIXROOT/restore/home");
    REQUIRE(probe.allowed());
    CHECK_FALSE(probe.run()->plan.front().stdin_from_client);
    CHECK(probe.run()->live_checks.empty());
    for (const char* target :
         {"NIXROOT/restore", "NIXROOT/restore/home/x", "NIXROOT/home", "NIXROOT/restorex/home"}) {
        CAPTURE(target);
        const Decision d = run(p, "restore", receive + std::string(target));
        CHECK_FALSE(d.allowed());
        CHECK(d.rule == "scope");
    }
    // Every other preset refuses receiving; no other stage reads the client's stdin.
    const Policy q = make_policy(identities);
    for (const char* id : {"pull", "ro", "puller"}) {
        CAPTURE(id);
        const Decision d = run(q, id, receive + "tank/data/x");
        CHECK_FALSE(d.allowed());
        CHECK(d.rule == "preset");
        const Decision s = run(q, id, "zfs send -- tank/data@s");
        if (s.run() != nullptr) CHECK_FALSE(s.run()->plan.front().stdin_from_client);
    }
}

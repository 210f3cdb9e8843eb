// Grammar tables: accepted shapes and their canonical argv words, rejected shapes.
#include <doctest/doctest.h>

#include "grammar/canonical.hpp"
#include "grammar/parse.hpp"
#include "grammar/programs.hpp"

using namespace grammar;

namespace {
std::string canonical(std::string_view cmd) {
    const auto r = parse_command(cmd);
    if (!r.ok()) return "ERROR: " + r.error.message;
    return render_command(*r.invocation);
}
} // namespace

TEST_CASE("accepted shapes render to canonical commands") {
    struct Row {
        std::string_view input, expected;
    };
    const Row rows[] = {
        {"exit", "exit"},
        {"echo -n", "echo -n"},
        {"command -v zstdmt", "command -v zstdmt"},
        {"sudo zpool get -o value -H feature@extensible_dataset 'tank'",
         "zpool get -o value -H feature@extensible_dataset -- tank"},
        {"zfs get -H syncoid:sync 'tank/my data'", "zfs get -H syncoid:sync -- 'tank/my data'"},
        {"zfs get -Hpd 1 -t snapshot guid,creation 'tank/data'",
         "zfs get -Hpd 1 -t snapshot guid,creation -- tank/data"},
        {"zfs get all -s local -H 'tank/data'", "zfs get -s local -H all -- tank/data"},
        {"zfs get -H -t snapshot  ", "zfs get -H -t snapshot"},
        {"zfs get -H createtxg ", "zfs get -H createtxg"},
        {"zfs list -o name,origin -t filesystem,volume -Hr 'tank/data'",
         "zfs list -o name,origin -t filesystem,volume -Hr -- tank/data"},
        {"zfs snapshot 'tank/data'@syncoid_vm_2026-11-27:02:46:41-GMT00:00",
         "zfs snapshot -- tank/data@syncoid_vm_2026-11-27:02:46:41-GMT00:00"},
        {"zfs send -nvP -I 'tank/data@a' 'tank/data@b'",
         "zfs send -nvP -I tank/data@a -- tank/data@b"},
        {" zfs send -w -L -w  'tank/data'@'a' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null",
         "zfs send -L -w -- tank/data@a | lzop | mbuffer -q -s 128k -m 16M 2>/dev/null"},
        {" zfs send  -i 'tank/data'#'bm' 'tank/data'@'s' | zstd -19",
         "zfs send -i tank/data#bm -- tank/data@s | zstd -19"},
        {" zfs send -X tank/data/a,tank/data/b  'tank/data'@'s'",
         "zfs send -X tank/data/a -X tank/data/b -- tank/data@s"},
        {" zfs send  'tank/data'@'s' | mbuffer -R 10m -q -s 128k -m 128M",
         "zfs send -- tank/data@s | mbuffer -R 10m -q -s 128k -m 128M"},
        {" zfs send  'tank/data'@'s' | socat - TCP:backup.example:5000,retry=60,interval=1",
         "zfs send -- tank/data@s | socat - TCP:backup.example:5000,retry=60,interval=1"},
        {"sudo zfs destroy 'tank/data'@syncoid_a; sudo zfs destroy 'tank/data'@syncoid_b",
         "zfs destroy -- tank/data@syncoid_a; zfs destroy -- tank/data@syncoid_b"},
        {" zfs hold syncoid_vm 'tank/data'@'syncoid_vm_x'",
         "zfs hold -- syncoid_vm tank/data@syncoid_vm_x"},
        {"zfs hold -- zp_keep tank/data@zp_1 'tank/my data'@zp_1",
         "zfs hold -- zp_keep tank/data@zp_1 'tank/my data@zp_1'"},
        {"zfs release -- zp_keep tank/data@zp_0 tank/data/c@zp_0",
         "zfs release -- zp_keep tank/data@zp_0 tank/data/c@zp_0"},
        {" zfs bookmark 'tank/data'@autosnap_x 'tank/data'#autosnap_x100000",
         "zfs bookmark -- tank/data@autosnap_x tank/data#autosnap_x100000"},
        {"zfs send -e -nvP -t 1-abc-10-789c00", "zfs send -e -nvP -t 1-abc-10-789c00"},
        {"zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- "
         "tank/data",
         "zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- "
         "tank/data"},
        {"zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o "
         "devices=off -x mountpoint 'tank/restore/my home'",
         "zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o "
         "devices=off -x mountpoint -- "
         "'tank/restore/my home'"},
        {"zfs get -H -p -o name,value receive_resume_token 'tank/restore/home'",
         "zfs get -H -p -o name,value receive_resume_token -- tank/restore/home"},
    };
    for (const auto& row : rows) {
        CAPTURE(row.input);
        CHECK(canonical(row.input) == row.expected);
    }
}

TEST_CASE("shapes syncoid never sends are grammar errors") {
    const std::string_view bad[] = {
        "",
        " ",
        "zfs",
        "zfs get",
        "exit 1",
        "echo hi",
        "echo -n x",
        "command -v sh",
        "command -V lzop",
        "zfs receive tank/x",
        "zfs rollback -r tank/data@a",
        "zfs destroy tank/data",
        "zfs destroy -r tank/data@syncoid_a",
        "zfs destroy tank/data@syncoid_a%",
        "zfs destroy tank/data@syncoid_a,b",
        "zfs send --replicate tank/data@a",
        "zfs send tank/data@a -R",
        "zfs send -Rv tank/data@a",
        "zfs send -n tank/data@a",
        "zfs send -nvP tank/data@a | lzop",
        "zfs get -H syncoid:sync tank/data | lzop",
        "zfs send tank/data@a | lzop | lzop",
        "zfs send tank/data@a | mbuffer -q -s 128k -m 16M | lzop",
        "zfs send tank/data@a | gzip -1",
        "zfs send tank/data@a | mbuffer -o /etc/x -q -s 128k -m 16M",
        "zfs send tank/data@a | mbuffer -q -s 128k -m 10%",
        "zfs send tank/data@a | mbuffer -q -s 128k -m 99999999999999G",
        "zfs send tank/data@a 2>/dev/null",
        "zfs get -H keylocation tank/data",
        "zfs send /tank/data@a",
        "zfs send tank//data@a",
        "zfs send tank/data/@a",
        "zfs send tank/../data@a",
        "zfs send tank/./data@a",
        "zfs send -- -tank@a",
        "zfs destroy tank/data@syncoid_a; zfs send tank/data@a",
        "zfs destroy tank/data@syncoid_a; zfs destroy tank/other@syncoid_a",
        "zfs destroy tank/data@syncoid_a;",
        "; exit",
        "sudo -u root zfs list",
        "sudo sudo zfs get -H type tank/data",
        "/sbin/zfs get -H type tank/data",
        "zpool get all tank",
        "zpool status",
        "zfs hold -r syncoid_x tank/data@syncoid_y",
        "zfs send -I tank/data#bm tank/data@b",
        "zfs send -t 1-ABC-10-ff",
        "zfs send tank/data@a | socat - EXEC:sh",
        "zfs send tank/data@a | socat - TCP:h:0,retry=1,interval=1",
    };
    for (auto input : bad) {
        CAPTURE(input);
        const auto r = parse_command(input);
        CHECK_FALSE(r.ok());
        CHECK_FALSE(r.error.message.empty());
    }
}

TEST_CASE("ZFS name rules") {
    CHECK(is_valid_dataset_name("tank/my data"));
    CHECK(is_valid_dataset_name("a.b:c_d-e/f"));
    CHECK_FALSE(is_valid_dataset_name("1tank"));
    CHECK_FALSE(is_valid_dataset_name("tank/.."));
    CHECK_FALSE(is_valid_dataset_name("tank/"));
    CHECK_FALSE(is_valid_dataset_name("tank/a%b"));
    CHECK_FALSE(is_valid_dataset_name("tank@s"));
    CHECK(is_valid_snapshot_name("tank@s"));
    CHECK_FALSE(is_valid_snapshot_name("tank@s,t"));
    CHECK(is_valid_dataset_name("t" + std::string(254, 'a')));
    CHECK_FALSE(is_valid_dataset_name("t" + std::string(255, 'a')));
    std::string deep = "t";
    for (int i = 0; i < 50; ++i)
        deep += "/a";
    CHECK_FALSE(parse_command("zfs get -H type " + deep).ok());
}

TEST_CASE("zfs snapshot, hold and release take at most 1000 snapshots at once") {
    for (const std::string head :
         {"zfs snapshot -- ", "zfs hold -- zp_keep ", "zfs release -- zp_keep "}) {
        CAPTURE(head);
        std::string cmd = head;
        for (int i = 0; i < 1000; ++i)
            cmd += "t/d" + std::to_string(i) + "@zp_1 ";
        CHECK(parse_command(cmd).ok());
        const auto over = parse_command(cmd + "t/x@zp_1");
        REQUIRE_FALSE(over.ok());
        CHECK(over.error.message.find("too many snapshots") != std::string::npos);
    }
    CHECK_FALSE(parse_command("zfs hold -- zp_keep").ok()); // a tag alone is no hold
}

// program_table is the one list of programs; the grammar's `command -v` rule spells the tool
// words again (as PEGTL rules must): the two may never drift apart.
TEST_CASE("the grammar's tool words are exactly the tools of program_table") {
    std::size_t tools = 0;
    for (const auto& entry : program_table) {
        CAPTURE(entry.key);
        CHECK(find_program_entry(entry.key) == &entry);
        const auto parsed = parse_command("command -v " + std::string(entry.key));
        if (entry.tool) {
            ++tools;
            CHECK(tool_name(*entry.tool) == entry.key);
            CHECK(tool_from_name(entry.key) == entry.tool);
            REQUIRE(parsed.ok());
            CHECK(parsed.invocation->pipelines.front().stages.front() ==
                  Command{CommandV{*entry.tool}});
        } else {
            CHECK_FALSE(parsed.ok()); // zfs and zpool are never asked about
            CHECK(entry.kind == ProgramKind::zfs);
        }
    }
    CHECK(tools == 9); // every grammar::Tool
    CHECK(find_program_entry("sh") == nullptr);
    CHECK_FALSE(parse_command("command -v sh").ok());
}

TEST_CASE("zfs receive parses to its one typed form") {
    const auto r =
        parse_command("zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o "
                      "exec=off -o devices=off -x mountpoint -- tank/restore/home");
    REQUIRE(r.ok());
    CHECK(r.invocation->pipelines.front().stages.front() ==
          Command{ZfsReceive{"tank/restore/home"}});
    CHECK(canonical_words(ZfsReceive{"a/b"}) ==
          Words{"zfs", "receive", "-s", "-u", "-o", "readonly=on", "-o", "canmount=noauto", "-o",
                "setuid=off", "-o", "exec=off", "-o", "devices=off", "-x", "mountpoint", "--",
                "a/b"});
    const auto g =
        parse_command("zfs get -H -p -o name,value receive_resume_token -- tank/restore/home");
    REQUIRE(g.ok());
    CHECK(g.invocation->pipelines.front().stages.front() ==
          Command{ZfsGet{GetQuery::receive_resume_token, {"tank/restore/home"}}});
}

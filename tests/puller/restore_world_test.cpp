// zfs-puller restore, the whole program against the fake source and local zfs
// (fake_zfs_world.hpp): which key it logs in with, the exact remote commands, the local commands
// (zfs list and zfs send only: a restore changes nothing on the backup host), a full, raw and
// resumed restore, the refusals, --dry-run, and the put-in-place text on stdout.
//
// main() is fake_world_main.cpp's: started through the world's `ssh` / `zfs` symlinks, the
// binary plays those programs; otherwise it runs the tests.
#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "tests/policy/nvlist_builder.hpp"
#include "tests/puller/fake_zfs_world.hpp"

using fake_world::Argv;
using fake_world::Row;
using fake_world::RunResult;
using fake_world::World;

namespace {

const std::string receive_command = "zfs receive -s -u -o readonly=on -o canmount=noauto -o "
                                    "setuid=off -o exec=off -o devices=off -x mountpoint -- "
                                    "tank/restore/a";
const std::string probe_command =
    "zfs get -H -p -o name,value receive_resume_token -- tank/restore/a";

Row row(const std::string& name, const std::string& type, std::uint64_t guid, std::uint64_t txg,
        const std::string& encryption = "off") {
    Row r;
    r.name = name;
    r.type = type;
    r.guid = guid;
    r.createtxg = txg;
    r.encryption = encryption;
    r.creation = 1700000000 + static_cast<std::int64_t>(txg);
    return r;
}

// The backup host has backup/a with @s1 and @s2; the source lost tank/a and has its restore root.
void backed_up(World& w, const std::string& encryption = "off") {
    w.add_target(row("backup", "filesystem", 500, 2));
    w.add_target(row("backup/a", "filesystem", 501, 5, encryption));
    w.add_target(row("backup/a@s1", "snapshot", 11, 10, encryption));
    w.add_target(row("backup/a@s2", "snapshot", 12, 20, encryption));
    w.add_source(row("tank", "filesystem", 1, 1));
    w.add_source(row("tank/restore", "filesystem", 2, 2));
}

std::string config(const World& w, const std::string& extra = "") {
    return w.config("[job.a]\nsource = \"zb@fake.example:tank/a\"\ntarget = \"backup/a\"\n" +
                    extra);
}
std::string restore_config(const World& w) {
    return config(w, "restore_root = \"tank/restore\"\nrestore_ssh_key = \"" + w.dir() +
                         "/restore-key\"\nrestore_user = \"zrestore\"\n");
}

Argv restore_args(const std::string& cfg, const Argv& extra = {}) {
    Argv a{"--config", cfg, "restore", "a", "backup/a", "--progress", "none"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::string show(const RunResult& r) {
    return "exit " + std::to_string(r.status) + "\n--- stdout\n" + r.out + "--- stderr\n" + r.err;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The verbs of every local zfs command (list, send, ...), in order.
std::vector<std::string> local_verbs(const World& w) {
    std::vector<std::string> out;
    for (const auto& a : w.local_log())
        out.push_back(a.size() > 1 ? a[1] : "");
    return out;
}

std::vector<Argv> local_sends(const World& w) {
    std::vector<Argv> out;
    for (const auto& a : w.local_log())
        if (a.size() > 1 && a[1] == "send" && std::find(a.begin(), a.end(), "-n") == a.end())
            out.push_back(a);
    return out;
}

bool only_reads(const World& w) {
    for (const auto& v : local_verbs(w))
        if (v != "list" && v != "send") return false;
    return true;
}

} // namespace

TEST_CASE("restore: the newest snapshot into the restore root, with the restore key") {
    World w;
    backed_up(w);
    const std::string target_before = read_file(w.dir() + "/target.model");
    const RunResult r = w.run(restore_args(restore_config(w)));
    REQUIRE_MESSAGE(r.status == 0, show(r));
    // On the source: a new dataset below the restore root, with the snapshot.
    CHECK(w.source_snapshots("tank/restore/a") == std::vector<std::string>{"s2"});
    CHECK(w.remote_log() ==
          std::vector<std::string>{probe_command, receive_command, probe_command});
    // The restore identity's key and login, not the job's pull key.
    const std::string master = read_file(w.dir() + "/master.log");
    CHECK(master.find("-i " + w.dir() + "/restore-key ") != std::string::npos);
    CHECK(master.find("zrestore@fake.example") != std::string::npos);
    CHECK(master.find(w.dir() + "/key ") == std::string::npos);
    // Locally: a listing and the send, nothing that changes the backup host.
    CHECK(only_reads(w));
    CHECK(read_file(w.dir() + "/target.model") == target_before);
    REQUIRE(local_sends(w).size() == 1);
    CHECK(local_sends(w)[0] == Argv{w.zfs(), "send", "-L", "-c", "-e", "--", "backup/a@s2"});
    // The put-in-place commands on stdout, never run.
    CHECK(r.out.find("zfs rename tank/restore/a tank/a\n") != std::string::npos);
    CHECK(r.out.find("zfs mount tank/a\n") != std::string::npos);
    CHECK(r.out.find("load-key") == std::string::npos);
    CHECK(r.err.find("backup/a@s2 -> zrestore@fake.example:tank/restore/a") != std::string::npos);
}

TEST_CASE("restore: an encrypted backup is sent raw, and the text loads the key first") {
    World w;
    backed_up(w, "aes-256-gcm");
    const RunResult r = w.run(restore_args(restore_config(w), {"--as", "a"}));
    REQUIRE_MESSAGE(r.status == 0, show(r));
    REQUIRE(local_sends(w).size() == 1);
    CHECK(local_sends(w)[0] == Argv{w.zfs(), "send", "-w", "--", "backup/a@s2"});
    const auto load = r.out.find("\nzfs load-key tank/restore/a\n");
    CHECK(load != std::string::npos);
    CHECK(load < r.out.find("\nzfs mount tank/a\n"));
}

TEST_CASE("restore: an unfinished restore is resumed with the source's token") {
    World w;
    backed_up(w);
    policy::test::TokenSpec spec;
    spec.object = 5;
    spec.offset = 4096;
    spec.bytes = 300;
    spec.toguid = 11;
    spec.toname = "backup/a@s1";
    spec.largeblockok = spec.embedok = spec.compressok = true;
    const std::string token = policy::test::kernel_token(spec);
    w.set("restore.token", token);
    const RunResult r = w.run(restore_args(restore_config(w)));
    REQUIRE_MESSAGE(r.status == 0, show(r));
    REQUIRE(local_sends(w).size() == 1);
    CHECK(local_sends(w)[0] == Argv{w.zfs(), "send", "-t", token});
    CHECK(w.source_snapshots("tank/restore/a") == std::vector<std::string>{"s1"});
    CHECK(r.err.find("resuming the interrupted restore of backup/a@s1") != std::string::npos);
    CHECK(only_reads(w));
}

TEST_CASE("restore: refusals change nothing on either side") {
    World w;
    backed_up(w);
    SUBCASE("the restore name exists on the source: exit 3, nothing sent") {
        w.add_source(row("tank/restore/a", "filesystem", 3, 3));
        const RunResult r = w.run(restore_args(restore_config(w)));
        CHECK_MESSAGE(r.status == 3, show(r));
        CHECK(w.remote_log() == std::vector<std::string>{probe_command});
        CHECK(local_sends(w).empty());
        CHECK(r.err.find("tank/restore/a already exists on the source") != std::string::npos);
    }
    SUBCASE("a job without restore settings: exit 2, no connection") {
        const RunResult r = w.run(restore_args(config(w)));
        CHECK_MESSAGE(r.status == 2, show(r));
        CHECK(w.remote_log().empty());
        CHECK(r.err.find("restore_root") != std::string::npos);
    }
    SUBCASE("a dataset outside the job's target, a bad --as, an unknown job: exit 2") {
        const std::string cfg = restore_config(w);
        for (const Argv& args : {Argv{"--config", cfg, "restore", "a", "backup"},
                                 Argv{"--config", cfg, "restore", "a", "backup/a", "--as", "../x"},
                                 Argv{"--config", cfg, "restore", "b", "backup/a"},
                                 Argv{"--config", cfg, "restore", "a", "backup/a@nope"}}) {
            const RunResult r = w.run(args);
            CHECK_MESSAGE(r.status == 2, show(r));
        }
        CHECK(w.remote_log().size() <= 1); // only the probe of the missing snapshot's run
        CHECK(local_sends(w).empty());
    }
    SUBCASE("the source's receive fails: exit 1, said, no put-in-place text") {
        w.set("restore.fail", "cannot receive: out of space");
        const RunResult r = w.run(restore_args(restore_config(w)));
        CHECK_MESSAGE(r.status == 1, show(r));
        CHECK(r.err.find(
                  "the source's zfs receive failed (status 1): cannot receive: out of space") !=
              std::string::npos);
        CHECK(r.err.find("out of space") != std::string::npos);
        CHECK(r.out.find("zfs rename") == std::string::npos);
    }
    CHECK(only_reads(w));
}

TEST_CASE("restore --dry-run: probes, prints the pipeline and the commands, sends nothing") {
    World w;
    backed_up(w);
    const RunResult r = w.run(restore_args(restore_config(w), {"--dry-run"}));
    REQUIRE_MESSAGE(r.status == 0, show(r));
    CHECK(w.remote_log() == std::vector<std::string>{probe_command});
    CHECK(local_sends(w).empty());
    CHECK(r.out.find("local: " + w.zfs() + " send -L -c -e -- backup/a@s2 | remote: " +
                     receive_command + "\n") != std::string::npos);
    CHECK(r.out.find("zfs rename tank/restore/a tank/a\n") != std::string::npos);
    CHECK(w.source_snapshots("tank/restore/a").empty());
}

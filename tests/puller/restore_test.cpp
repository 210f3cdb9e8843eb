// zfs-puller restore, the pure half: restore names, the two remote commands (fed through the
// gatekeeper's own grammar and decide() under a preset "restore" identity, so the puller and the
// gatekeeper can never drift apart), the probe's answers, the plan (full, raw, resumed, refused)
// and the put-in-place text. The whole program against fake hosts is in restore_world_test.cpp.
#include <doctest/doctest.h>

#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "policy/live_checks.hpp"
#include "policy/policy_file.hpp"
#include "puller/command_line.hpp"
#include "puller/job.hpp"
#include "puller/remote_commands.hpp"
#include "puller/restore.hpp"
#include "tests/policy/nvlist_builder.hpp"

using namespace puller;

namespace {

const char* policy_text = R"(
[programs]
zfs = "/usr/sbin/zfs"

[identity.restore]
preset = "restore"
restore_root = "NIXROOT/restore"

[identity.puller]
datasets = ["NIXROOT/home"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
)";

const policy::Policy& the_policy() {
    static const policy::Policy p = [] {
        const auto r = policy::parse_policy(policy_text);
        REQUIRE_MESSAGE(r.ok(), r.error);
        return *r.policy;
    }();
    return p;
}

policy::Decision decide_as(const std::string& identity, const std::string& text) {
    const auto parsed = grammar::parse_command(text);
    REQUIRE_MESSAGE(parsed.ok(), text);
    return policy::decide(*parsed.invocation, the_policy().identities.at(identity),
                          the_policy().programs);
}

JobConfig restore_job() {
    JobConfig j;
    j.name = "home";
    j.user = "zbackup";
    j.host = "nixhost";
    j.source = "NIXROOT/home";
    j.target = "backup/nixhost/home";
    j.ssh_key = "/etc/zfs-puller/key";
    j.known_hosts = "/etc/zfs-puller/known_hosts";
    j.restore_ssh_key = "/etc/zfs-puller/restore-key";
    j.restore_root = "NIXROOT/restore";
    return j;
}

RestoreRequest request(const std::string& dataset, const std::string& snapshot = "",
                       const std::string& as = "") {
    return RestoreRequest{"home", dataset, snapshot, as};
}

Dataset local_dataset(const std::string& name, const std::string& encryption = "off") {
    Dataset d;
    d.name = name;
    d.encryption = encryption;
    d.snapshots = {Point{"zfs-puller_1", 101, 10}, Point{"manual", 102, 20},
                   Point{"zfs-puller_2", 103, 30}};
    return d;
}

ProbeAnswer absent() {
    ProbeAnswer a;
    a.state = ProbeAnswer::State::absent;
    return a;
}

std::string token(const std::string& toname, std::uint64_t toguid, bool raw,
                  std::optional<std::uint64_t> fromguid = std::nullopt) {
    policy::test::TokenSpec spec;
    spec.fromguid = fromguid;
    spec.object = 5;
    spec.offset = 4096;
    spec.bytes = 1 << 20;
    spec.toguid = toguid;
    spec.toname = toname;
    spec.largeblockok = spec.embedok = spec.compressok = !raw;
    spec.rawok = raw;
    return policy::test::kernel_token(spec);
}

ProbeAnswer partial(const std::string& t) {
    ProbeAnswer a;
    a.state = ProbeAnswer::State::partial;
    a.token = t;
    return a;
}

} // namespace

TEST_CASE("restore name: one dataset name component, nothing that moves or hides it") {
    const struct {
        const char* name;
        bool ok;
    } rows[] = {
        {"home", true},     {"home.old", true}, {"home-2024:01", true}, {"a_b", true},
        {"", false},        {".", false},       {"..", false},          {"-F", false},
        {"-home", false},   {"a/b", false},     {"../x", false},        {"home@snap", false},
        {"home#bm", false}, {"my home", false}, {"home\n", false},      {"h\xc3\xa9", false},
        {"home'x", false},  {"$(id)", false},   {"a;b", false},         {"*", false},
    };
    for (const auto& r : rows)
        CHECK_MESSAGE(check_restore_name(r.name).empty() == r.ok, r.name);
    CHECK(check_restore_name(std::string(201, 'a')) != "");
    CHECK(check_restore_name(std::string(200, 'a')) == "");
}

TEST_CASE("restore names: below the job's target, NAME from the dataset or --as") {
    const JobConfig job = restore_job();
    SUBCASE("the target itself; NAME is its last component; the original is the job's source") {
        const RestoreNames n = restore_names(job, request("backup/nixhost/home"));
        REQUIRE_MESSAGE(n.error.empty(), n.error);
        CHECK(n.dataset == "backup/nixhost/home");
        CHECK(n.remote == "NIXROOT/restore/home");
        CHECK(n.original == "NIXROOT/home");
    }
    SUBCASE("a child, with --as") {
        const RestoreNames n =
            restore_names(job, request("backup/nixhost/home/alice", "", "alice-2024"));
        REQUIRE_MESSAGE(n.error.empty(), n.error);
        CHECK(n.remote == "NIXROOT/restore/alice-2024");
        CHECK(n.original == "NIXROOT/home/alice");
    }
    SUBCASE("refused") {
        JobConfig no_restore = job;
        no_restore.restore_root.clear();
        CHECK(
            restore_names(no_restore, request("backup/nixhost/home")).error.find("restore_root") !=
            std::string::npos);
        no_restore = job;
        no_restore.restore_ssh_key.clear();
        CHECK(restore_names(no_restore, request("backup/nixhost/home"))
                  .error.find("restore_ssh_key") != std::string::npos);
        for (const char* ds :
             {"backup/nixhost/homework", "backup/nixhost", "backup/other/home", "NIXROOT/home",
              "backup/nixhost/home/../x", "backup//nixhost/home", ""})
            CHECK_MESSAGE(restore_names(job, request(ds)).error.find("is not") != std::string::npos,
                          ds);
        for (const char* as : {"..", "-F", "a/b", "x@y", "x y"})
            CHECK_MESSAGE(restore_names(job, request("backup/nixhost/home", "", as)).error != "",
                          as);
        CHECK(restore_names(job, request("backup/nixhost/home", "bad snap%"))
                  .error.find("snapshot") != std::string::npos);
        // A dataset whose last component is no restore name: --as is suggested.
        const RestoreNames spaced = restore_names(job, request("backup/nixhost/home/my docs"));
        CHECK(spaced.error.find("--as") != std::string::npos);
    }
}

TEST_CASE("the restore's remote commands are exactly what the gatekeeper's restore preset allows") {
    const Rendered probe = checked_render(restore_probe("NIXROOT/restore/home"));
    const Rendered receive = checked_render(restore_receive("NIXROOT/restore/home"));
    REQUIRE_MESSAGE(probe.ok(), probe.error);
    REQUIRE_MESSAGE(receive.ok(), receive.error);
    CHECK(*probe.text ==
          "zfs get -H -p -o name,value receive_resume_token -- NIXROOT/restore/home");
    CHECK(*receive.text ==
          "zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o "
          "devices=off -x mountpoint -- NIXROOT/restore/home");

    const policy::Decision p = decide_as("restore", *probe.text);
    CHECK_MESSAGE(p.allowed(), p.rule, ": ", p.reason());
    REQUIRE(p.run() != nullptr);
    CHECK_FALSE(p.run()->plan.at(0).stdin_from_client);

    const policy::Decision r = decide_as("restore", *receive.text);
    CHECK_MESSAGE(r.allowed(), r.rule, ": ", r.reason());
    REQUIRE(r.run() != nullptr);
    CHECK(r.run()->plan.at(0).stdin_from_client);
    CHECK(r.argv().at(0).at(0) == policy::Argv{"/usr/sbin/zfs", "receive", "-s", "-u", "-o",
                                               "readonly=on", "-o", "canmount=noauto", "-o",
                                               "setuid=off", "-o", "exec=off", "-o", "devices=off",
                                               "-x", "mountpoint", "--", "NIXROOT/restore/home"});
    // The live check the gatekeeper then runs: a free target passes, a complete one is refused,
    // an unfinished restore (listed with its token) passes.
    REQUIRE(r.run()->live_checks.size() == 1);
    const std::string root = "NIXROOT/restore\t-\n";
    CHECK(policy::confirm(r, {root}).allowed());
    CHECK_FALSE(policy::confirm(r, {root + "NIXROOT/restore/home\t-\n"}).allowed());
    const std::string t = token("backup/nixhost/home@zfs-puller_2", 103, false);
    CHECK(policy::confirm(r, {root + "NIXROOT/restore/home\t" + t + "\n"}).allowed());

    // The puller identity never receives; the restore identity receives only new direct
    // children of its restore_root.
    CHECK_FALSE(decide_as("puller", *receive.text).allowed());
    CHECK_FALSE(
        decide_as("restore", *checked_render(restore_receive("NIXROOT/home")).text).allowed());
    CHECK_FALSE(decide_as("restore", *checked_render(restore_receive("NIXROOT/restore/a/b")).text)
                    .allowed());
    CHECK_FALSE(
        decide_as("restore", *checked_render(restore_receive("NIXROOT/restore")).text).allowed());
}

TEST_CASE("the restore commands for every name restore_names() accepts pass the gatekeeper") {
    const JobConfig job = restore_job();
    for (const char* as : {"home", "home.old", "home-2024:01", "a_b", "x.y.z"}) {
        const RestoreNames n = restore_names(job, request("backup/nixhost/home", "", as));
        REQUIRE_MESSAGE(n.error.empty(), n.error);
        for (const auto& inv : {restore_probe(n.remote), restore_receive(n.remote)}) {
            const Rendered r = checked_render(inv);
            REQUIRE_MESSAGE(r.ok(), r.error);
            const policy::Decision d = decide_as("restore", *r.text);
            CHECK_MESSAGE(d.allowed(), *r.text, " -> ", d.rule, ": ", d.reason());
        }
    }
}

TEST_CASE("the probe's answer: absent, complete, unfinished, or a failure that says why") {
    const std::string ds = "NIXROOT/restore/home";
    CHECK(read_probe(1, "", "cannot open 'NIXROOT/restore/home': dataset does not exist\n", ds)
              .state == ProbeAnswer::State::absent);
    CHECK(read_probe(0, ds + "\t-\n", "", ds).state == ProbeAnswer::State::complete);
    const ProbeAnswer p = read_probe(0, ds + "\t1-abc-def-0123\n", "", ds);
    CHECK(p.state == ProbeAnswer::State::partial);
    CHECK(p.token == "1-abc-def-0123");
    const ProbeAnswer denied = read_probe(126, "", "zfs-gatekeeper: command not permitted\n", ds);
    CHECK(denied.state == ProbeAnswer::State::failed);
    CHECK(denied.error.find("command not permitted") != std::string::npos);
    CHECK(denied.error.find("preset \"restore\"") != std::string::npos);
    CHECK(read_probe(255, "", "ssh: connection closed\n", ds).state == ProbeAnswer::State::failed);
    // An answer about another dataset is no answer.
    CHECK(read_probe(0, "NIXROOT/restore/other\t-\n", "", ds).state == ProbeAnswer::State::failed);
    CHECK(read_probe(1, "", "permission denied\n", ds).state == ProbeAnswer::State::failed);
}

TEST_CASE("the plan: a full send of the newest snapshot, raw for an encrypted backup") {
    const JobConfig job = restore_job();
    const RestoreNames n = restore_names(job, request("backup/nixhost/home"));
    SUBCASE("plain: as the pulls send, never -p or -R") {
        const RestorePlan p = plan_restore(job, request("backup/nixhost/home"), n,
                                           local_dataset("backup/nixhost/home"), absent());
        REQUIRE_MESSAGE(p.exit_code == 0, p.error);
        CHECK(p.snapshot == "backup/nixhost/home@zfs-puller_2");
        CHECK_FALSE(p.raw);
        CHECK_FALSE(p.resume);
        CHECK(p.send == Argv{"/usr/sbin/zfs", "send", "-L", "-c", "-e", "--",
                             "backup/nixhost/home@zfs-puller_2"});
        CHECK(p.estimate == Argv{"/usr/sbin/zfs", "send", "-n", "-v", "-P", "-L", "-c", "-e", "--",
                                 "backup/nixhost/home@zfs-puller_2"});
    }
    SUBCASE("encrypted: raw") {
        const RestorePlan p =
            plan_restore(job, request("backup/nixhost/home"), n,
                         local_dataset("backup/nixhost/home", "aes-256-gcm"), absent());
        REQUIRE_MESSAGE(p.exit_code == 0, p.error);
        CHECK(p.raw);
        CHECK(p.send ==
              Argv{"/usr/sbin/zfs", "send", "-w", "--", "backup/nixhost/home@zfs-puller_2"});
    }
    SUBCASE("a named snapshot") {
        const RestorePlan p = plan_restore(job, request("backup/nixhost/home", "manual"), n,
                                           local_dataset("backup/nixhost/home"), absent());
        REQUIRE_MESSAGE(p.exit_code == 0, p.error);
        CHECK(p.send.back() == "backup/nixhost/home@manual");
    }
    SUBCASE("refused before anything is sent") {
        const RestorePlan missing = plan_restore(job, request("backup/nixhost/home", "gone"), n,
                                                 local_dataset("backup/nixhost/home"), absent());
        CHECK(missing.exit_code == exit_usage);
        CHECK(missing.send.empty());
        Dataset none = local_dataset("backup/nixhost/home");
        none.snapshots.clear();
        CHECK(plan_restore(job, request("backup/nixhost/home"), n, none, absent()).exit_code ==
              exit_usage);
        Dataset volume = local_dataset("backup/nixhost/home");
        volume.kind = DatasetKind::volume;
        CHECK(plan_restore(job, request("backup/nixhost/home"), n, volume, absent()).exit_code ==
              exit_usage);
        ProbeAnswer complete;
        complete.state = ProbeAnswer::State::complete;
        const RestorePlan exists = plan_restore(job, request("backup/nixhost/home"), n,
                                                local_dataset("backup/nixhost/home"), complete);
        CHECK(exists.exit_code == exit_refused);
        CHECK(exists.error.find("already exists") != std::string::npos);
        ProbeAnswer failed;
        failed.error = "no answer";
        CHECK(plan_restore(job, request("backup/nixhost/home"), n,
                           local_dataset("backup/nixhost/home"), failed)
                  .exit_code == exit_job_failed);
    }
}

TEST_CASE("the plan: an unfinished restore is resumed with the source's token, and only its own") {
    const JobConfig job = restore_job();
    const RestoreNames n = restore_names(job, request("backup/nixhost/home"));
    const Dataset local = local_dataset("backup/nixhost/home");
    SUBCASE("the token of an older snapshot of this dataset: resumed (the default snapshot)") {
        const std::string t = token("backup/nixhost/home@manual", 102, false);
        const RestorePlan p =
            plan_restore(job, request("backup/nixhost/home"), n, local, partial(t));
        REQUIRE_MESSAGE(p.exit_code == 0, p.error);
        CHECK(p.resume);
        CHECK_FALSE(p.raw);
        CHECK(p.snapshot == "backup/nixhost/home@manual");
        CHECK(p.send == Argv{"/usr/sbin/zfs", "send", "-t", t});
        CHECK(p.estimate == Argv{"/usr/sbin/zfs", "send", "-n", "-v", "-P", "-t", t});
        CHECK(p.note.find("resuming") != std::string::npos);
    }
    SUBCASE("a raw token: the restore is raw") {
        const RestorePlan p =
            plan_restore(job, request("backup/nixhost/home", "zfs-puller_2"), n, local,
                         partial(token("backup/nixhost/home@zfs-puller_2", 103, true)));
        REQUIRE_MESSAGE(p.exit_code == 0, p.error);
        CHECK(p.resume);
        CHECK(p.raw);
    }
    SUBCASE("refused") {
        // Another snapshot than the one asked for.
        const RestorePlan other =
            plan_restore(job, request("backup/nixhost/home", "zfs-puller_2"), n, local,
                         partial(token("backup/nixhost/home@manual", 102, false)));
        CHECK(other.exit_code == exit_refused);
        CHECK(other.error.find("zfs-puller restore home backup/nixhost/home@manual") !=
              std::string::npos);
        // Another dataset, a guid that is not the local snapshot's, an incremental stream,
        // a token that does not decode.
        for (const std::string& t : {token("backup/nixhost/other@manual", 102, false),
                                     token("backup/nixhost/home@manual", 999, false),
                                     token("backup/nixhost/home@gone", 102, false),
                                     token("backup/nixhost/home@manual", 102, false, 101)}) {
            const RestorePlan p =
                plan_restore(job, request("backup/nixhost/home"), n, local, partial(t));
            CHECK(p.exit_code == exit_refused);
            CHECK(p.send.empty());
            CHECK(p.error.find("zfs destroy NIXROOT/restore/home") != std::string::npos);
        }
        CHECK(plan_restore(job, request("backup/nixhost/home"), n, local, partial("1-00-00-00"))
                  .exit_code == exit_job_failed);
    }
}

namespace {

std::vector<std::string> commands_in(const std::string& text) {
    std::vector<std::string> out;
    std::size_t pos = 0;
    while (pos < text.size()) {
        const auto nl = text.find('\n', pos);
        const std::string line = text.substr(pos, nl - pos);
        pos = nl == std::string::npos ? text.size() : nl + 1;
        if (!line.empty() && line[0] != '#') out.push_back(line);
    }
    return out;
}

} // namespace

TEST_CASE("the put-in-place text: the commands in order, every one for a person to run") {
    const JobConfig job = restore_job();
    const RestoreNames n = restore_names(job, request("backup/nixhost/home"));
    RestorePlan plan;
    plan.snapshot = "backup/nixhost/home@zfs-puller_2";
    const std::string plain = put_in_place_text(n, plan, "nixhost");
    CHECK(commands_in(plain) == std::vector<std::string>{
                                    "zfs rename NIXROOT/restore/home NIXROOT/home",
                                    "zfs inherit readonly NIXROOT/home",
                                    "zfs inherit setuid NIXROOT/home",
                                    "zfs inherit exec NIXROOT/home",
                                    "zfs inherit devices NIXROOT/home",
                                    "zfs set canmount=on NIXROOT/home",
                                    "zfs mount NIXROOT/home",
                                });
    // Moving an existing original aside and a mountpoint of its own are for the person to
    // decide: shown, commented out.
    CHECK(plain.find("#   zfs rename NIXROOT/home NIXROOT/home.before-restore\n") !=
          std::string::npos);
    CHECK(plain.find("#   zfs set mountpoint=/PATH NIXROOT/home\n") != std::string::npos);
    CHECK(plain.find("load-key") == std::string::npos);

    plan.raw = true;
    const auto raw = commands_in(put_in_place_text(n, plan, "nixhost"));
    REQUIRE(raw.size() == 8);
    CHECK(raw.front() == "zfs load-key NIXROOT/restore/home");
    CHECK(raw.back() == "zfs mount NIXROOT/home");

    // A name with a space (the original's) is quoted for the shell.
    RestoreNames spaced = n;
    spaced.original = "NIXROOT/my home";
    CHECK(commands_in(put_in_place_text(spaced, plan, "nixhost")).at(1) ==
          "zfs rename NIXROOT/restore/home 'NIXROOT/my home'");
}

TEST_CASE("command line: restore JOB DATASET[@SNAPSHOT] [--as NAME]") {
    const auto ok = parse_cli({"--config", "/etc/zp.toml", "restore", "home",
                               "backup/nixhost/home@manual", "--as", "home-old", "--dry-run"});
    REQUIRE_MESSAGE(ok.ok(), ok.error);
    CHECK(ok.options->mode == Options::Mode::restore);
    CHECK(ok.options->restore ==
          RestoreRequest{"home", "backup/nixhost/home", "manual", "home-old"});
    CHECK(ok.options->dry_run);
    const auto plain = parse_cli({"restore", "home", "backup/nixhost/home"});
    REQUIRE(plain.ok());
    CHECK(plain.options->restore == RestoreRequest{"home", "backup/nixhost/home", "", ""});

    for (const std::vector<std::string>& bad : {std::vector<std::string>{"restore", "home"},
                                                {"restore", "home", "a", "b"},
                                                {"restore", "home", "backup/x@"},
                                                {"restore", "home", "backup/x", "--force-rollback"},
                                                {"restore", "home", "backup/x", "--job", "home"},
                                                {"restore", "home", "backup/x", "--ssh-key", "/k"},
                                                {"restore", "home", "backup/x", "--check"},
                                                {"restore", "home", "backup/x", "--as"},
                                                {"--as", "x"}})
        CHECK_FALSE_MESSAGE(parse_cli(bad).ok(), bad.size());
}

TEST_CASE("configuration: the restore keys, checked") {
    const char* base = R"(
[defaults]
ssh_key = "/k"
known_hosts = "/kh"
restore_ssh_key = "/etc/zfs-puller/restore-key"

[job.home]
source = "zbackup@nixhost:NIXROOT/home"
target = "backup/home"
)";
    const auto c = parse_config(std::string(base) + "restore_root = \"NIXROOT/restore\"\n" +
                                "restore_user = \"zrestore\"\n");
    REQUIRE_MESSAGE(c.ok(), c.error);
    const JobConfig& j = c.config->jobs.at(0);
    CHECK(j.restore_ssh_key == "/etc/zfs-puller/restore-key");
    CHECK(j.restore_root == "NIXROOT/restore");
    CHECK(j.restore_user == "zrestore");
    CHECK(parse_config(base).ok()); // a job without restore_root is a job without restore
    for (const char* bad : {"restore_root = \"NIXROOT\"\n", "restore_root = \"a/../b\"\n",
                            "restore_user = \"-x\"\n", "restore_ssh_key = \"rel/key\"\n"})
        CHECK_FALSE_MESSAGE(parse_config(std::string(base) + bad).ok(), bad);
}

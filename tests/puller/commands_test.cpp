// Every remote command the puller can emit goes through the gatekeeper's grammar unchanged and is
// allowed by decide() for a `preset = "puller"` identity; the same identity is denied syncoid's
// extra vocabulary (probes, builtins, sudo, zpool, per-dataset gets, pipelines it does not use).
#include <doctest/doctest.h>

#include <algorithm>

#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "policy/policy_file.hpp"
#include "puller/local_commands.hpp"
#include "puller/remote_commands.hpp"
#include "puller/retention.hpp"
#include "tests/policy/nvlist_builder.hpp"
#include "tests/puller/listing.hpp"
#include "tests/support.hpp"

using namespace puller;
using namespace puller_test;

namespace {

const char* policy_text = R"(
[programs]
zfs = "/usr/sbin/zfs"
zpool = "/usr/sbin/zpool"
lzop = "/usr/bin/lzop"
mbuffer = "/usr/bin/mbuffer"

[identity.puller]
datasets = ["NIXROOT/home"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
allow_destroy = true

[identity.puller-raw]
datasets = ["NIXROOT/home"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
allow_destroy = true
raw_only = true

[identity.corpus]
datasets = ["tank/data", "tank"]
preset = "puller"
snapshot_prefix = "syncoid_"
allow_destroy = true
tools = ["lzop", "mbuffer"]
)";

const policy::Policy& the_policy() {
    static const policy::Policy p = [] {
        const auto r = policy::parse_policy(policy_text);
        REQUIRE_MESSAGE(r.ok(), r.error);
        return *r.policy;
    }();
    return p;
}

const std::string SYNC = "zfs-puller_20240102T030405Z";

// Render, self-check, then parse and decide as the gatekeeper would.
void check_allowed(const grammar::Invocation& inv, const std::string& identity = "puller") {
    const Rendered r = checked_render(inv);
    REQUIRE_MESSAGE(r.ok(), r.error);
    const auto parsed = grammar::parse_command(*r.text);
    REQUIRE_MESSAGE(parsed.ok(), *r.text);
    const policy::Decision d = policy::decide(
        *parsed.invocation, the_policy().identities.at(identity), the_policy().programs);
    CHECK_MESSAGE(d.allowed(), *r.text, " -> ", d.rule, ": ", d.reason());
    CHECK(d.argv().at(0).at(0).at(0) == "/usr/sbin/zfs");
}

std::vector<grammar::Invocation> commands_of(const JobPlan& plan, const Inventory& src,
                                             const PlanOptions& o) {
    std::vector<grammar::Invocation> out{list_inventory(o.source_root)};
    std::vector<std::string> snaps, held, released;
    for (const auto& p : plan.datasets) {
        if (p.sync_snapshot) snaps.push_back(p.source + "@" + o.sync_snapshot);
        for (const auto& s : p.sends) {
            out.push_back(send(s, false));
            out.push_back(send(s, true));
        }
        if (!p.newest.empty()) {
            held.push_back(p.source + "@" + p.newest);
            out.push_back(bookmark(p.source + "@" + p.newest, p.source + "#" + p.newest));
        }
        if (!p.previous_common.empty()) released.push_back(p.source + "@" + p.previous_common);
        if (const auto it = src.find(p.source); it != src.end())
            for (const auto& chain : destroy_chains(source_prune(p, it->second, o, 1, {})))
                out.push_back(destroy_chain(p.source, chain));
    }
    for (const auto& batch : snapshot_batches(snaps))
        out.push_back(snapshot_all(batch));
    for (const auto& batch : snapshot_batches(held))
        out.push_back(hold(hold_tag(o.prefix), batch));
    for (const auto& batch : snapshot_batches(released))
        out.push_back(release(hold_tag(o.prefix), batch));
    return out;
}

std::string token_for(std::uint64_t toguid, const std::string& toname, bool raw) {
    policy::test::TokenSpec spec;
    spec.fromguid = 11;
    spec.object = 5;
    spec.offset = 4096;
    spec.bytes = 1 << 20;
    spec.toguid = toguid;
    spec.toname = toname;
    spec.largeblockok = spec.embedok = spec.compressok = !raw;
    spec.rawok = raw;
    return policy::test::kernel_token(spec);
}

} // namespace

TEST_CASE("every command of every plan shape parses back equal and is allowed for preset puller") {
    const std::string root = "NIXROOT/home";
    std::string src_text = fs(root, 1, 2, 100) + snap(root + "@zfs-puller_1", 11, 10) +
                           snap(root + "@auto 1", 12, 20) + snap(root + "@zfs-puller_2", 13, 30);
    // A child with a space in its name, a clone, a volume, an encrypted child, a bookmark-only
    // base.
    src_text += fs(root + "/my data", 2, 3, 100) + snap(root + "/my data@zfs-puller_1", 21, 10);
    src_text +=
        fs(root + "/clone", 3, 40, 100, root + "@auto 1") + snap(root + "/clone@c1", 31, 41);
    src_text += vol(root + "/vol", 4, 5, 100) + snap(root + "/vol@zfs-puller_1", 41, 11);
    src_text += row(root + "/enc", "filesystem", 5, 6, "-", "aes-256-gcm", "100") +
                snap(root + "/enc@zfs-puller_1", 51, 12);
    src_text += fs(root + "/bm", 6, 7, 100) + bm(root + "/bm#zfs-puller_0", 60, 8) +
                snap(root + "/bm@zfs-puller_1", 61, 13);
    for (int i = 0; i < 14; ++i)
        src_text += snap(root + "/vol@zfs-puller_x" + std::to_string(100 + i), 400 + i, 50 + i);
    const Inventory src = inventory(src_text);

    PlanOptions o;
    o.source_root = root;
    o.target_root = "backup/home";
    o.recursive = true;
    o.sync_snapshot = SYNC;

    SUBCASE("first pull (full, clone-aware)") {
        const JobPlan plan = make_plan(src, {}, o);
        REQUIRE(plan.ok());
        for (const auto& inv : commands_of(plan, src, o))
            check_allowed(inv);
    }
    SUBCASE("incremental, from bookmark, with resume tokens, raw") {
        Inventory dst = inventory(
            fs("backup/home", 90, 1) + snap("backup/home@zfs-puller_1", 11, 2) +
            fs("backup/home/my data", 91, 1) + snap("backup/home/my data@zfs-puller_1", 21, 2) +
            fs("backup/home/bm", 92, 1) + snap("backup/home/bm@zfs-puller_0", 60, 2) +
            fs("backup/home/vol", 93, 1) + snap("backup/home/vol@zfs-puller_1", 41, 2) +
            fs("backup/home/enc", 94, 1) + snap("backup/home/enc@zfs-puller_1", 51, 2));
        dst.at("backup/home").resume_token = token_for(12, root + "@auto 1", false);
        dst.at("backup/home/enc").resume_token = token_for(51, root + "/enc@zfs-puller_1", true);
        dst.at("backup/home/enc").snapshots.clear();
        const JobPlan plan = make_plan(src, dst, o);
        REQUIRE(plan.ok());
        bool saw_bookmark = false, saw_resume = false;
        for (const auto& p : plan.datasets)
            for (const auto& s : p.sends) {
                saw_bookmark = saw_bookmark || s.from.find('#') != std::string::npos;
                saw_resume = saw_resume || s.kind == Send::Kind::resume;
            }
        CHECK(saw_bookmark);
        CHECK(saw_resume);
        for (const auto& inv : commands_of(plan, src, o))
            check_allowed(inv);
    }
    SUBCASE("raw = true satisfies a raw_only identity") {
        o.raw = true;
        const JobPlan plan = make_plan(src, {}, o);
        for (const auto& p : plan.datasets)
            for (const auto& s : p.sends)
                check_allowed(send(s, false), "puller-raw");
    }
}

TEST_CASE("the self-check rejects what the grammar would read differently") {
    // A snapshot name the grammar refuses (a `%`), a destroy chain over two datasets, a hold tag
    // that starts with '-': each is an internal error, never sent.
    CHECK_FALSE(checked_render(snapshot_all({"NIXROOT/home@a%b"})).ok());
    grammar::Invocation two = destroy_chain("NIXROOT/home", {"zfs-puller_1"});
    two.pipelines.push_back(destroy_chain("NIXROOT/other", {"zfs-puller_1"}).pipelines.front());
    CHECK_FALSE(checked_render(two).ok());
    CHECK_FALSE(checked_render(hold("-x", {"NIXROOT/home@zfs-puller_1"})).ok());
    Send bad;
    bad.kind = Send::Kind::full;
    bad.flags = "cL"; // not in canonical order: the grammar reorders it, so == fails
    bad.to = "NIXROOT/home@zfs-puller_1";
    const Rendered r = checked_render(send(bad, false));
    CHECK_FALSE(r.ok());
    CHECK(r.error.find("differently") != std::string::npos);
    CHECK_FALSE(
        checked_render(destroy_chain("NIXROOT/home", std::vector<std::string>(12, "zfs-puller_1")))
            .ok());
    CHECK(
        checked_render(destroy_chain("NIXROOT/home", std::vector<std::string>(11, "zfs-puller_1")))
            .ok());
}

TEST_CASE("rendered text of the main commands") {
    CHECK(*checked_render(list_inventory("NIXROOT/home")).text ==
          "zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- "
          "NIXROOT/home");
    CHECK(*checked_render(snapshot_all({"NIXROOT/home@" + SYNC, "NIXROOT/home/my data@" + SYNC}))
               .text ==
          "zfs snapshot -- NIXROOT/home@" + SYNC + " 'NIXROOT/home/my data@" + SYNC + "'");
    CHECK(*checked_render(hold("zfs-puller_keep", {"NIXROOT/home@" + SYNC})).text ==
          "zfs hold -- zfs-puller_keep NIXROOT/home@" + SYNC);
    CHECK(*checked_render(
               hold("zfs-puller_keep", {"NIXROOT/home@" + SYNC, "NIXROOT/home/my data@" + SYNC}))
               .text == "zfs hold -- zfs-puller_keep NIXROOT/home@" + SYNC +
                            " 'NIXROOT/home/my data@" + SYNC + "'");
    CHECK(
        *checked_render(release("zfs-puller_keep", {"NIXROOT/home@a", "NIXROOT/home/c@a"})).text ==
        "zfs release -- zfs-puller_keep NIXROOT/home@a NIXROOT/home/c@a");
    CHECK(*checked_render(destroy_chain("NIXROOT/home", {"zfs-puller_1", "zfs-puller_2"})).text ==
          "zfs destroy -- NIXROOT/home@zfs-puller_1; zfs destroy -- NIXROOT/home@zfs-puller_2");
    Send s;
    s.kind = Send::Kind::incremental;
    s.intermediates = true;
    s.flags = "Lce";
    s.from = "NIXROOT/home@a";
    s.to = "NIXROOT/home@b";
    CHECK(*checked_render(send(s, false)).text ==
          "zfs send -L -c -e -I NIXROOT/home@a -- NIXROOT/home@b");
    CHECK(*checked_render(send(s, true)).text ==
          "zfs send -L -c -e -nvP -I NIXROOT/home@a -- NIXROOT/home@b");
}

TEST_CASE("the puller identity denies syncoid's extra vocabulary") {
    const auto& id = the_policy().identities.at("corpus");
    unsigned denied = 0;
    for (const auto& line : test_support::accept_corpus()) {
        const std::string& c = line.command;
        const std::string trimmed = c.substr(c.find_first_not_of(' '));
        const bool extra = trimmed.starts_with("exit") || trimmed.starts_with("echo -n") ||
                           trimmed.starts_with("command -v") || trimmed.starts_with("zpool ") ||
                           trimmed.starts_with("sudo ") || trimmed.starts_with("zfs get ") ||
                           trimmed.starts_with("zfs list -o name,origin");
        if (!extra) continue;
        const auto parsed = grammar::parse_command(c);
        REQUIRE_MESSAGE(parsed.ok(), c);
        const policy::Decision d = policy::decide(*parsed.invocation, id, the_policy().programs);
        CHECK_MESSAGE(!d.allowed(), line.label, ": ", c);
        CHECK_MESSAGE(d.rule == "preset", c, " -> ", d.rule);
        ++denied;
    }
    CHECK(denied > 50);
    // The exact probes named in the brief.
    for (const char* c : {"exit", "echo -n", "command -v lzop",
                          "zpool get -o value -H feature@extensible_dataset 'tank'",
                          "sudo zfs send -- tank/data@syncoid_1",
                          "zfs get -Hpd 1 -t snapshot guid,creation 'tank/data'"}) {
        const auto parsed = grammar::parse_command(c);
        REQUIRE_MESSAGE(parsed.ok(), c);
        CHECK_FALSE(policy::decide(*parsed.invocation, id, the_policy().programs).allowed());
    }
}

TEST_CASE("estimate parsing reads the last size line") {
    CHECK(parse_estimate("full\ttank/a@s1\t12345\nsize\t12345\n") == 12345u);
    CHECK(parse_estimate(
              "incremental\ts1\ttank/a@s2\t10\nincremental\ts2\ttank/a@s3\t20\nsize\t30\n") == 30u);
    CHECK_FALSE(parse_estimate("nothing here\n"));
    CHECK_FALSE(parse_estimate("size\t12x\n"));
}

TEST_CASE("local receive is hardened; -F only when forced") {
    const Argv fsr = receive_argv("/usr/sbin/zfs", "backup/a", DatasetKind::filesystem, false);
    CHECK(fsr == Argv{"/usr/sbin/zfs",
                      "receive",
                      "-s",
                      "-u",
                      "-x",
                      "mountpoint",
                      "-o",
                      "readonly=on",
                      "-o",
                      "canmount=noauto",
                      "-o",
                      "setuid=off",
                      "-o",
                      "exec=off",
                      "-o",
                      "devices=off",
                      "-o",
                      "sharenfs=off",
                      "-o",
                      "sharesmb=off",
                      "--",
                      "backup/a"});
    const Argv volr = receive_argv("/usr/sbin/zfs", "backup/v", DatasetKind::volume, true);
    CHECK(volr == Argv{"/usr/sbin/zfs", "receive", "-s", "-u", "-o", "volmode=none", "-o",
                       "readonly=on", "-F", "--", "backup/v"});
    CHECK(std::find(fsr.begin(), fsr.end(), "-F") == fsr.end());
}

TEST_CASE("local listing, markers and rollback check argv") {
    CHECK(target_listing_argv("/z", "b/a") ==
          Argv{"/z", "list", "-H", "-p", "-r", "-t", "all", "-o",
               "name,type,guid,createtxg,origin,encryption,written,creation", "--", "b/a"});
    CHECK(markers_argv("/z", "b/a") == Argv{"/z", "get", "-H", "-p", "-r", "-t", "snapshot", "-s",
                                            "local", "-o", "name,value", "zfs-puller:received",
                                            "--", "b/a"});
    CHECK(mark_argv("/z", 17, {"b/a@x", "b/a@y"}) ==
          Argv{"/z", "set", "zfs-puller:received=17", "b/a@x", "b/a@y"});
    CHECK(snapshots_argv("/z", "b/a") == Argv{"/z", "list", "-H", "-p", "-d", "1", "-t", "snapshot",
                                              "-o", "name,guid,createtxg", "--", "b/a"});
}

TEST_CASE("failed operands of a hold or release batch") {
    const std::vector<std::string> batch{"tank/a@zp_2", "tank/a/b@zp_2", "tank/c@zp_2"};
    SUBCASE("zfs names the snapshot, or the dataset it could not open") {
        const std::string err =
            "cannot hold snapshot 'tank/a/b@zp_2': tag already exists on this dataset\n"
            "cannot open 'tank/c': dataset does not exist\n";
        const auto f = failed_operands(err, batch);
        REQUIRE(f.size() == 2);
        CHECK(f[0] ==
              FailedOperand{
                  "tank/a/b@zp_2",
                  "cannot hold snapshot 'tank/a/b@zp_2': tag already exists on this dataset"});
        CHECK(f[1] == FailedOperand{"tank/c@zp_2", "cannot open 'tank/c': dataset does not exist"});
    }
    SUBCASE("a dataset is matched whole, not as a prefix of a longer name") {
        const auto f = failed_operands(
            "cannot release hold from snapshot 'tank/a/b@zp_2': no such tag on this dataset\n",
            batch);
        REQUIRE(f.size() == 1);
        CHECK(f[0].name == "tank/a/b@zp_2");
    }
    SUBCASE("nothing named: every operand counts as failed, with the last line") {
        const auto f = failed_operands("permission denied\nsomething went wrong\n\n", batch);
        REQUIRE(f.size() == 3);
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(f[i] == FailedOperand{batch[i], "something went wrong"});
    }
}

// zfs-puller configuration file and command line: strict keys, defaults, validation; progress
// and message text.
#include <doctest/doctest.h>

#include "puller/command_line.hpp"
#include "puller/config.hpp"
#include "puller/messages.hpp"
#include "puller/progress.hpp"

using namespace puller;

namespace {

const char* good = R"(
[defaults]
ssh_key = "/etc/zfs-puller/id_ed25519"
known_hosts = "/etc/zfs-puller/known_hosts"
keep_target = 60

[job.home]
source = "zfs-backup@nas.example.org:tank/home"
target = "backup/nas/home"
recursive = true
port = 2222

[job.vm]
source = "zb@[fd00::1]:tank/vm"
target = "backup/vm"
raw = true
prefix = "pl-vm_"
keep_source = 0
force_rollback = true
hold = false
bookmark = true
always_snapshot = true
zfs = "/sbin/zfs"
ssh = "/usr/local/bin/ssh"
runtime_dir = "/run/zfs-puller"
)";

} // namespace

TEST_CASE("config: jobs inherit [defaults] and override per key") {
    const ConfigResult r = parse_config(good);
    REQUIRE_MESSAGE(r.ok(), r.error);
    REQUIRE(r.config->jobs.size() == 2);
    const JobConfig& home = r.config->jobs[0];
    CHECK(home.name == "home");
    CHECK(home.user == "zfs-backup");
    CHECK(home.host == "nas.example.org");
    CHECK(home.source == "tank/home");
    CHECK(home.target == "backup/nas/home");
    CHECK(home.port == 2222);
    CHECK(home.recursive);
    CHECK_FALSE(home.raw);
    CHECK(home.prefix == "zfs-puller_");
    CHECK(home.keep_source == 3);
    CHECK(home.keep_target == 60);
    CHECK_FALSE(home.force_rollback);
    CHECK(home.hold);
    CHECK(home.zfs == "/usr/sbin/zfs");
    CHECK(home.ssh == "/usr/bin/ssh");
    const JobConfig& vm = r.config->jobs[1];
    CHECK(vm.host == "fd00::1");
    CHECK(vm.raw);
    CHECK(vm.prefix == "pl-vm_");
    CHECK(vm.keep_source == 0);
    CHECK(vm.force_rollback);
    CHECK_FALSE(vm.hold);
    CHECK(vm.bookmark);
    CHECK(vm.always_snapshot);
    CHECK(vm.zfs == "/sbin/zfs");
    CHECK(vm.runtime_dir == "/run/zfs-puller");
}

TEST_CASE("config: [programs] as the NixOS module writes it") {
    const ConfigResult r = parse_config(R"(
[programs]
ssh = "/nix/store/abc-openssh/bin/ssh"
zfs = "/run/booted-system/sw/bin/zfs"

[job.optinix-home]
source = "zfs-backup@optinix:NIXROOT/home"
target = "b/optinix-home"
ssh_key = "/var/lib/zfs-puller/id_ed25519"
known_hosts = "/var/lib/zfs-puller/known_hosts"
recursive = true
raw = false
)");
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.config->jobs.at(0).ssh == "/nix/store/abc-openssh/bin/ssh");
    CHECK(r.config->jobs.at(0).zfs == "/run/booted-system/sw/bin/zfs");
}

TEST_CASE("config: errors name the problem") {
    const std::string base = "[defaults]\nssh_key = \"/k\"\nknown_hosts = \"/kh\"\n";
    struct Row {
        std::string text, fragment;
    };
    const Row rows[] = {
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nstrict_host_key_checking = "
                "false\n",
         "unknown key 'strict_host_key_checking'"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nrecursiv = true\n",
         "unknown key 'recursiv'"},
        {base + "[jobs.a]\n", "unknown table or key 'jobs'"},
        {base, "no [job.NAME]"},
        {base + "[job.a]\ntarget = \"b/a\"\n", "source"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\n", "target"},
        {"[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nssh_key = \"/k\"\n",
         "known_hosts is required"},
        {base + "[job.a]\nsource = \"tank/a\"\ntarget = \"b/a\"\n", "user@host"},
        {base + "[job.a]\nsource = \"u@-oProxyCommand=x:tank/a\"\ntarget = \"b/a\"\n",
         "not a valid host"},
        {base + "[job.a]\nsource = \"-u@h:tank/a\"\ntarget = \"b/a\"\n", "not a valid user"},
        {base + "[job.a]\nsource = \"u@h:tank/a%b\"\ntarget = \"b/a\"\n", "not a valid dataset"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/../a\"\n", "not a valid dataset"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nprefix = \"_x\"\n", "prefix"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nport = 0\n",
         "between 1 and 65535"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nkeep_source = -1\n",
         "digits 0-9 only"},
        // Outside the TOML subset (policy/toml_subset.hpp, integers allowed here): refused
        // before toml++ parses, with a line number.
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nport = 0x16\n",
         "line 7: an integer is written"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nport = 2_222\n",
         "an integer is written"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nport = 22.0\n",
         "an integer is written"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nport = 1979-05-27\n",
         "an integer is written"},
        {base + "[job.a]\nsource = { host = \"h\" }\n", "line 5: '{' and '}' are not allowed"},
        {base + "[[job]]\n", "arrays of tables"},
        {base + "# caf\xC3\xA9\n", "line 4: the file must be ASCII"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nraw = \"yes\"\n",
         "true or false"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nssh_key = \"relative/key\"\n",
         "ssh_key must be an absolute path"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nknown_hosts = \"/a b\"\n",
         "known_hosts must be"},
        {base + "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\nzfs = \"/a/../zfs\"\n",
         "zfs must be"},
        {"[defaults]\nsource = \"u@h:tank/a\"\n", "belongs in a [job.NAME]"},
        {base + "[job.'a b']\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\n", "job name"},
        {"[job.a\n", "line 1"},
        {"[programs]\nzpool = \"/sbin/zpool\"\n" + base.substr(0) +
             "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\n",
         "unknown program 'zpool'"},
        {"[programs]\nssh = \"ssh\"\n" + base +
             "[job.a]\nsource = \"u@h:tank/a\"\ntarget = \"b/a\"\n",
         "ssh must be"},
    };
    for (const auto& row : rows) {
        const ConfigResult r = parse_config(row.text);
        CHECK_FALSE(r.ok());
        CHECK_MESSAGE(r.error.find(row.fragment) != std::string::npos, row.fragment,
                      " not in: ", r.error);
    }
}

TEST_CASE("cli: pull mode") {
    const CliResult r = parse_cli({"pull",
                                   "zb@nas:tank/home",
                                   "backup/home",
                                   "--ssh-key",
                                   "/k",
                                   "--known-hosts=/kh",
                                   "--port",
                                   "2200",
                                   "--recursive",
                                   "--raw",
                                   "--prefix",
                                   "pl_",
                                   "--keep-source",
                                   "5",
                                   "--keep-target=0",
                                   "--force-rollback",
                                   "--no-hold",
                                   "--dry-run",
                                   "--progress",
                                   "json"});
    REQUIRE_MESSAGE(r.ok(), r.error);
    const Options& o = *r.options;
    CHECK(o.mode == Options::Mode::pull);
    CHECK(o.pull.user == "zb");
    CHECK(o.pull.host == "nas");
    CHECK(o.pull.source == "tank/home");
    CHECK(o.pull.target == "backup/home");
    CHECK(o.pull.known_hosts == "/kh");
    CHECK(o.pull.port == 2200);
    CHECK(o.pull.recursive);
    CHECK(o.pull.raw);
    CHECK(o.pull.prefix == "pl_");
    CHECK(o.pull.keep_source == 5);
    CHECK(o.pull.keep_target == 0);
    CHECK(o.pull.force_rollback);
    CHECK_FALSE(o.pull.hold);
    CHECK(o.dry_run);
    CHECK(o.progress == ProgressMode::json);
}

TEST_CASE("cli: run mode, check, help and errors") {
    CliResult r = parse_cli({});
    REQUIRE(r.ok());
    CHECK(r.options->mode == Options::Mode::run);
    CHECK(r.options->config_path == "/etc/zfs-puller/config.toml");
    r = parse_cli({"--config", "/c.toml", "--job", "a", "--job=b", "--force-rollback"});
    REQUIRE(r.ok());
    CHECK(r.options->jobs == std::vector<std::string>{"a", "b"});
    CHECK(r.options->force_rollback);
    CHECK(parse_cli({"--check"}).options->mode == Options::Mode::check);
    CHECK(parse_cli({"--help"}).options->mode == Options::Mode::help);
    CHECK(parse_cli({"--version"}).options->mode == Options::Mode::version);

    const std::pair<std::vector<std::string>, std::string> bad[] = {
        {{"--frobnicate"}, "unknown option"},
        {{"pull", "zb@nas:tank/a"}, "SOURCE and TARGET"},
        {{"pull", "zb@nas:tank/a", "b/a", "--ssh-key", "/k"}, "known_hosts is required"},
        {{"pull", "nas:tank/a", "b/a", "--ssh-key", "/k", "--known-hosts", "/kh"}, "user@host"},
        {{"--ssh-key", "/k"}, "only apply to `pull`"},
        {{"--port", "99999", "pull", "a@b:c/d", "e/f"}, "--port"},
        {{"--job"}, "--job needs"},
        {{"frob"}, "unexpected argument"},
        {{"--progress", "fancy"}, "--progress must be"},
        {{"--dry-run=yes"}, "unknown option"},
    };
    for (const auto& [args, fragment] : bad) {
        const CliResult e = parse_cli(args);
        CHECK_FALSE(e.ok());
        CHECK_MESSAGE(e.error.find(fragment) != std::string::npos, fragment, " not in: ", e.error);
    }
}

TEST_CASE("progress text") {
    CHECK(human_bytes(512) == "512 B");
    CHECK(human_bytes(1536) == "1.5 KiB");
    CHECK(human_bytes(3ULL << 30) == "3.0 GiB");
    CHECK(human_duration(5) == "5s");
    CHECK(human_duration(185) == "3m05s");
    CHECK(human_duration(3720) == "1h02m");
    const std::string bar = progress_bar_line("tank/a", 50 << 20, 100 << 20, 10, 10);
    CHECK(bar.find("[#####     ]") != std::string::npos);
    CHECK(bar.find("50%") != std::string::npos);
    CHECK(bar.find("ETA 10s") != std::string::npos);
    const std::string j = progress_json_line("job", "tank/a", 100, 400, 2);
    CHECK(
        j ==
        R"({"event":"progress","job":"job","dataset":"tank/a","bytes":100,"estimate":400,"seconds":2.0,"rate":50,"eta":6})");
}

TEST_CASE("messages: text from outside is escaped") {
    CHECK(escaped("cannot open 'tank/a': dataset does not exist") ==
          "cannot open 'tank/a': dataset does not exist");
    CHECK(escaped("\x1b]0;owned\x07") == "\\x1b]0;owned\\x07");
    CHECK(escaped("a\r\nb\tc") == "a\\x0d\\x0ab\\x09c");
    CHECK(escaped("\\x41") == "\\\\x41"); // a backslash from outside cannot fake an escape
    CHECK(escaped("caf\xc3\xa9 \xff") == "caf\\xc3\\xa9 \\xff");
    CHECK(progress_bar_line("tank/\x1b[2J", 1, 0, 1, 10).find('\x1b') == std::string::npos);
}

TEST_CASE("config: limits and the state directory") {
    const std::string base = R"(
[defaults]
ssh_key = "/k"
known_hosts = "/kh"
)";
    const ConfigResult r = parse_config(base + R"(
state_dir = "/var/lib/pl"
connect_timeout = 15
stall_timeout = 120

[job.a]
source = "zb@nas:tank/a"
target = "backup/a"
stream_cap_factor = 3
max_listing_lines = 5000
max_listing_mib = 64

[job.b]
source = "zb@nas:tank/b"
target = "backup/b"
)");
    REQUIRE_MESSAGE(r.ok(), r.error);
    const JobConfig& a = r.config->jobs.at(0);
    CHECK(a.state_dir == "/var/lib/pl");
    CHECK(a.connect_timeout == 15);
    CHECK(a.stall_timeout == 120);
    CHECK(a.stream_cap_factor == 3);
    CHECK(a.max_listing_lines == 5000);
    CHECK(a.max_listing_mib == 64);
    const JobConfig& b = r.config->jobs.at(1); // the defaults
    CHECK(b.stream_cap_factor == 10);
    CHECK(b.max_listing_lines == 2000000);
    CHECK(b.max_listing_mib == 256);
    const JobConfig none;
    CHECK(none.state_dir == "/var/lib/zfs-puller");
    CHECK(none.connect_timeout == 60);
    CHECK(none.stall_timeout == 600);

    const std::pair<std::string, std::string> bad[] = {
        {"state_dir = \"relative\"\n", "state_dir must be an absolute path"},
        {"connect_timeout = 0\n", "connect_timeout"},
        {"stall_timeout = 90000\n", "stall_timeout"},
        {"stream_cap_factor = 0\n", "stream_cap_factor"},
        {"max_listing_lines = 10\n", "max_listing_lines"},
        {"max_listing_mib = 0\n", "max_listing_mib"},
        {"stall_timeuot = 5\n", "unknown key"},
    };
    for (const auto& [line, fragment] : bad) {
        const ConfigResult e =
            parse_config(base + line + "\n[job.a]\nsource = \"zb@nas:tank/a\"\ntarget = \"b/a\"\n");
        CHECK_FALSE(e.ok());
        CHECK_MESSAGE(e.error.find(fragment) != std::string::npos, fragment, " not in: ", e.error);
    }
}

TEST_CASE("cli: limits and the state directory for pull") {
    const CliResult r = parse_cli({"pull", "zb@nas:tank/a", "backup/a", "--ssh-key", "/k",
                                   "--known-hosts", "/kh", "--state-dir", "/s", "--connect-timeout",
                                   "5", "--stall-timeout=7", "--stream-cap-factor", "3",
                                   "--max-listing-lines", "5000", "--max-listing-mib", "9"});
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.options->pull.state_dir == "/s");
    CHECK(r.options->pull.connect_timeout == 5);
    CHECK(r.options->pull.stall_timeout == 7);
    CHECK(r.options->pull.stream_cap_factor == 3);
    CHECK(r.options->pull.max_listing_lines == 5000);
    CHECK(r.options->pull.max_listing_mib == 9);
    const CliResult e = parse_cli({"pull", "zb@nas:tank/a", "backup/a", "--ssh-key", "/k",
                                   "--known-hosts", "/kh", "--stall-timeout", "0"});
    CHECK_FALSE(e.ok());
    CHECK(e.error == "--stall-timeout must be 1..86400");
    CHECK_FALSE(parse_cli({"--stall-timeout", "5"}).ok()); // pull only
    // --help names every option (the manual page is written from it).
    for (const char* o :
         {"--state-dir", "--connect-timeout", "--stall-timeout", "--stream-cap-factor",
          "--max-listing-lines", "--max-listing-mib", "--keep-target", "--runtime-dir"})
        CHECK_MESSAGE(usage_text().find(o) != std::string::npos, o);
}

TEST_CASE("config and cli: the target retention limits") {
    const ConfigResult r = parse_config(R"(
[defaults]
ssh_key = "/k"
known_hosts = "/kh"
prune_min_age_days = 0

[job.a]
source = "zb@nas:tank/a"
target = "backup/a"
prune_max_percent = 100
)");
    REQUIRE_MESSAGE(r.ok(), r.error);
    CHECK(r.config->jobs.at(0).prune_min_age_days == 0);
    CHECK(r.config->jobs.at(0).prune_max_percent == 100);
    const JobConfig defaults;
    CHECK(defaults.prune_min_age_days == 7);
    CHECK(defaults.prune_max_percent == 10);
    CHECK_FALSE(parse_config("[job.a]\nsource = \"zb@nas:tank/a\"\ntarget = \"b/a\"\nssh_key = "
                             "\"/k\"\nknown_hosts = \"/kh\"\nprune_max_percent = 0\n")
                    .ok());
    const CliResult c =
        parse_cli({"pull", "zb@nas:tank/a", "backup/a", "--ssh-key", "/k", "--known-hosts", "/kh",
                   "--prune-min-age-days", "3", "--prune-max-percent=25"});
    REQUIRE_MESSAGE(c.ok(), c.error);
    CHECK(c.options->pull.prune_min_age_days == 3);
    CHECK(c.options->pull.prune_max_percent == 25);
    for (const char* o : {"--prune-min-age-days", "--prune-max-percent"})
        CHECK(usage_text().find(o) != std::string::npos);
}

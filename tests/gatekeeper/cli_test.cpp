// CLI parsing, including the login-shell form sshd uses when the gatekeeper is the account's
// shell: `zfs-gatekeeper -c '<forced command>'` with the client's text in SSH_ORIGINAL_COMMAND.
#include <doctest/doctest.h>

#include "gatekeeper/cli.hpp"

using namespace gatekeeper;

namespace {
CliResult cli(std::vector<std::string> args, const char* original = nullptr) {
    args.insert(args.begin(), "zfs-gatekeeper");
    return parse_cli(args, original, "/etc/zfs-gatekeeper/policy.toml");
}
} // namespace

TEST_CASE("forced-command and explicit modes") {
    auto r = cli({"--policy", "/p.toml", "--identity", "home"});
    REQUIRE(r.options);
    CHECK(r.options->mode == Mode::serve);
    CHECK(r.options->policy_path == "/p.toml");
    CHECK(*r.options->identity == "home");
    CHECK_FALSE(r.options->command);

    r = cli({"--identity", "home", "--dry-run", "-c", "zfs get -H type 'tank/a'"});
    REQUIRE(r.options);
    CHECK(r.options->mode == Mode::dry_run);
    CHECK(r.options->policy_path == "/etc/zfs-gatekeeper/policy.toml");
    CHECK(*r.options->command == "zfs get -H type 'tank/a'");

    r = cli({"--check", "--policy", "/p.toml"});
    REQUIRE(r.options);
    CHECK(r.options->mode == Mode::check);
    CHECK(cli({"--help"}).options->mode == Mode::help);
    CHECK(cli({"--version"}).options->mode == Mode::version);
}

TEST_CASE("usage errors") {
    for (const auto& args : std::vector<std::vector<std::string>>{{},
                                                                  {"--policy"},
                                                                  {"--identity"},
                                                                  {"--identity", ""},
                                                                  {"--bogus"},
                                                                  {"--identity", "a", "-c"},
                                                                  {"--dry-run"}}) {
        CAPTURE(args.size());
        const auto r = cli(args);
        CHECK_FALSE(r.options);
        CHECK_FALSE(r.error.empty());
    }
}

TEST_CASE(
    "login shell: options come from the forced command, the command from SSH_ORIGINAL_COMMAND") {
    const char* client = "zfs get -H syncoid:sync 'tank/data'";
    auto r = cli({"-c", "/nix/store/x-zfs-gatekeeper/bin/zfs-gatekeeper --policy "
                        "/etc/zfs-gatekeeper/policy.toml --identity optinix-home"},
                 client);
    REQUIRE(r.options);
    CHECK(r.options->login_shell_forced);
    CHECK(r.options->mode == Mode::serve);
    CHECK(*r.options->identity == "optinix-home");
    CHECK(r.options->policy_path == "/etc/zfs-gatekeeper/policy.toml");
    CHECK(*r.options->command == client);
}

TEST_CASE("login shell: client text is never read as options") {
    // No SSH_ORIGINAL_COMMAND: the -c string may be the client's own (a key without command=).
    CHECK_FALSE(cli({"-c", "/usr/bin/zfs-gatekeeper --identity x"}).options);
    CHECK_FALSE(cli({"-c", "zfs list"}).options);
    // Forced command strings that are not ours, or try to smuggle options, are refused.
    CHECK_FALSE(cli({"-c", "/bin/sh -c id"}, "x").options);
    CHECK_FALSE(cli({"-c", "/usr/bin/zfs-gatekeeper --identity x; id"}, "x").options);
    CHECK_FALSE(
        cli({"-c", "/usr/bin/zfs-gatekeeper --identity x --test-allow-own-policy"}, "x").options);
    CHECK_FALSE(cli({"-c", "/usr/bin/zfs-gatekeeper --identity x --dry-run"}, "x").options);
    CHECK_FALSE(cli({"-c", "/usr/bin/zfs-gatekeeper --identity x -c 'zfs list'"}, "x").options);
    CHECK_FALSE(cli({"-c", "/usr/bin/zfs-gatekeeper"}, "x").options); // --identity required
}

TEST_CASE("audit-report takes a file or stdin, a window, JSON and a textfile") {
    auto r = cli({"audit-report", "/var/log/zfs-gatekeeper/audit.jsonl", "--since", "24h", "--json",
                  "--prometheus", "/var/lib/node-exporter/zfs-gatekeeper.prom"});
    REQUIRE(r.options);
    CHECK(r.options->mode == Mode::audit_report);
    CHECK(r.options->report.input == "/var/log/zfs-gatekeeper/audit.jsonl");
    CHECK(r.options->report.since == "24h");
    CHECK(r.options->report.json);
    CHECK(r.options->report.prometheus == "/var/lib/node-exporter/zfs-gatekeeper.prom");
    r = cli({"audit-report", "-"});
    REQUIRE(r.options);
    CHECK(r.options->report.input == "-");
    r = cli({"audit-report", "--policy", "/p.toml"});
    REQUIRE(r.options);
    CHECK_FALSE(r.options->report.input); // the policy's [audit] file
    CHECK(r.options->policy_path == "/p.toml");
    for (const auto& bad :
         std::vector<std::vector<std::string>>{{"audit-report", "a", "b"},
                                               {"audit-report", "--since"},
                                               {"audit-report", "--prometheus"},
                                               {"audit-report", "--identity", "x"},
                                               {"audit-report", "--bogus"}}) {
        CAPTURE(bad.size());
        CHECK_FALSE(cli(bad).options);
    }
    // Never from a login-shell forced command: only --policy and --identity pass there.
    CHECK_FALSE(cli({"-c", "zfs-gatekeeper audit-report -"}, "zfs list").options);
}

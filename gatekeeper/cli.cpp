// Option parsing. The one subtle case is sshd running the gatekeeper as the account's login
// shell: with a forced command, sshd execs `<shell> -c '<forced command>'`, so the gatekeeper
// must read its real options out of that string (with the same strict lexer as client text)
// and take the client's command from SSH_ORIGINAL_COMMAND.
#include "gatekeeper/cli.hpp"

#include "grammar/lexer.hpp"

namespace gatekeeper {

const char* const usage_text =
    "usage: zfs-gatekeeper [--policy FILE] --identity NAME [--dry-run] [-c COMMAND]\n"
    "       zfs-gatekeeper [--policy FILE] --check\n"
    "       zfs-gatekeeper [--policy FILE] --print-sandbox\n"
    "       zfs-gatekeeper -c '<forced command>'   (as the account's login shell)\n"
    "       zfs-gatekeeper audit-report [FILE|-] [--since TIME|AGE] [--json] [--prometheus FILE]\n"
    "       zfs-gatekeeper --help | --version\n"
    "\n"
    "SSH forced command that runs only the zfs commands syncoid and zfs-puller send, checked\n"
    "against a per-identity policy, without a shell.\n"
    "\n"
    "  --policy FILE        policy file (TOML); must be owned by root and not group/world "
    "writable\n"
    "  --identity NAME      the [identity.NAME] table that applies to this SSH key\n"
    "  -c COMMAND           take the client command from COMMAND instead of SSH_ORIGINAL_COMMAND\n"
    "  --dry-run            decide only; print one JSON object; exit 0 allow, 1 deny, 2 error\n"
    "  --check              validate the policy file and exit (0 valid, 2 invalid)\n"
    "  --print-sandbox      print the seccomp filters (readable form) and, if the policy loads,\n"
    "                       the Landlock fence of each of its programs\n"
    "  --test-allow-own-policy\n"
    "                       also accept a policy file owned by the invoking user (tests only)\n"
    "  --help, --version\n"
    "\n"
    "audit-report: sums up the audit log (FILE, - for stdin such as `journalctl -t zfs-gatekeeper\n"
    "  SYSLOG_FACILITY=10 -o cat`; default: the policy's [audit] file) per identity and client:\n"
    "  allowed and denied commands, sessions the sandbox killed, lines that are no valid record.\n"
    "  --since TIME|AGE     only records from TIME (RFC 3339) or the last AGE (90m, 24h, 7d) on\n"
    "  --json               one JSON object instead of the table\n"
    "  --prometheus FILE    also replace FILE (atomically) with node-exporter textfile metrics\n"
    "\n"
    "exit status: the command's status when run; 126 denied; 2 usage or policy error;\n"
    "  --dry-run: 0 allowed, 1 denied, 2 error; audit-report: 0 nothing to report,\n"
    "  1 denials, sandbox kills or bad records in the window, 2 usage or read error\n";

namespace {

CliResult error(std::string msg) {
    return {std::nullopt, std::move(msg)};
}

CliResult parse_options(const std::vector<std::string>& args, std::size_t start, Options o,
                        bool restricted) {
    for (std::size_t i = start; i < args.size(); ++i) {
        const std::string& a = args[i];
        auto value = [&](const char* name) -> std::optional<std::string> {
            if (i + 1 >= args.size()) return std::nullopt;
            (void)name;
            return args[++i];
        };
        if (a == "--policy") {
            auto v = value("--policy");
            if (!v || v->empty()) return error("--policy needs a file");
            o.policy_path = *v;
        } else if (a == "--identity") {
            auto v = value("--identity");
            if (!v || v->empty()) return error("--identity needs a name");
            o.identity = *v;
        } else if (restricted) {
            // Inside a login-shell forced command only --policy and --identity make sense.
            return error("option '" + a + "' is not allowed in a login-shell forced command");
        } else if (a == "-c") {
            auto v = value("-c");
            if (!v) return error("-c needs a command");
            o.command = *v;
        } else if (a == "--dry-run") {
            o.mode = Mode::dry_run;
        } else if (a == "--check") {
            o.mode = Mode::check;
        } else if (a == "--print-sandbox") {
            o.mode = Mode::print_sandbox;
        } else if (a == "--test-allow-own-policy") {
            o.allow_own_policy = true;
        } else if (a == "--help" || a == "-h") {
            o.mode = Mode::help;
            return {o, {}};
        } else if (a == "--version") {
            o.mode = Mode::version;
            return {o, {}};
        } else {
            return error("unknown argument '" + a + "'");
        }
    }
    if ((o.mode == Mode::serve || o.mode == Mode::dry_run) && !o.identity)
        return error("--identity is required");
    return {o, {}};
}

// audit-report's own options, after the word `audit-report`.
CliResult parse_report_options(const std::vector<std::string>& args, Options o) {
    o.mode = Mode::audit_report;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const std::string& a = args[i];
        const auto value = [&]() -> std::optional<std::string> {
            if (i + 1 >= args.size() || args[i + 1].empty()) return std::nullopt;
            return args[++i];
        };
        if (a == "--since") {
            if (!(o.report.since = value())) return error("--since needs a time or an age");
        } else if (a == "--prometheus") {
            if (!(o.report.prometheus = value())) return error("--prometheus needs a file");
        } else if (a == "--policy") {
            const auto v = value();
            if (!v) return error("--policy needs a file");
            o.policy_path = *v;
        } else if (a == "--json") {
            o.report.json = true;
        } else if (a == "--test-allow-own-policy") {
            o.allow_own_policy = true;
        } else if (a == "--help" || a == "-h") {
            o.mode = Mode::help;
            return {o, {}};
        } else if ((a.starts_with("-") && a != "-") || o.report.input) {
            return error("unknown argument '" + a + "' for audit-report");
        } else {
            o.report.input = a;
        }
    }
    return {o, {}};
}

} // namespace

CliResult parse_cli(const std::vector<std::string>& args, const char* ssh_original_command,
                    const std::string& default_policy) {
    Options o;
    o.policy_path = default_policy;
    // Login shell with a forced command: argv is exactly {argv0, "-c", "<forced command>"} and
    // sshd set SSH_ORIGINAL_COMMAND. Without SSH_ORIGINAL_COMMAND the string could be the
    // client's own text (a key without command=), so it is never read as options then.
    if (args.size() == 3 && args[1] == "-c" && !args[2].starts_with("-")) {
        if (ssh_original_command == nullptr)
            return error("this account only runs through an authorized_keys command= line");
        const grammar::LexResult words = grammar::lex(args[2]);
        if (!words.ok() || words.tokens.empty()) return error("cannot read the forced command");
        std::vector<std::string> inner;
        for (const auto& t : words.tokens) {
            if (t.kind != grammar::Token::Kind::word)
                return error("forced command holds shell operators");
            inner.push_back(t.text);
        }
        if (!inner.front().ends_with("/zfs-gatekeeper") && inner.front() != "zfs-gatekeeper")
            return error("forced command does not run zfs-gatekeeper");
        o.login_shell_forced = true;
        o.command = ssh_original_command;
        return parse_options(inner, 1, o, true);
    }
    if (args.size() >= 2 && args[1] == "audit-report") return parse_report_options(args, o);
    return parse_options(args, 1, o, false);
}

} // namespace gatekeeper

// zfs-gatekeeper entry point: start-up hygiene, options, then one function per mode. The serve
// path (serve()) is the forced command itself: load, parse, decide, confirm against the live
// system, record, run, record. stdout belongs to zfs (house-style decision 6): in serve mode
// nothing of ours is printed there except a builtin's answer; the client gets one short line on
// stderr; what went wrong goes to syslog through spdlog (diagnostics()).
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <spdlog/logger.h>
#include <spdlog/sinks/syslog_sink.h>
#include <string>
#include <syslog.h>
#include <unistd.h>
#include <vector>

#include "gatekeeper/audit_record.hpp"
#include "gatekeeper/audit_report.hpp"
#include "gatekeeper/audit_sink.hpp"
#include "gatekeeper/cli.hpp"
#include "gatekeeper/live_checks_query.hpp"
#include "gatekeeper/policy_load.hpp"
#include "gatekeeper/process_hygiene.hpp"
#include "gatekeeper/sandbox.hpp"
#include "gatekeeper/supervisor.hpp"
#include "grammar/parse.hpp"
#include "ops/atomic_file.hpp"
#include "ops/prometheus.hpp"
#include "ops/time_text.hpp"
#include "policy/decide.hpp"
#include "policy/live_checks.hpp"
#include "zg_config.hpp"

namespace {

using namespace gatekeeper;

constexpr int exit_denied = 126;
constexpr int exit_usage = 2;

// The gatekeeper's own diagnostics (a broken policy, an unusable audit sink, a stage that could
// not start) for the administrator: syslog, facility daemon, synchronous. Never stdout (zfs's)
// nor stderr (the client's). Made on first use: a session that goes well never builds it.
// Audit records go to syslog too, but as facility authpriv (audit_sink.cpp), so
// `journalctl -t zfs-gatekeeper SYSLOG_FACILITY=10` holds exactly the records.
spdlog::logger& diagnostics() {
    static spdlog::logger logger("zfs-gatekeeper",
                                 std::make_shared<spdlog::sinks::syslog_sink_st>(
                                     "zfs-gatekeeper", LOG_PID | LOG_NDELAY, LOG_DAEMON, false));
    return logger;
}

// The one way serve() says no: a short line for the client that reveals no policy detail.
int refuse(const char* msg) {
    std::fprintf(stderr, "zfs-gatekeeper: %s\n", msg);
    return exit_denied;
}

int usage_error(const std::string& msg) {
    std::fprintf(stderr, "zfs-gatekeeper: %s\n", msg.c_str());
    return exit_usage;
}

std::string rfc3339_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    return ops::format_rfc3339_utc(ts.tv_sec, ts.tv_nsec / 1000);
}

RecordContext record_context(const std::string& identity) {
    RecordContext ctx;
    ctx.time = rfc3339_now();
    ctx.identity = identity;
    ctx.pid = static_cast<long>(::getpid());
    // SSH_CONNECTION = "client_ip client_port server_ip server_port"
    if (const char* conn = std::getenv("SSH_CONNECTION")) {
        const std::string s(conn);
        const auto sp = s.find(' ');
        ctx.client_address = s.substr(0, sp);
        if (sp != std::string::npos) {
            const auto sp2 = s.find(' ', sp + 1);
            const std::string port = s.substr(sp + 1, sp2 - sp - 1);
            char* end = nullptr;
            const long p = std::strtol(port.c_str(), &end, 10);
            if (end != port.c_str() && *end == '\0' && p > 0 && p < 65536)
                ctx.client_port = static_cast<int>(p);
        }
    }
    return ctx;
}

// The outcome record carries its own timestamp.
RecordContext outcome_context(RecordContext ctx) {
    ctx.time = rfc3339_now();
    return ctx;
}

// Parse failures are denials too; the record takes its stage and reason from the parse.
policy::Decision decide_parsed(const grammar::ParseResult& parsed,
                               const policy::IdentityPolicy& identity,
                               const std::map<std::string, std::string>& programs) {
    if (!parsed.ok()) return policy::Decision{"grammar", {}, policy::Denied{parsed.error.message}};
    return policy::decide(*parsed.invocation, identity, programs);
}

// Filters and fences only for the programs the decision starts (none for a denial or a
// builtin): preparing the others would cost every session time for nothing.
Sandbox prepare_sandbox_for(const policy::Decision& decision,
                            const std::map<std::string, std::string>& programs) {
    return prepare_sandbox(programs_started(programs, decision.argv()));
}

// exit / echo -n / command -v are answered here; anything else runs under the supervisor.
RunOutcome carry_out(const policy::Decision& decision, Sandbox& sandbox) {
    if (const auto* answer = decision.builtin()) {
        RunOutcome outcome;
        const std::string& text = answer->stdout_text;
        if (!text.empty() &&
            ::write(1, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            outcome.client_hung_up = true;
        outcome.exit_status = answer->exit_status;
        return outcome;
    }
    RunOutcome outcome = run_plan(decision.run()->plan, sandbox);
    if (!outcome.error.empty()) std::fputs("zfs-gatekeeper: could not start the command\n", stderr);
    return outcome;
}

// The forced command. No command at all is an interactive shell request: it is parsed (and
// denied, and logged) as the empty command.
int serve(const Options& opt, const char* original) {
    const auto loaded = load_policy_file(opt.policy_path, opt.allow_own_policy);
    if (!loaded.ok()) {
        diagnostics().error("refusing every command: {}", loaded.error);
        return refuse("policy error");
    }
    const auto& programs = loaded.policy->programs;
    const auto identity = loaded.policy->identities.find(*opt.identity);
    if (identity == loaded.policy->identities.end()) {
        diagnostics().error("refusing every command: no identity '{}' in {}", *opt.identity,
                            opt.policy_path);
        return refuse("command not permitted");
    }
    AuditSink audit(loaded.policy->audit);
    if (!audit.usable()) {
        diagnostics().error("refusing to run: {}", audit.error());
        return refuse("audit log unavailable; refusing to run");
    }

    const std::string command = opt.command ? *opt.command : original ? original : "";
    const grammar::ParseResult parsed = grammar::parse_command(command);
    const auto ctx = record_context(*opt.identity);
    const policy::Decision proposed = decide_parsed(parsed, identity->second, programs);
    Sandbox sandbox = prepare_sandbox_for(proposed, programs);
    const policy::Decision decision =
        policy::confirm(proposed, query_live_checks(proposed, programs.at("zfs"), sandbox));
    if (!audit.record(to_line(decision_json(ctx, command, parsed, &decision)))) {
        diagnostics().error("refusing to run: {}", audit.error());
        return refuse("audit log unavailable; refusing to run");
    }
    if (!decision.allowed()) return refuse("command not permitted");

    const RunOutcome outcome = carry_out(decision, sandbox);
    if (!outcome.error.empty()) diagnostics().error("{}: {}", decision.rule, outcome.error);
    if (!audit.record(
            to_line(outcome_json(outcome_context(ctx), outcome, describe_sandbox(sandbox)))))
        diagnostics().error("outcome record lost: {}", audit.error());
    return outcome.exit_status;
}

// --dry-run: the decision without the live checks (it runs nothing), as one JSON object.
int dry_run(const Options& opt, const char* original) {
    const auto loaded = load_policy_file(opt.policy_path, opt.allow_own_policy);
    if (!loaded.ok()) return usage_error(loaded.error);
    const auto identity = loaded.policy->identities.find(*opt.identity);
    if (identity == loaded.policy->identities.end())
        return usage_error("no identity '" + *opt.identity + "' in the policy");
    if (!opt.command && original == nullptr)
        return usage_error("--dry-run needs -c COMMAND or SSH_ORIGINAL_COMMAND");
    const std::string command = opt.command ? *opt.command : original;
    const grammar::ParseResult parsed = grammar::parse_command(command);
    const policy::Decision decision =
        decide_parsed(parsed, identity->second, loaded.policy->programs);
    std::printf(
        "%s\n",
        to_line(decision_json(record_context(*opt.identity), command, parsed, &decision)).c_str());
    return decision.allowed() ? 0 : 1;
}

// --since: an RFC 3339 time, or an age back from `now`.
std::optional<double> window_start(const std::string& since, double now) {
    if (const auto t = ops::parse_rfc3339(since)) return t;
    if (const auto age = ops::parse_age(since)) return now - *age;
    return std::nullopt;
}

// audit-report: read the log line by line (it may be large), print the report, and replace the
// textfile; exit 1 when the window holds anything to alert on.
int audit_report(const Options& opt) {
    const double now = static_cast<double>(std::time(nullptr));
    std::optional<double> since;
    if (opt.report.since && !(since = window_start(*opt.report.since, now)))
        return usage_error("--since needs an RFC 3339 time or an age such as 24h or 7d");
    std::string path = opt.report.input.value_or("");
    if (path.empty()) {
        const auto loaded = load_policy_file(opt.policy_path, opt.allow_own_policy);
        if (!loaded.ok()) return usage_error(loaded.error + " (or give the audit log as FILE)");
        if (!loaded.policy->audit.file)
            return usage_error(
                "the policy has no [audit] file; give the log as FILE, or - for stdin");
        path = *loaded.policy->audit.file;
    }
    std::FILE* in = path == "-" ? stdin : std::fopen(path.c_str(), "re");
    if (in == nullptr) return usage_error("cannot open " + path);
    AuditReportBuilder builder(since);
    char* line = nullptr;
    std::size_t capacity = 0;
    ssize_t n;
    while ((n = ::getline(&line, &capacity, in)) >= 0) {
        std::string_view text(line, static_cast<std::size_t>(n));
        if (text.ends_with('\n')) text.remove_suffix(1);
        builder.add_line(text);
    }
    std::free(line);
    const bool read_error = std::ferror(in) != 0;
    if (in != stdin) std::fclose(in);
    if (read_error) return usage_error("cannot read " + path);
    const AuditReport report = builder.finish();
    const std::string source = path == "-" ? "stdin" : path;
    std::fputs(
        (opt.report.json ? render_report_json(report, source) : render_report_text(report, source))
            .c_str(),
        stdout);
    if (opt.report.prometheus) {
        const std::string error = ops::replace_file(
            *opt.report.prometheus, ops::render_exposition(report_metrics(report, now)));
        if (!error.empty()) return usage_error(error);
    }
    return report.alarming() ? 1 : 0;
}

int check_policy(const Options& opt) {
    const auto loaded = load_policy_file(opt.policy_path, opt.allow_own_policy);
    if (!loaded.ok()) return usage_error(loaded.error);
    std::printf("%s: ok (%zu identities)\n", opt.policy_path.c_str(),
                loaded.policy->identities.size());
    return 0;
}

int print_sandbox(const Options& opt) {
    const auto loaded = load_policy_file(opt.policy_path, opt.allow_own_policy);
    if (!loaded.ok())
        std::fprintf(stderr, "zfs-gatekeeper: %s (program fences not shown)\n",
                     loaded.error.c_str());
    const auto sandbox = prepare_sandbox(loaded.ok() ? loaded.policy->programs
                                                     : std::map<std::string, std::string>{});
    std::fputs(render_sandbox(sandbox).c_str(), stdout);
    return sandbox.error.empty() ? 0 : exit_usage;
}

} // namespace

int main(int argc, char** argv) {
    // Close stray fds, make 0-2 valid, reset signals and umask before reading anything.
    if (!sanitize_process()) return exit_denied;
    const char* original = std::getenv("SSH_ORIGINAL_COMMAND");
    const auto cli =
        parse_cli(std::vector<std::string>(argv, argv + argc), original, ZG_DEFAULT_POLICY);
    if (!cli.options) {
        std::fprintf(stderr, "zfs-gatekeeper: %s\n", cli.error.c_str());
        if (original == nullptr) std::fputs("try 'zfs-gatekeeper --help'\n", stderr);
        return exit_usage;
    }
    const Options& opt = *cli.options;
    switch (opt.mode) {
    case Mode::help:
        std::fputs(usage_text, stdout);
        return 0;
    case Mode::version:
        std::printf("zfs-gatekeeper %s\n", ZG_VERSION);
        return 0;
    case Mode::check:
        return check_policy(opt);
    case Mode::print_sandbox:
        return print_sandbox(opt);
    case Mode::dry_run:
        return dry_run(opt, original);
    case Mode::audit_report:
        return audit_report(opt);
    case Mode::serve:
        return serve(opt, original);
    }
    return exit_usage;
}

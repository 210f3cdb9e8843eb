// zfs-gatekeeper entry point: read options and the client command, load the policy, parse,
// decide, then either report (--dry-run), answer a builtin, or hand over to the supervisor.
// stdout belongs to zfs (house-style decision 6): in serve mode nothing of ours is printed there
// except a builtin's answer.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include "gatekeeper/audit_record.hpp"
#include "gatekeeper/audit_sink.hpp"
#include "gatekeeper/cli.hpp"
#include "gatekeeper/policy_load.hpp"
#include "gatekeeper/preflight.hpp"
#include "gatekeeper/process_hygiene.hpp"
#include "gatekeeper/sandbox.hpp"
#include "gatekeeper/supervisor.hpp"
#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "zg_config.hpp"

namespace {

constexpr int exit_denied = 126;
constexpr int exit_usage = 2;

// One short line for the client; it never reveals policy detail.
void client_message(const char* msg) {
    std::fputs("zfs-gatekeeper: ", stderr);
    std::fputs(msg, stderr);
    std::fputc('\n', stderr);
}

std::string rfc3339_now() {
    timespec ts{};
    clock_gettime(CLOCK_REALTIME, &ts);
    std::tm tm{};
    gmtime_r(&ts.tv_sec, &tm);
    char buf[40];
    const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    std::snprintf(buf + n, sizeof buf - n, ".%06ldZ", ts.tv_nsec / 1000);
    return buf;
}

gatekeeper::RecordContext record_context(const std::string& identity) {
    gatekeeper::RecordContext ctx;
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
gatekeeper::RecordContext outcome_context(gatekeeper::RecordContext ctx) {
    ctx.time = rfc3339_now();
    return ctx;
}

} // namespace

int main(int argc, char** argv) {
    // Step 1 (house-style decision 5): close stray fds, make 0-2 valid, reset signals, umask.
    if (!gatekeeper::sanitize_process()) return exit_denied;
    const std::vector<std::string> args(argv, argv + argc);
    const char* original = std::getenv("SSH_ORIGINAL_COMMAND");
    const auto cli = gatekeeper::parse_cli(args, original, ZG_DEFAULT_POLICY);
    if (!cli.options) {
        std::fprintf(stderr, "zfs-gatekeeper: %s\n", cli.error.c_str());
        if (original == nullptr) std::fputs("try 'zfs-gatekeeper --help'\n", stderr);
        return exit_usage;
    }
    const gatekeeper::Options& opt = *cli.options;
    if (opt.mode == gatekeeper::Mode::help) {
        std::fputs(gatekeeper::usage_text, stdout);
        return 0;
    }
    if (opt.mode == gatekeeper::Mode::version) {
        std::printf("zfs-gatekeeper %s\n", ZG_VERSION);
        return 0;
    }

    const auto loaded = gatekeeper::load_policy_file(opt.policy_path, opt.allow_own_policy);
    if (opt.mode == gatekeeper::Mode::print_sandbox) {
        if (!loaded.ok())
            std::fprintf(stderr, "zfs-gatekeeper: %s (program fences not shown)\n",
                         loaded.error.c_str());
        const auto sandbox = gatekeeper::prepare_sandbox(
            loaded.ok() ? loaded.policy->programs : std::map<std::string, std::string>{});
        std::fputs(gatekeeper::render_sandbox(sandbox).c_str(), stdout);
        return sandbox.error.empty() ? 0 : exit_usage;
    }
    if (opt.mode == gatekeeper::Mode::check) {
        if (!loaded.ok()) {
            std::fprintf(stderr, "zfs-gatekeeper: %s\n", loaded.error.c_str());
            return exit_usage;
        }
        std::printf("%s: ok (%zu identities)\n", opt.policy_path.c_str(),
                    loaded.policy->identities.size());
        return 0;
    }

    const bool dry_run = opt.mode == gatekeeper::Mode::dry_run;
    if (!loaded.ok()) {
        std::fprintf(stderr, "zfs-gatekeeper: %s\n",
                     dry_run ? loaded.error.c_str() : "policy error");
        return dry_run ? exit_usage : exit_denied;
    }
    const auto id_it = loaded.policy->identities.find(*opt.identity);
    if (id_it == loaded.policy->identities.end()) {
        if (dry_run)
            std::fprintf(stderr, "zfs-gatekeeper: no identity '%s' in the policy\n",
                         opt.identity->c_str());
        else
            client_message("command not permitted");
        return dry_run ? exit_usage : exit_denied;
    }

    const char* command_text = opt.command ? opt.command->c_str() : original;
    if (command_text == nullptr && dry_run) {
        std::fputs("zfs-gatekeeper: --dry-run needs -c COMMAND or SSH_ORIGINAL_COMMAND\n", stderr);
        return exit_usage;
    }
    // No command at all is an interactive shell request: it is parsed (and denied, and
    // logged) as the empty command.
    const std::string command = command_text != nullptr ? std::string(command_text) : std::string();
    const grammar::ParseResult parsed = grammar::parse_command(command);
    std::optional<policy::Decision> decision;
    if (parsed.ok())
        decision = policy::decide(*parsed.invocation, id_it->second, loaded.policy->programs);

    const auto ctx = record_context(*opt.identity);
    const bool allowed = decision && decision->allowed;
    if (dry_run) {
        const auto record =
            gatekeeper::decision_json(ctx, command, parsed, decision ? &*decision : nullptr);
        std::printf("%s\n", gatekeeper::to_line(record).c_str());
        return allowed ? 0 : 1;
    }

    // Serve: the audit sink must work before anything starts (required = true by default).
    gatekeeper::AuditSink audit(loaded.policy->audit);
    if (!audit.error().empty() && audit.required()) {
        client_message("audit log unavailable; refusing to run");
        return exit_denied;
    }
    // Filters and fences only for the programs this invocation starts (none for a denial or a
    // builtin): preparing the others would cost every session time for nothing.
    gatekeeper::Sandbox sandbox = gatekeeper::prepare_sandbox(
        allowed && !decision->builtin
            ? gatekeeper::programs_started(loaded.policy->programs, decision->argv)
            : std::map<std::string, std::string>{});
    const gatekeeper::ChildSetup child_setup = [&sandbox](const char* program) {
        gatekeeper::enter_sandbox(sandbox, program);
    };

    // Phase two of the decision: facts only the live system knows (resume token guid).
    std::string preflight_denial;
    if (allowed && !decision->builtin)
        preflight_denial = gatekeeper::check_resume_tokens(
            *decision, loaded.policy->programs.at("zfs"), child_setup);
    if (!preflight_denial.empty()) {
        decision->allowed = false;
        decision->rule = "resume-token-preflight";
        decision->reason = preflight_denial;
        decision->argv.clear();
    }
    const bool run_it = allowed && preflight_denial.empty();

    const auto record =
        gatekeeper::decision_json(ctx, command, parsed, decision ? &*decision : nullptr);
    if (!audit.write(gatekeeper::to_line(record)) && audit.required()) {
        client_message("audit log unavailable; refusing to run");
        return exit_denied;
    }
    if (!run_it) {
        client_message("command not permitted");
        return exit_denied;
    }

    gatekeeper::RunOutcome outcome;
    if (decision->builtin) {
        // exit / echo -n / command -v: answered here, nothing is started.
        const std::string& text = decision->builtin->stdout_text;
        if (!text.empty() &&
            ::write(1, text.data(), text.size()) != static_cast<ssize_t>(text.size()))
            outcome.client_hung_up = true;
        outcome.exit_status = decision->builtin->exit_status;
    } else {
        outcome = gatekeeper::run_invocation(
            decision->argv, decision->effective, child_setup,
            [&sandbox] { gatekeeper::enter_supervisor_sandbox(sandbox); });
        if (!outcome.error.empty()) client_message("could not start the command");
    }
    audit.write(gatekeeper::to_line(gatekeeper::outcome_json(
        outcome_context(ctx), outcome, gatekeeper::describe_sandbox(sandbox))));
    return outcome.exit_status;
}

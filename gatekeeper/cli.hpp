// Command-line options of zfs-gatekeeper. Pure parsing of our own argv (admin-controlled text
// from authorized_keys or a unit file); the client's command never passes through here.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace gatekeeper {

enum class Mode { serve, dry_run, check, print_sandbox, audit_report, help, version };

// `zfs-gatekeeper audit-report [FILE|-] [--since T] [--json] [--prometheus FILE]`
struct ReportOptions {
    std::optional<std::string> input; // FILE, "-" for stdin; none: the policy's audit file
    std::optional<std::string> since; // RFC 3339 time or an age ("24h"); validated in main
    bool json = false;
    std::optional<std::string> prometheus; // node-exporter textfile to replace
};

struct Options {
    Mode mode = Mode::serve;
    std::string policy_path; // defaults to the build's ZG_DEFAULT_POLICY
    std::optional<std::string> identity;
    std::optional<std::string> command; // -c CMD (login-shell mode)
    bool allow_own_policy = false;      // --test-allow-own-policy
    bool login_shell_forced = false;    // called as `zfs-gatekeeper -c '<forced command>'`
    ReportOptions report;               // Mode::audit_report
};

struct CliResult {
    std::optional<Options> options;
    std::string error;
};

// `ssh_original_command` is the environment value (nullptr when unset); it decides how a bare
// `-c STRING` is read (see cli.cpp).
CliResult parse_cli(const std::vector<std::string>& args, const char* ssh_original_command,
                    const std::string& default_policy);

extern const char* const usage_text;

} // namespace gatekeeper

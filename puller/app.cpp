// Options, configuration, then each job in turn. stdout carries JSON summaries (and --dry-run's
// command list); stderr carries one-line errors and progress.
#include "puller/app.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ops/atomic_file.hpp"
#include "ops/prometheus.hpp"
#include "puller/command_line.hpp"
#include "puller/config.hpp"
#include "puller/job.hpp"
#include "puller/messages.hpp"
#include "puller/restore.hpp"
#include "puller/spawn.hpp"
#include "puller/state_file.hpp"
#include "puller/status.hpp"

namespace puller {
namespace {

int usage_error(const std::string& msg) {
    log_usage_error(msg);
    return exit_usage;
}

// The configuration names keys and hosts: it must not be writable by others.
std::string read_config(const std::string& path, std::string& text) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return "cannot open " + path + ": " + std::strerror(errno);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return path + " is not a regular file";
    }
    if ((st.st_mode & 022) != 0 || (st.st_uid != 0 && st.st_uid != ::geteuid())) {
        ::close(fd);
        return path + " must be owned by root (or the running user) and not group/world writable";
    }
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) {
        text.append(buf, static_cast<std::size_t>(n));
        if (text.size() > 1024 * 1024) {
            ::close(fd);
            return path + " is larger than 1 MiB";
        }
    }
    ::close(fd);
    return n < 0 ? "cannot read " + path : "";
}

// Each job's verdict from its state file; an unreadable one is reported and counts as unknown.
std::vector<StatusRow> job_status(const std::vector<JobConfig>& jobs, const Thresholds& limits,
                                  std::int64_t now) {
    std::vector<JobStatusInput> inputs;
    for (const auto& j : jobs) {
        JobStatusInput in{j.name, j.source, j.target, std::nullopt, ""};
        JobState state;
        std::string problem;
        switch (load_state_file(j.state_dir, j.target, state, problem)) {
        case StateLoad::loaded:
            in.state = std::move(state);
            break;
        case StateLoad::missing:
            break;
        case StateLoad::unreadable:
            log_warning(j.name + ": " + problem +
                        "; its state counts as unknown until a run rewrites it");
            in.problem = "state unknown: " + problem;
            break;
        }
        inputs.push_back(std::move(in));
    }
    return evaluate_status(inputs, limits, now);
}

// node-exporter's textfile collector reads the file at any moment: replaced atomically.
std::string write_textfile(const std::string& path, const std::vector<StatusRow>& rows,
                           std::int64_t now) {
    return ops::replace_file(path, ops::render_exposition(status_metrics(rows, now)), 0644);
}

// `zfs-puller status`: the table or JSON on stdout, the exit status monitoring plugins read.
int run_status(const Options& o, const StatusConfig& config, const std::vector<JobConfig>& jobs) {
    const Thresholds limits{o.warn_seconds.value_or(config.warn_seconds),
                            o.crit_seconds.value_or(config.crit_seconds)};
    if (limits.warn_seconds > limits.crit_seconds)
        return usage_error("the warning age must not be longer than the critical one (--warn, "
                           "--crit, [status] warn and crit)");
    const auto now = static_cast<std::int64_t>(std::time(nullptr));
    const std::vector<StatusRow> rows = job_status(jobs, limits, now);
    const std::string text =
        o.status_json ? status_json(rows, limits, now) : status_table(rows, now);
    std::fputs(text.c_str(), stdout);
    std::fflush(stdout);
    int code = status_exit_code(rows);
    if (!o.status_prometheus.empty()) {
        if (const std::string e = write_textfile(o.status_prometheus, rows, now); !e.empty()) {
            log_error(e);
            code = 2; // critical: the monitoring that reads the file sees stale numbers
        }
    }
    return code;
}

} // namespace

int run_program(const std::vector<std::string>& args, std::string_view version) {
    const CliResult cli = parse_cli(args);
    if (!cli.ok()) return usage_error(cli.error);
    const Options& o = *cli.options;
    configure_logging(o.quiet     ? Verbosity::quiet
                      : o.verbose ? Verbosity::verbose
                                  : Verbosity::normal);
    if (o.mode == Options::Mode::help) {
        std::fputs(usage_text().c_str(), stdout);
        return exit_ok;
    }
    if (o.mode == Options::Mode::version) {
        std::printf("zfs-puller %.*s\n", static_cast<int>(version.size()), version.data());
        return exit_ok;
    }

    std::vector<JobConfig> jobs;
    std::vector<JobConfig> all_jobs; // of the configuration, for its status textfile
    StatusConfig status_config;
    if (o.mode == Options::Mode::pull) {
        jobs.push_back(o.pull);
    } else {
        std::string text;
        if (const std::string err = read_config(o.config_path, text); !err.empty())
            return usage_error(err);
        const ConfigResult cfg = parse_config(text);
        if (!cfg.ok()) return usage_error(o.config_path + ": " + cfg.error);
        all_jobs = cfg.config->jobs;
        status_config = cfg.config->status;
        for (const auto& name : o.jobs) {
            bool found = false;
            for (const auto& j : cfg.config->jobs)
                found = found || j.name == name;
            if (!found) return usage_error("no job named '" + name + "' in " + o.config_path);
        }
        for (const auto& j : cfg.config->jobs) {
            if (!o.jobs.empty() && std::find(o.jobs.begin(), o.jobs.end(), j.name) == o.jobs.end())
                continue;
            if (o.mode == Options::Mode::restore && j.name != o.restore.job) continue;
            jobs.push_back(j);
            if (o.force_rollback) jobs.back().force_rollback = true;
        }
        if (o.mode == Options::Mode::restore && jobs.empty())
            return usage_error("no job named '" + o.restore.job + "' in " + o.config_path);
        if (o.mode == Options::Mode::check) {
            std::printf("%s: OK (%zu job%s)\n", o.config_path.c_str(), jobs.size(),
                        jobs.size() == 1 ? "" : "s");
            return exit_ok;
        }
        if (o.mode == Options::Mode::status) return run_status(o, status_config, jobs);
    }

    install_signal_handlers();
    // --quiet leaves out the progress too, unless --progress asked for a mode.
    Progress progress(o.quiet && o.progress == ProgressMode::automatic ? ProgressMode::none
                                                                       : o.progress,
                      o.progress_interval);
    RunOptions run;
    run.dry_run = o.dry_run;
    run.verbose = o.verbose;
    int code = exit_ok;
    for (const auto& job : jobs) {
        if (g_signal) break;
        code = worse(code, o.mode == Options::Mode::restore
                               ? run_restore(job, o.restore, run, progress)
                               : run_job(job, run, progress));
        if (code == exit_internal) break;
    }
    // The timer's run keeps node-exporter's view current (a dry run changed nothing).
    if (o.mode == Options::Mode::run && !o.dry_run && !status_config.prometheus_textfile.empty()) {
        const Thresholds limits{status_config.warn_seconds, status_config.crit_seconds};
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        if (const std::string e = write_textfile(status_config.prometheus_textfile,
                                                 job_status(all_jobs, limits, now), now);
            !e.empty())
            log_error("status textfile: " + e);
    }
    if (g_signal) code = worse(code, 128 + g_signal);
    return code;
}

} // namespace puller

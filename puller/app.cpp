// Options, configuration, then each job in turn. stdout carries JSON summaries (and --dry-run's
// command list); stderr carries one-line errors and progress.
#include "puller/app.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "puller/command_line.hpp"
#include "puller/config.hpp"
#include "puller/job.hpp"
#include "puller/messages.hpp"
#include "puller/restore.hpp"
#include "puller/spawn.hpp"

namespace puller {
namespace {

int usage_error(const std::string& msg) {
    say_usage_error(msg);
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

} // namespace

int run_program(const std::vector<std::string>& args, std::string_view version) {
    const CliResult cli = parse_cli(args);
    if (!cli.ok()) return usage_error(cli.error);
    const Options& o = *cli.options;
    if (o.mode == Options::Mode::help) {
        std::fputs(usage_text().c_str(), stdout);
        return exit_ok;
    }
    if (o.mode == Options::Mode::version) {
        std::printf("zfs-puller %.*s\n", static_cast<int>(version.size()), version.data());
        return exit_ok;
    }

    std::vector<JobConfig> jobs;
    if (o.mode == Options::Mode::pull) {
        jobs.push_back(o.pull);
    } else {
        std::string text;
        if (const std::string err = read_config(o.config_path, text); !err.empty())
            return usage_error(err);
        const ConfigResult cfg = parse_config(text);
        if (!cfg.ok()) return usage_error(o.config_path + ": " + cfg.error);
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
    }

    install_signal_handlers();
    Progress progress(o.progress, o.progress_interval);
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
    if (g_signal) code = worse(code, 128 + g_signal);
    return code;
}

} // namespace puller

// Command line of zfs-puller. Pure: argument words in, options out (no I/O, no defaults read
// from the environment).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "puller/config.hpp"
#include "puller/progress.hpp"
#include "puller/restore.hpp"

namespace puller {

inline constexpr const char* default_config_path = "/etc/zfs-puller/config.toml";

struct Options {
    enum class Mode { run, pull, check, help, version, restore, status };
    Mode mode = Mode::run;
    std::string config_path = default_config_path;
    std::vector<std::string> jobs; // --job NAME (all jobs when empty)
    JobConfig pull;                // `pull SOURCE TARGET ...`
    RestoreRequest restore;        // `restore JOB DATASET[@SNAPSHOT] [--as NAME]`
    bool dry_run = false;
    bool verbose = false;
    bool quiet = false; // warnings and errors only
    // `status`: JSON instead of the table, a textfile to write, thresholds (unset: the
    // configuration's [status], else its defaults).
    bool status_json = false;
    std::string status_prometheus;
    std::optional<double> warn_seconds, crit_seconds;
    bool force_rollback = false; // applies to every job run
    ProgressMode progress = ProgressMode::automatic;
    double progress_interval = 5;
};

struct CliResult {
    std::optional<Options> options;
    std::string error;
    bool ok() const { return options.has_value(); }
};

CliResult parse_cli(const std::vector<std::string>& args); // args without argv[0]

std::string usage_text();

} // namespace puller

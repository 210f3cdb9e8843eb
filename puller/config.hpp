// zfs-puller configuration: jobs from a TOML file ([defaults] and [job.NAME]) or one job from the
// command line. Pure: text in, validated values out. Unknown tables or keys are errors, like the
// gatekeeper's policy loader, so a misspelt setting never silently falls back to a default.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace puller {

struct JobConfig {
    std::string name;
    std::string user;        // source login
    std::string host;        // source host (name, IPv4, or IPv6 without brackets)
    std::string source;      // source dataset
    std::string target;      // local target dataset
    std::string ssh_key;     // absolute path
    std::string known_hosts; // absolute path; host keys are always checked
    std::uint16_t port = 22;
    bool recursive = false;
    bool raw = false;
    std::string prefix = "zfs-puller_";
    unsigned keep_source = 3;        // own sync snapshots kept on the source (0: never destroy)
    unsigned keep_target = 30;       // own sync snapshots kept on the target (0: never destroy)
    unsigned prune_min_age_days = 7; // target snapshots younger than this are never destroyed
    unsigned prune_max_percent =
        10; // share of a dataset's own target snapshots one run may destroy
    bool force_rollback = false;
    bool hold = true;             // hold the newest common snapshot on the source
    bool bookmark = false;        // also bookmark it (zfs bookmark DS@S DS#S)
    bool always_snapshot = false; // a sync snapshot even when nothing changed
    std::string zfs = "/usr/sbin/zfs";
    std::string ssh = "/usr/bin/ssh";
    std::string runtime_dir = "/tmp"; // where the private 0700 control-socket dir is made
    // Where the per-target lock files live (created 0700 if missing).
    std::string state_dir = "/var/lib/zfs-puller";
    // Limits: nothing the source sends or fails to send can make a run grow or wait forever.
    unsigned connect_timeout = 60;        // seconds for the SSH connection and login
    unsigned stall_timeout = 600;         // seconds a command or stream may go without output
    unsigned stream_cap_factor = 10;      // a stream may be this many times max(estimate, 64 MiB)
    unsigned max_listing_lines = 2000000; // lines of the source listing
    unsigned max_listing_mib = 256;       // MiB of the source listing
    // `zfs-puller restore` only: the source's restore identity (zfs-gatekeeper preset "restore")
    // logs in with its own key, as restore_user (default: user), and receives below its
    // restore_root on the source. Empty: the job has no restore.
    std::string restore_ssh_key;
    std::string restore_user;
    std::string restore_root;
    bool operator==(const JobConfig&) const = default;
};

// [status]: the thresholds `zfs-puller status` judges by, and the node-exporter textfile a run
// writes at its end ("" none).
struct StatusConfig {
    std::string prometheus_textfile;
    double warn_seconds = 26 * 3600; // last success older than this: warning
    double crit_seconds = 50 * 3600; // older than this: critical
    bool operator==(const StatusConfig&) const = default;
};

struct Config {
    std::vector<JobConfig> jobs; // in file order
    StatusConfig status;
};

struct ConfigResult {
    std::optional<Config> config;
    std::string error;
    bool ok() const { return config.has_value(); }
};

ConfigResult parse_config(std::string_view toml_text);

// "user@host:pool/ds" into job.user/host/source; "" or an error.
std::string parse_source(std::string_view text, JobConfig& job);

// Every field checked (names, paths, prefix); "" or the first problem.
std::string validate_job(const JobConfig& job);

bool is_clean_path(std::string_view path);
bool is_prefix(std::string_view prefix);

} // namespace puller

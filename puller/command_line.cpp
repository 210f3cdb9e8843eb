// Option parsing: `--name VALUE` or `--name=VALUE`; unknown options are errors.
#include "puller/command_line.hpp"

#include <charconv>
#include <set>

#include "ops/time_text.hpp"

namespace puller {
namespace {

std::optional<long long> to_int(const std::string& s) {
    long long v = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
    return v;
}

// Numeric job options of `pull`: option, range, field (the same ranges as the config keys).
struct NumberOption {
    const char* name;
    long long lo, hi;
    unsigned JobConfig::*field;
};
const NumberOption number_options[] = {
    {"--keep-source", 0, 100000, &JobConfig::keep_source},
    {"--keep-target", 0, 100000, &JobConfig::keep_target},
    {"--prune-min-age-days", 0, 36500, &JobConfig::prune_min_age_days},
    {"--prune-max-percent", 1, 100, &JobConfig::prune_max_percent},
    {"--connect-timeout", 1, 3600, &JobConfig::connect_timeout},
    {"--stall-timeout", 1, 86400, &JobConfig::stall_timeout},
    {"--stream-cap-factor", 1, 1000, &JobConfig::stream_cap_factor},
    {"--max-listing-lines", 1000, 1000000000, &JobConfig::max_listing_lines},
    {"--max-listing-mib", 1, 65536, &JobConfig::max_listing_mib},
};

const NumberOption* number_option(const std::string& name) {
    for (const auto& n : number_options)
        if (name == n.name) return &n;
    return nullptr;
}

// Options only `pull` takes: the numeric ones above and these.
const std::set<std::string> pull_only_words{
    "--ssh-key", "--known-hosts", "--port",     "--recursive",       "--raw",
    "--prefix",  "--no-hold",     "--bookmark", "--always-snapshot", "--zfs",
    "--ssh",     "--runtime-dir", "--state-dir"};

bool pull_only(const std::string& option) {
    return pull_only_words.contains(option) || number_option(option) != nullptr;
}

} // namespace

std::string usage_text() {
    return R"(usage: zfs-puller [--config FILE] [--job NAME]... [--dry-run] [--verbose | --quiet]
                  [--force-rollback] [--progress MODE] [--progress-interval SECONDS]
       zfs-puller pull USER@HOST:POOL/DS POOL/DS --ssh-key FILE --known-hosts FILE [JOB OPTIONS]
       zfs-puller [--config FILE] --check
       zfs-puller status [--config FILE] [--job NAME]... [--json] [--prometheus FILE]
                         [--warn AGE] [--crit AGE]
       zfs-puller [--config FILE] restore JOB DATASET[@SNAPSHOT] [--as NAME] [--dry-run]
       zfs-puller --help | --version

Pulls ZFS datasets from a source host through zfs-gatekeeper (preset "puller") into a local pool.
Nothing the source sends is trusted: receive options, retention and rollbacks are decided from
the target's own state, and every listing, stream and wait has a limit.

Options:
  --config FILE          configuration (default /etc/zfs-puller/config.toml)
  --job NAME             run only this job (repeatable; default: every job, in name order)
  --check                validate the configuration and exit 0 or 2
  --dry-run              list the source, plan, print every command it would run (remote: and
                         local: lines) and what --force-rollback would lose (loses: lines);
                         change nothing
  --force-rollback       roll back a diverged target instead of refusing: destroys the newer
                         snapshots and changes made on the target; never snapshots it received
                         from the source, never unrelated data
  --progress MODE        auto (bar on a terminal, JSON lines otherwise), bar, json, none
  --progress-interval S  seconds between JSON progress lines (default 5)
  --verbose, -v          also debug lines on stderr: one per command (time, duration, exit
                         status)
  --quiet, -q            only warnings and errors on stderr (and no progress unless --progress
                         asks for it)
  --help, --version

Restore (a snapshot of the local backup back to the job's source, through the gatekeeper's
restore identity; README "Restore"):
  restore JOB DATASET[@SNAPSHOT]
                         DATASET is the job's target or below it; default snapshot: the newest.
                         Received on the source as <restore_root>/NAME, read-only and unmounted;
                         an interrupted restore is resumed by running it again. Prints the
                         commands that put it in place (run them as root on the source)
  --as NAME              NAME (default: DATASET's last component)

Status (did the last runs work? read from the state file each run writes in its state_dir):
  status                 one line per job and dataset: ok, stale (last success older than
                         --warn), failing (the last attempt failed) or never (no success yet);
                         exit 0 all ok, 1 a warning, 2 critical (older than --crit, failing or
                         never)
  --json                 JSON instead of the table
  --prometheus FILE      also write FILE for node-exporter's textfile collector (atomically)
  --warn AGE, --crit AGE thresholds such as 26h, 90m, 2d (default: warn and crit of [status] in
                         the configuration, else 26h and 50h)

Job options (`pull` only; in a configuration file, the key of the same name with _ for -):
  --ssh-key FILE         private key for the source (required)
  --known-hosts FILE     known_hosts with the source's host key (required; always checked)
  --port N               SSH port (default 22)
  --recursive            the source dataset and everything below it
  --raw                  raw sends (-w) for every dataset, not only encrypted ones
  --prefix P             sync snapshot prefix and hold tag <P>keep (default zfs-puller_)
  --keep-source N        own sync snapshots kept on the source (default 3; 0 = never destroy)
  --keep-target N        own sync snapshots kept on the target (default 30; 0 = never destroy)
  --prune-min-age-days N target snapshots younger than N days are never destroyed (default 7;
                         age from when this host received them)
  --prune-max-percent N  one run destroys at most N % of a dataset's own target snapshots
                         (default 10; at least one); a run that would destroy more than it
                         received destroys none
  --no-hold              do not hold the newest common snapshot on the source (key: hold = false)
  --bookmark             also bookmark the newest sync snapshot on the source
  --always-snapshot      a sync snapshot even when nothing changed
  --zfs PATH, --ssh PATH absolute paths (default /usr/sbin/zfs, /usr/bin/ssh)
  --runtime-dir DIR      parent of the private control-socket directory (default /tmp)
  --state-dir DIR        per-target lock files; created 0700 (default /var/lib/zfs-puller)
  --connect-timeout S    SSH connection and login, seconds (default 60)
  --stall-timeout S      a command or stream with no output for this long fails (default 600)
  --stream-cap-factor N  a stream may be at most N x max(estimate, 64 MiB) (default 10)
  --max-listing-lines N  lines the source listing may have (default 2000000)
  --max-listing-mib N    MiB the source listing may have (default 256)
Configuration keys: source, target and every job option above ([defaults] or [job.NAME]);
  force_rollback; restore_ssh_key, restore_root, restore_user (restore only); [programs] zfs,
  ssh. Unknown keys are errors.
  [status] prometheus_textfile (written at the end of every run), warn, crit.

Exit: 0 ok, 1 a dataset failed, 2 usage or configuration error, 3 a diverged target was refused,
      4 a job could not run (connection, listing, lock, a name from the source zfs would refuse),
      5 internal error, 128+N killed by signal N. With several jobs the most severe wins.
)";
}

CliResult parse_cli(const std::vector<std::string>& args) {
    CliResult r;
    Options o;
    std::vector<std::string> positional;
    bool saw_pull_option = false;
    bool saw_as = false;
    auto fail = [&](const std::string& msg) {
        r.error = msg;
        return r;
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string a = args[i], value;
        bool has_inline = false;
        if (a.starts_with("--")) {
            const auto eq = a.find('=');
            if (eq != std::string::npos) {
                value = a.substr(eq + 1);
                a = a.substr(0, eq);
                has_inline = true;
            }
        }
        auto need = [&](std::string& out) {
            if (has_inline) {
                out = value;
                return true;
            }
            if (i + 1 >= args.size()) return false;
            out = args[++i];
            return true;
        };
        auto flag_only = [&]() { return !has_inline; };
        if (pull_only(a)) saw_pull_option = true;

        std::string v;
        if (a == "--help" || a == "-h")
            o.mode = Options::Mode::help;
        else if (a == "--version")
            o.mode = Options::Mode::version;
        else if (a == "--check")
            o.mode = Options::Mode::check;
        else if (a == "--dry-run" && flag_only())
            o.dry_run = true;
        else if ((a == "--verbose" || a == "-v") && flag_only())
            o.verbose = true;
        else if ((a == "--quiet" || a == "-q") && flag_only())
            o.quiet = true;
        else if (a == "--json" && flag_only())
            o.status_json = true;
        else if (a == "--force-rollback" && flag_only())
            o.force_rollback = true;
        else if (a == "--recursive" && flag_only())
            o.pull.recursive = true;
        else if (a == "--raw" && flag_only())
            o.pull.raw = true;
        else if (a == "--no-hold" && flag_only())
            o.pull.hold = false;
        else if (a == "--bookmark" && flag_only())
            o.pull.bookmark = true;
        else if (a == "--always-snapshot" && flag_only())
            o.pull.always_snapshot = true;
        else if (a == "--config") {
            if (!need(o.config_path)) return fail("--config needs a file");
        } else if (a == "--job") {
            if (!need(v) || v.empty()) return fail("--job needs a name");
            o.jobs.push_back(v);
        } else if (a == "--progress") {
            if (!need(v)) return fail("--progress needs a mode");
            if (v == "auto")
                o.progress = ProgressMode::automatic;
            else if (v == "bar")
                o.progress = ProgressMode::bar;
            else if (v == "json")
                o.progress = ProgressMode::json;
            else if (v == "none")
                o.progress = ProgressMode::none;
            else
                return fail("--progress must be auto, bar, json or none");
        } else if (a == "--progress-interval") {
            if (!need(v)) return fail("--progress-interval needs seconds");
            const auto n = to_int(v);
            if (!n || *n < 1 || *n > 3600) return fail("--progress-interval must be 1..3600");
            o.progress_interval = static_cast<double>(*n);
        } else if (a == "--ssh-key") {
            if (!need(o.pull.ssh_key)) return fail("--ssh-key needs a file");
        } else if (a == "--known-hosts") {
            if (!need(o.pull.known_hosts)) return fail("--known-hosts needs a file");
        } else if (a == "--port") {
            if (!need(v)) return fail("--port needs a number");
            const auto n = to_int(v);
            if (!n || *n < 1 || *n > 65535) return fail("--port must be 1..65535");
            o.pull.port = static_cast<std::uint16_t>(*n);
        } else if (a == "--prefix") {
            if (!need(o.pull.prefix)) return fail("--prefix needs a value");
        } else if (const NumberOption* num = number_option(a)) {
            if (!need(v)) return fail(a + " needs a number");
            const auto n = to_int(v);
            if (!n || *n < num->lo || *n > num->hi)
                return fail(a + " must be " + std::to_string(num->lo) + ".." +
                            std::to_string(num->hi));
            o.pull.*(num->field) = static_cast<unsigned>(*n);
        } else if (a == "--zfs") {
            if (!need(o.pull.zfs)) return fail("--zfs needs a path");
        } else if (a == "--ssh") {
            if (!need(o.pull.ssh)) return fail("--ssh needs a path");
        } else if (a == "--runtime-dir") {
            if (!need(o.pull.runtime_dir)) return fail("--runtime-dir needs a directory");
        } else if (a == "--state-dir") {
            if (!need(o.pull.state_dir)) return fail("--state-dir needs a directory");
        } else if (a == "--prometheus") {
            if (!need(o.status_prometheus) || o.status_prometheus.empty())
                return fail("--prometheus needs a file");
        } else if (a == "--warn" || a == "--crit") {
            if (!need(v)) return fail(a + " needs an age such as 26h");
            const auto age = ops::parse_age(v);
            if (!age) return fail(a + " must be an age such as 90m, 26h or 2d");
            (a == "--warn" ? o.warn_seconds : o.crit_seconds) = *age;
        } else if (a == "--as") {
            if (!need(o.restore.as) || o.restore.as.empty()) return fail("--as needs a name");
            saw_as = true;
        } else if (a.starts_with("-") && a != "-") {
            return fail("unknown option '" + a + "'");
        } else {
            positional.push_back(a);
        }
    }
    if (o.mode == Options::Mode::help || o.mode == Options::Mode::version) {
        r.options = o;
        return r;
    }
    if (o.quiet && o.verbose) return fail("--quiet and --verbose exclude each other");
    if (!positional.empty() && positional.front() == "status") {
        if (positional.size() != 1)
            return fail("unexpected argument '" + positional[1] + "' after status");
        if (o.mode == Options::Mode::check)
            return fail("--check applies to a configuration file, not to status");
        if (saw_pull_option || o.dry_run || o.force_rollback)
            return fail("status takes --config, --job, --json, --prometheus, --warn and --crit");
        if (o.warn_seconds && o.crit_seconds && *o.warn_seconds > *o.crit_seconds)
            return fail("--warn must not be longer than --crit");
        o.mode = Options::Mode::status;
        r.options = o;
        return r;
    }
    if (o.status_json || !o.status_prometheus.empty() || o.warn_seconds || o.crit_seconds)
        return fail("--json, --prometheus, --warn and --crit only apply to status");
    if (!positional.empty() && positional.front() == "restore") {
        if (positional.size() != 3) return fail("restore needs JOB and DATASET[@SNAPSHOT]");
        if (o.mode == Options::Mode::check)
            return fail("--check applies to a configuration file, not to restore");
        if (!o.jobs.empty()) return fail("--job cannot be combined with restore (name the job)");
        if (o.force_rollback) return fail("--force-rollback does not apply to restore");
        if (saw_pull_option)
            return fail("job options such as --ssh-key only apply to `pull`; restore takes them "
                        "from the job in the configuration file");
        o.mode = Options::Mode::restore;
        o.restore.job = positional[1];
        const auto at = positional[2].find('@');
        o.restore.dataset = positional[2].substr(0, at);
        if (at != std::string::npos) {
            o.restore.snapshot = positional[2].substr(at + 1);
            if (o.restore.snapshot.empty()) return fail("restore: an empty snapshot name after @");
        }
        r.options = o;
        return r;
    }
    if (saw_as) return fail("--as only applies to restore");
    if (!positional.empty()) {
        if (positional.front() != "pull")
            return fail("unexpected argument '" + positional.front() + "'");
        if (positional.size() != 3) return fail("pull needs SOURCE and TARGET");
        if (o.mode == Options::Mode::check)
            return fail("--check applies to a configuration file, not to pull");
        if (!o.jobs.empty()) return fail("--job cannot be combined with pull");
        o.mode = Options::Mode::pull;
        const std::string err = parse_source(positional[1], o.pull);
        if (!err.empty()) return fail("source: " + err);
        o.pull.target = positional[2];
        if (o.force_rollback) o.pull.force_rollback = true;
        const std::string verr = validate_job(o.pull);
        if (!verr.empty()) return fail(verr);
        o.pull.name = "pull";
    } else if (saw_pull_option) {
        return fail("job options such as --ssh-key only apply to `pull`; put them in the "
                    "configuration file");
    }
    r.options = o;
    return r;
}

} // namespace puller

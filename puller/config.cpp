// Strict TOML loader for zfs-puller. Every job key may also appear in [defaults]; a job inherits
// them and overrides per key. Paths end up in ssh -o options and argv, so they are restricted
// to a plain character set (no spaces, quotes or `=`).
#include "puller/config.hpp"

#include <algorithm>
#include <cctype>
#include <set>
#include <toml++/toml.h>

#include "grammar/canonical.hpp"
#include "ops/time_text.hpp"
#include "policy/toml_subset.hpp"
#include "policy/toml_values.hpp"

namespace puller {
namespace {

using toml_values::fail;
using toml_values::get_bool;
using toml_values::get_int;
using toml_values::get_string;
using toml_values::load_error;

const std::set<std::string_view> job_keys{"source",
                                          "target",
                                          "ssh_key",
                                          "known_hosts",
                                          "port",
                                          "recursive",
                                          "raw",
                                          "prefix",
                                          "keep_source",
                                          "keep_target",
                                          "force_rollback",
                                          "hold",
                                          "bookmark",
                                          "always_snapshot",
                                          "zfs",
                                          "ssh",
                                          "runtime_dir",
                                          "state_dir",
                                          "connect_timeout",
                                          "stall_timeout",
                                          "stream_cap_factor",
                                          "max_listing_lines",
                                          "max_listing_mib",
                                          "prune_min_age_days",
                                          "prune_max_percent",
                                          "restore_ssh_key",
                                          "restore_user",
                                          "restore_root"};

// Apply the keys of one table ([defaults] or [job.NAME]) onto `job`.
void apply(const toml::table& t, const std::string& table, JobConfig& job, bool is_default) {
    for (const auto& [key, value] : t) {
        const std::string k(key.str());
        const std::string what = table + "." + k;
        if (!job_keys.contains(k)) fail(value, "unknown key '" + k + "' in [" + table + "]");
        if (is_default && (k == "source" || k == "target"))
            fail(value, k + " belongs in a [job.NAME] table");
        if (k == "source") {
            const std::string err = parse_source(get_string(value, what), job);
            if (!err.empty()) fail(value, what + ": " + err);
        } else if (k == "target")
            job.target = get_string(value, what);
        else if (k == "ssh_key")
            job.ssh_key = get_string(value, what);
        else if (k == "known_hosts")
            job.known_hosts = get_string(value, what);
        else if (k == "port")
            job.port = static_cast<std::uint16_t>(get_int(value, what, 1, 65535));
        else if (k == "recursive")
            job.recursive = get_bool(value, what);
        else if (k == "raw")
            job.raw = get_bool(value, what);
        else if (k == "prefix")
            job.prefix = get_string(value, what);
        else if (k == "keep_source")
            job.keep_source = static_cast<unsigned>(get_int(value, what, 0, 100000));
        else if (k == "keep_target")
            job.keep_target = static_cast<unsigned>(get_int(value, what, 0, 100000));
        else if (k == "prune_min_age_days")
            job.prune_min_age_days = static_cast<unsigned>(get_int(value, what, 0, 36500));
        else if (k == "prune_max_percent")
            job.prune_max_percent = static_cast<unsigned>(get_int(value, what, 1, 100));
        else if (k == "force_rollback")
            job.force_rollback = get_bool(value, what);
        else if (k == "hold")
            job.hold = get_bool(value, what);
        else if (k == "bookmark")
            job.bookmark = get_bool(value, what);
        else if (k == "always_snapshot")
            job.always_snapshot = get_bool(value, what);
        else if (k == "zfs")
            job.zfs = get_string(value, what);
        else if (k == "ssh")
            job.ssh = get_string(value, what);
        else if (k == "runtime_dir")
            job.runtime_dir = get_string(value, what);
        else if (k == "state_dir")
            job.state_dir = get_string(value, what);
        else if (k == "connect_timeout")
            job.connect_timeout = static_cast<unsigned>(get_int(value, what, 1, 3600));
        else if (k == "stall_timeout")
            job.stall_timeout = static_cast<unsigned>(get_int(value, what, 1, 86400));
        else if (k == "stream_cap_factor")
            job.stream_cap_factor = static_cast<unsigned>(get_int(value, what, 1, 1000));
        else if (k == "max_listing_lines")
            job.max_listing_lines = static_cast<unsigned>(get_int(value, what, 1000, 1000000000));
        else if (k == "max_listing_mib")
            job.max_listing_mib = static_cast<unsigned>(get_int(value, what, 1, 65536));
        else if (k == "restore_ssh_key")
            job.restore_ssh_key = get_string(value, what);
        else if (k == "restore_user")
            job.restore_user = get_string(value, what);
        else if (k == "restore_root")
            job.restore_root = get_string(value, what);
    }
}

// [status] prometheus_textfile, warn, crit (ages such as "26h"; warn below crit).
StatusConfig parse_status(const toml::table& t) {
    StatusConfig st;
    auto age = [](const toml::node& value, const std::string& what) {
        const auto seconds = ops::parse_age(get_string(value, what));
        if (!seconds) fail(value, what + " must be an age such as \"26h\", \"90m\" or \"2d\"");
        return *seconds;
    };
    for (const auto& [key, value] : t) {
        if (key.str() == "prometheus_textfile") {
            st.prometheus_textfile = get_string(value, "status.prometheus_textfile");
            if (!is_clean_path(st.prometheus_textfile))
                fail(value, "status.prometheus_textfile must be an absolute path of "
                            "[A-Za-z0-9._+@/-] without . or .. components");
        } else if (key.str() == "warn")
            st.warn_seconds = age(value, "status.warn");
        else if (key.str() == "crit")
            st.crit_seconds = age(value, "status.crit");
        else
            fail(value, "unknown key '" + std::string(key.str()) +
                            "' in [status] (prometheus_textfile, warn, crit)");
    }
    if (st.warn_seconds > st.crit_seconds)
        throw load_error{"status.warn must not be longer than status.crit"};
    return st;
}

bool is_job_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

bool is_user(std::string_view s) {
    return !s.empty() && s.size() <= 32 &&
           (std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_') &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.';
           });
}

bool is_host(std::string_view s) {
    if (s.empty() || s.size() > 253 || s.front() == '-' || s.front() == '.') return false;
    if (s.find(':') != std::string_view::npos) // IPv6 literal
        return std::all_of(s.begin(), s.end(), [](char c) {
            return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
        });
    return std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
    });
}

} // namespace

bool is_clean_path(std::string_view p) {
    if (!p.starts_with('/') || p.size() > 1024) return false;
    if (p.find("//") != std::string_view::npos || p.find("/./") != std::string_view::npos ||
        p.find("/../") != std::string_view::npos || p.ends_with("/.") || p.ends_with("/..") ||
        (p.size() > 1 && p.ends_with('/')))
        return false;
    return std::all_of(p.begin(), p.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '.' || c == '_' ||
               c == '-' || c == '+' || c == '@';
    });
}

// The prefix starts snapshot names and the hold tag `<prefix>keep`, which the gatekeeper's
// grammar wants to start with a letter or digit; the same set as its snapshot_prefix check.
bool is_prefix(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::isalpha(static_cast<unsigned char>(s[0])) &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.' || c == ':';
           });
}

std::string parse_source(std::string_view text, JobConfig& job) {
    const auto at = text.find('@');
    if (at == std::string_view::npos) return "must be user@host:pool/dataset";
    const std::string_view user = text.substr(0, at), rest = text.substr(at + 1);
    std::string_view host, dataset;
    if (rest.starts_with('[')) { // [IPv6]:pool/ds
        const auto close = rest.find("]:");
        if (close == std::string_view::npos) return "must be user@[v6addr]:pool/dataset";
        host = rest.substr(1, close - 1);
        dataset = rest.substr(close + 2);
    } else {
        const auto colon = rest.find(':');
        if (colon == std::string_view::npos) return "must be user@host:pool/dataset";
        host = rest.substr(0, colon);
        dataset = rest.substr(colon + 1);
    }
    if (!is_user(user)) return "'" + std::string(user) + "' is not a valid user name";
    if (!is_host(host)) return "'" + std::string(host) + "' is not a valid host name or address";
    if (!grammar::is_valid_dataset_name(dataset))
        return "'" + std::string(dataset) + "' is not a valid dataset name";
    job.user = user;
    job.host = host;
    job.source = dataset;
    return "";
}

std::string validate_job(const JobConfig& j) {
    const std::string in = j.name.empty() ? "" : "job " + j.name + ": ";
    if (j.source.empty()) return in + "source (user@host:pool/dataset) is required";
    if (j.target.empty()) return in + "target (pool/dataset) is required";
    if (!grammar::is_valid_dataset_name(j.target))
        return in + "target '" + j.target + "' is not a valid dataset name";
    if (j.ssh_key.empty()) return in + "ssh_key is required";
    if (j.known_hosts.empty()) return in + "known_hosts is required (host keys are always checked)";
    for (const auto& [what, path] : {std::pair{"ssh_key", &j.ssh_key},
                                     {"known_hosts", &j.known_hosts},
                                     {"zfs", &j.zfs},
                                     {"ssh", &j.ssh},
                                     {"runtime_dir", &j.runtime_dir},
                                     {"state_dir", &j.state_dir}})
        if (!is_clean_path(*path))
            return in + what +
                   " must be an absolute path of [A-Za-z0-9._+@/-] without . or .. components";
    if (j.runtime_dir.size() > 64)
        return in + "runtime_dir must be at most 64 bytes (socket path limit)";
    if (!is_prefix(j.prefix)) return in + "prefix must start with a letter and use [A-Za-z0-9_.:-]";
    if (!j.restore_ssh_key.empty() && !is_clean_path(j.restore_ssh_key))
        return in + "restore_ssh_key must be an absolute path of [A-Za-z0-9._+@/-] without . or .. "
                    "components";
    if (!j.restore_user.empty() && !is_user(j.restore_user))
        return in + "restore_user '" + j.restore_user + "' is not a valid user name";
    // As the gatekeeper's policy loader wants it: a dataset below its pool.
    if (!j.restore_root.empty() && (!grammar::is_valid_dataset_name(j.restore_root) ||
                                    j.restore_root.find('/') == std::string::npos))
        return in + "restore_root '" + j.restore_root +
               "' must be a dataset below its pool (the source's restore root)";
    return "";
}

ConfigResult parse_config(std::string_view text) {
    ConfigResult result;
    try {
        // Like the gatekeeper's policy, only a small subset of TOML reaches toml++ (integers too).
        if (std::string violation =
                policy::toml_subset_violation(text, policy::TomlIntegers::allowed);
            !violation.empty())
            throw load_error{std::move(violation)};
        const toml::table root = toml::parse(text, std::string_view{"config"});
        for (const auto& [key, value] : root)
            if (key.str() != "programs" && key.str() != "defaults" && key.str() != "job" &&
                key.str() != "status")
                fail(value, "unknown table or key '" + std::string(key.str()) + "' at top level");
        JobConfig defaults;
        // [programs] zfs / ssh, as in the gatekeeper's policy file; [defaults] and jobs may
        // still override them.
        if (const auto* n = root.get("programs")) {
            if (!n->is_table()) fail(*n, "[programs] must be a table");
            for (const auto& [key, value] : *n->as_table()) {
                if (key.str() == "zfs")
                    defaults.zfs = get_string(value, "programs.zfs");
                else if (key.str() == "ssh")
                    defaults.ssh = get_string(value, "programs.ssh");
                else
                    fail(value, "unknown program '" + std::string(key.str()) +
                                    "' in [programs] (zfs, ssh)");
            }
        }
        if (const auto* n = root.get("defaults")) {
            if (!n->is_table()) fail(*n, "[defaults] must be a table");
            apply(*n->as_table(), "defaults", defaults, true);
        }
        Config c;
        if (const auto* n = root.get("status")) {
            if (!n->is_table()) fail(*n, "[status] must be a table");
            c.status = parse_status(*n->as_table());
        }
        const auto* jobs = root.get("job");
        if (jobs == nullptr || !jobs->is_table() || jobs->as_table()->empty())
            throw load_error{"no [job.NAME] table: nothing to do"};
        for (const auto& [key, value] : *jobs->as_table()) {
            const std::string name(key.str());
            if (!value.is_table()) fail(value, "[job." + name + "] must be a table");
            if (!is_job_name(name))
                fail(value, "job name '" + name + "' must be [A-Za-z0-9_.-]{1,64}");
            JobConfig job = defaults;
            job.name = name;
            apply(*value.as_table(), "job." + name, job, false);
            const std::string err = validate_job(job);
            if (!err.empty()) fail(value, err);
            c.jobs.push_back(std::move(job));
        }
        result.config = std::move(c);
    } catch (const toml::parse_error& e) {
        result.error =
            "line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    } catch (const load_error& e) {
        result.error = e.message;
    } catch (const std::exception& e) {
        result.error = std::string("cannot load config: ") + e.what();
    }
    return result;
}

} // namespace puller

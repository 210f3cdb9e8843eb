// Policy data: which programs the gatekeeper may start and what each identity (one SSH key) may
// do. Plain values; loading lives in policy_file.cpp, the decision in decide.cpp.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "grammar/invocation.hpp"

namespace policy {

// What vocabulary an identity speaks (see decide.cpp for the exact sets).
enum class Preset {
    syncoid_pull, // everything syncoid 2.1.0..master sends when pulling
    puller,       // only what zfs-puller sends: no probes, no sudo, no pipelines
    read_only,    // syncoid's reads and sends; never creates, holds, bookmarks or destroys
    restore,      // zfs-puller restore: only receives new datasets below restore_root
};

struct IdentityPolicy {
    std::string name;
    std::vector<std::string> datasets; // subtrees, matched component by component
    Preset preset = Preset::read_only;
    std::string snapshot_prefix = "syncoid_";
    bool allow_destroy = false;
    bool raw_only = false;
    std::vector<grammar::Tool> tools;            // pipeline stages it may use
    std::vector<std::string> direct_connections; // "host:port" a socat stage may connect to
    std::string mbuffer_max_memory = "16M";      // largest mbuffer -m (syncoid's default)
    // Preset restore only: received datasets are its direct children. `datasets` is then
    // {restore_root}, the scope of its read-only probes.
    std::string restore_root;
    bool operator==(const IdentityPolicy&) const = default;
};

struct AuditConfig {
    std::optional<std::string> file; // JSON lines, O_APPEND
    bool syslog = false;
    bool required = true; // unwritable sink means deny
    bool operator==(const AuditConfig&) const = default;
};

struct Policy {
    std::map<std::string, std::string> programs; // "zfs" -> "/usr/sbin/zfs"; absolute paths
    AuditConfig audit;
    std::map<std::string, IdentityPolicy> identities;
    bool operator==(const Policy&) const = default;
};

std::string_view preset_name(Preset);
std::optional<Preset> preset_from_name(std::string_view);

// `name` equals `root` or lies below it (`tank/data` contains `tank/data/x`, never
// `tank/database`).
bool dataset_within(std::string_view name, std::string_view root);
bool in_scope(std::string_view dataset, const IdentityPolicy& identity);

} // namespace policy

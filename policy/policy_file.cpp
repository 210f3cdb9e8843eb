// Strict TOML policy loader. Unknown tables and keys are errors, so a misspelt restriction
// (`raw_onyl = true`) can never silently leave an identity less restricted than intended.
#include "policy/policy_file.hpp"

#include <algorithm>
#include <set>
#include <toml++/toml.h>

#include "grammar/canonical.hpp"
#include "grammar/programs.hpp"
#include "policy/toml_subset.hpp"
#include "policy/toml_values.hpp"

namespace policy {
namespace {

using toml_values::fail;
using toml_values::get_bool;
using toml_values::get_string;
using toml_values::get_strings;
using toml_values::load_error;

void only_keys(const toml::table& t, std::initializer_list<std::string_view> allowed,
               const std::string& table_name) {
    for (const auto& [key, value] : t) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end())
            fail(value, "unknown key '" + std::string(key.str()) + "' in [" + table_name + "]");
    }
}

bool is_absolute_clean_path(std::string_view p) {
    if (!p.starts_with('/') || p.find("//") != std::string_view::npos) return false;
    if (p.find("/./") != std::string_view::npos || p.find("/../") != std::string_view::npos)
        return false;
    return !p.ends_with("/.") && !p.ends_with("/..") && !p.ends_with('/');
}

bool is_identity_name(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::all_of(s.begin(), s.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
    });
}

// Prefixes are matched literally against snapshot names and hold tags, so they must be a
// non-empty run of name characters that starts with a letter.
bool is_snapshot_prefix(std::string_view s) {
    return !s.empty() && s.size() <= 64 && std::isalpha(static_cast<unsigned char>(s[0])) &&
           std::all_of(s.begin(), s.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' ||
                      c == '.' || c == ':';
           });
}

bool is_host_port(std::string_view s) {
    const auto colon = s.rfind(':');
    if (colon == std::string_view::npos || colon == 0 || colon + 1 == s.size()) return false;
    const auto host = s.substr(0, colon), port = s.substr(colon + 1);
    return port.size() <= 5 &&
           std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
           std::all_of(host.begin(), host.end(), [](char c) {
               return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.';
           });
}

// mbuffer's -m is bounded by the grammar at 16 GiB; a policy cannot allow more.
constexpr std::uint64_t max_mbuffer_memory = 16ULL << 30;

void load_programs(const toml::table& t, Policy& p) {
    for (const auto& [key, value] : t) {
        const std::string name(key.str());
        if (grammar::find_program_entry(name) == nullptr)
            fail(value, "unknown program '" + name + "' in [programs]");
        const std::string path = get_string(value, "programs." + name);
        if (!is_absolute_clean_path(path))
            fail(value,
                 "programs." + name + " must be an absolute path without . or .. components");
        p.programs[name] = path;
    }
}

void load_audit(const toml::table& t, Policy& p) {
    only_keys(t, {"file", "syslog", "required"}, "audit");
    if (const auto* n = t.get("file")) {
        const std::string path = get_string(*n, "audit.file");
        if (!is_absolute_clean_path(path)) fail(*n, "audit.file must be an absolute path");
        p.audit.file = path;
    }
    if (const auto* n = t.get("syslog")) p.audit.syslog = get_bool(*n, "audit.syslog");
    if (const auto* n = t.get("required")) p.audit.required = get_bool(*n, "audit.required");
}

// A restore identity has its restore_root and nothing else: no key of the send presets applies,
// and one that is set anyway (say `datasets`, meant as a limit) would be a silent no-op.
IdentityPolicy load_restore_identity(const toml::table& t, const std::string& table,
                                     IdentityPolicy id) {
    for (const auto& [key, value] : t)
        if (key.str() != "preset" && key.str() != "restore_root")
            fail(value, "'" + std::string(key.str()) +
                            "' does not apply to preset \"restore\" in [" + table +
                            "] (only restore_root does)");
    const auto* root = t.get("restore_root");
    if (root == nullptr) fail(t, table + ": restore_root is required for preset \"restore\"");
    id.restore_root = get_string(*root, table + ".restore_root");
    if (!grammar::is_valid_dataset_name(id.restore_root))
        fail(*root, table + ".restore_root: '" + id.restore_root + "' is not a valid dataset name");
    if (id.restore_root.find('/') == std::string::npos)
        fail(*root, table + ".restore_root must be a dataset below its pool, not the pool itself");
    id.datasets = {id.restore_root};
    return id;
}

IdentityPolicy load_identity(const std::string& name, const toml::node& node, const Policy& p) {
    const auto* t = node.as_table();
    if (t == nullptr) fail(node, "[identity." + name + "] must be a table");
    if (!is_identity_name(name))
        fail(node, "identity name '" + name + "' must be [A-Za-z0-9_.-]{1,64}");
    const std::string table = "identity." + name;
    IdentityPolicy id;
    id.name = name;
    const auto* preset = t->get("preset");
    if (preset == nullptr) fail(node, table + ": preset is required");
    const auto parsed = preset_from_name(get_string(*preset, table + ".preset"));
    if (!parsed)
        fail(*preset, table + ".preset must be \"syncoid-pull\", \"puller\", \"read-only\" or "
                              "\"restore\"");
    id.preset = *parsed;
    if (id.preset == Preset::restore) return load_restore_identity(*t, table, std::move(id));
    only_keys(*t,
              {"datasets", "preset", "snapshot_prefix", "allow_destroy", "raw_only", "tools",
               "direct_connections", "mbuffer_max_memory"},
              table);

    const auto* datasets = t->get("datasets");
    if (datasets == nullptr) fail(node, table + ": datasets is required");
    id.datasets = get_strings(*datasets, table + ".datasets");
    if (id.datasets.empty()) fail(*datasets, table + ".datasets must not be empty");
    for (const auto& ds : id.datasets)
        if (!grammar::is_valid_dataset_name(ds))
            fail(*datasets, table + ".datasets: '" + ds + "' is not a valid dataset name");

    if (const auto* n = t->get("snapshot_prefix")) {
        id.snapshot_prefix = get_string(*n, table + ".snapshot_prefix");
        if (!is_snapshot_prefix(id.snapshot_prefix))
            fail(*n, table + ".snapshot_prefix must start with a letter and use [A-Za-z0-9_.:-]");
    }
    if (const auto* n = t->get("allow_destroy"))
        id.allow_destroy = get_bool(*n, table + ".allow_destroy");
    if (const auto* n = t->get("raw_only")) id.raw_only = get_bool(*n, table + ".raw_only");
    if (const auto* n = t->get("tools")) {
        for (const auto& tool_text : get_strings(*n, table + ".tools")) {
            const auto tool = grammar::tool_from_name(tool_text);
            if (!tool) fail(*n, table + ".tools: unknown tool '" + tool_text + "'");
            if (!p.programs.contains(tool_text))
                fail(*n, table + ".tools: '" + tool_text + "' has no path in [programs]");
            if (std::find(id.tools.begin(), id.tools.end(), *tool) == id.tools.end())
                id.tools.push_back(*tool);
        }
    }
    if (const auto* n = t->get("direct_connections")) {
        id.direct_connections = get_strings(*n, table + ".direct_connections");
        for (const auto& hp : id.direct_connections)
            if (!is_host_port(hp))
                fail(*n, table + ".direct_connections: '" + hp + "' is not host:port");
    }
    if (const auto* n = t->get("mbuffer_max_memory")) {
        id.mbuffer_max_memory = get_string(*n, table + ".mbuffer_max_memory");
        const auto bytes = grammar::mbuffer_bytes(id.mbuffer_max_memory);
        if (!bytes || *bytes > max_mbuffer_memory)
            fail(*n,
                 table +
                     ".mbuffer_max_memory must be a size such as \"16M\" or \"1G\" (at most 16G)");
    }
    return id;
}

} // namespace

PolicyResult parse_policy(std::string_view text) {
    PolicyResult result;
    try {
        // toml++ only ever sees the subset a policy is written in (see toml_subset.hpp).
        if (std::string violation = toml_subset_violation(text); !violation.empty())
            throw load_error{std::move(violation)};
        const toml::table root = toml::parse(text, std::string_view{"policy"});
        only_keys(root, {"programs", "audit", "identity"}, "top level");
        Policy p;
        if (const auto* n = root.get("programs")) {
            if (!n->is_table()) fail(*n, "[programs] must be a table");
            load_programs(*n->as_table(), p);
        }
        if (!p.programs.contains("zfs")) throw load_error{"[programs] must give the path of zfs"};
        if (const auto* n = root.get("audit")) {
            if (!n->is_table()) fail(*n, "[audit] must be a table");
            load_audit(*n->as_table(), p);
        }
        if (const auto* n = root.get("identity")) {
            if (!n->is_table()) fail(*n, "[identity] must hold [identity.NAME] tables");
            for (const auto& [key, value] : *n->as_table())
                p.identities[std::string(key.str())] =
                    load_identity(std::string(key.str()), value, p);
        }
        if (p.identities.empty())
            throw load_error{"no [identity.NAME] table: nothing would be allowed"};
        result.policy = std::move(p);
    } catch (const toml::parse_error& e) {
        result.error =
            "line " + std::to_string(e.source().begin.line) + ": " + std::string(e.description());
    } catch (const load_error& e) {
        result.error = e.message;
    } catch (const std::exception& e) {
        result.error = std::string("cannot load policy: ") + e.what();
    }
    return result;
}

} // namespace policy

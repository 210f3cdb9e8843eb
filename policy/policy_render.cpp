// render_policy(): a Policy back to TOML text (fuzz property, tests). A file of its own: the
// gatekeeper never renders a policy, so it never links toml++'s formatter (nor the libm it
// pulls in).
#include <sstream>
#include <toml++/toml.h>

#include "grammar/programs.hpp"
#include "policy/policy_file.hpp"

namespace policy {

std::string render_policy(const Policy& p) {
    toml::table root;
    toml::table programs;
    for (const auto& [name, path] : p.programs)
        programs.insert(name, path);
    root.insert("programs", std::move(programs));
    toml::table audit;
    if (p.audit.file) audit.insert("file", *p.audit.file);
    audit.insert("syslog", p.audit.syslog);
    audit.insert("required", p.audit.required);
    root.insert("audit", std::move(audit));
    toml::table identities;
    for (const auto& [name, id] : p.identities) {
        toml::table t;
        if (id.preset == Preset::restore) {
            t.insert("preset", std::string(preset_name(id.preset)));
            t.insert("restore_root", id.restore_root);
            identities.insert(name, std::move(t));
            continue;
        }
        toml::array datasets;
        for (const auto& ds : id.datasets)
            datasets.push_back(ds);
        t.insert("datasets", std::move(datasets));
        t.insert("preset", std::string(preset_name(id.preset)));
        t.insert("snapshot_prefix", id.snapshot_prefix);
        t.insert("allow_destroy", id.allow_destroy);
        t.insert("raw_only", id.raw_only);
        toml::array tools;
        for (auto tool : id.tools)
            tools.push_back(std::string(grammar::tool_name(tool)));
        t.insert("tools", std::move(tools));
        toml::array direct;
        for (const auto& hp : id.direct_connections)
            direct.push_back(hp);
        t.insert("direct_connections", std::move(direct));
        t.insert("mbuffer_max_memory", id.mbuffer_max_memory);
        identities.insert(name, std::move(t));
    }
    root.insert("identity", std::move(identities));
    std::ostringstream out;
    out << root << '\n';
    return out.str();
}

} // namespace policy

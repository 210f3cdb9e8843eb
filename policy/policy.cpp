// Small helpers over policy values: preset names and component-wise dataset scope.
#include "policy/policy.hpp"

namespace policy {

std::string_view preset_name(Preset p) {
    switch (p) {
    case Preset::syncoid_pull:
        return "syncoid-pull";
    case Preset::puller:
        return "puller";
    case Preset::restore:
        return "restore";
    case Preset::read_only:
        return "read-only";
    }
    return "?";
}

std::optional<Preset> preset_from_name(std::string_view name) {
    for (Preset p : {Preset::syncoid_pull, Preset::puller, Preset::read_only, Preset::restore})
        if (preset_name(p) == name) return p;
    return std::nullopt;
}

bool dataset_within(std::string_view name, std::string_view root) {
    if (root.empty() || !name.starts_with(root)) return false;
    // A string prefix is not enough (borg #1428): the next byte must end a component.
    return name.size() == root.size() || name[root.size()] == '/';
}

bool in_scope(std::string_view dataset, const IdentityPolicy& identity) {
    for (const auto& root : identity.datasets)
        if (dataset_within(dataset, root)) return true;
    return false;
}

} // namespace policy

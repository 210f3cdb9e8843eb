// Policy file (TOML) text in, validated Policy out. Pure: the caller opens and checks the file
// (gatekeeper/policy_load.cpp). Any error rejects the whole file: nothing is partially loaded.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "policy/policy.hpp"

namespace policy {

struct PolicyResult {
    std::optional<Policy> policy;
    std::string error; // "line 12: unknown key 'raw_onyl' in [identity.x]"
    bool ok() const { return policy.has_value(); }
};

PolicyResult parse_policy(std::string_view toml_text);

// TOML text that parse_policy() reads back as an equal Policy (fuzz property, NixOS goldens).
std::string render_policy(const Policy& policy);

} // namespace policy

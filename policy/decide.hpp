// The decision: a pure function of the parsed invocation, the identity's policy and the program
// table. Default deny: every branch that does not end in an explicit allow denies.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "grammar/invocation.hpp"
#include "policy/policy.hpp"

namespace policy {

// What the gatekeeper answers itself for exit / echo -n / command -v (nothing is started).
struct BuiltinAnswer {
    std::string stdout_text;
    int exit_status = 0;
    bool operator==(const BuiltinAnswer&) const = default;
};

using Argv = std::vector<std::string>;

struct Decision {
    bool allowed = false;
    std::string reason; // why it was denied (audit log only)
    std::string rule;   // the rule that allowed or denied, e.g. "send.incremental"
    std::optional<BuiltinAnswer> builtin; // set when the answer is internal
    grammar::Invocation effective;        // what will run (scoped probes differ from the request)
    std::vector<std::vector<Argv>> argv;  // per pipeline, per stage; argv[0] is an absolute path
};

Decision decide(const grammar::Invocation& invocation, const IdentityPolicy& identity,
                const std::map<std::string, std::string>& programs);

} // namespace policy

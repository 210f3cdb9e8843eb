// The policy the command, resume-token and audit harnesses decide under: the corpus policy of
// tests/support.hpp (identities `corpus` and `direct`, both syncoid-pull, and `restore`) plus a
// `puller` identity and a read-only, raw-only one, so every preset rule meets fuzzed input.
// Fuzz code only.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "policy/policy_file.hpp"
#include "tests/support.hpp"

namespace fuzz {

inline constexpr const char* extra_identities = R"(
[identity.puller]
datasets = ["tank/data"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
allow_destroy = true
tools = ["lzop", "mbuffer"]

[identity.ro]
datasets = ["tank/data", "tank/enc"]
preset = "read-only"
allow_destroy = true
raw_only = true
tools = ["zstd"]
)";

inline constexpr const char* identity_names[] = {"corpus", "direct", "puller", "ro", "restore"};

inline const policy::Policy& fixed_policy() {
    static const policy::Policy p = [] {
        const auto r =
            policy::parse_policy(std::string(test_support::corpus_policy_text) + extra_identities);
        if (!r.ok()) {
            std::fprintf(stderr, "fuzz: fixed policy does not load: %s\n", r.error.c_str());
            std::abort();
        }
        return *r.policy;
    }();
    return p;
}

} // namespace fuzz

// libFuzzer harness for the policy file: TOML text through parse_policy() (toml++ is compiled
// header-only in the fuzz build, so its parser is instrumented too). A file that loads must
// satisfy the loader's own validation rules and render back (render_policy) to an equal policy.
// Links the policy library only.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fuzz_check.hpp"
#include "grammar/canonical.hpp"
#include "grammar/programs.hpp"
#include "policy/policy_file.hpp"

namespace {

using fuzz::require;

bool absolute_clean(std::string_view p) {
    return p.starts_with('/') && !p.ends_with('/') && p.find("//") == std::string_view::npos &&
           p.find("/./") == std::string_view::npos && p.find("/../") == std::string_view::npos &&
           !p.ends_with("/.") && !p.ends_with("/..") && fuzz::printable_ascii(p);
}

// What every loaded policy guarantees to decide() and the supervisor.
void check_loaded(const policy::Policy& p) {
    require(p.programs.contains("zfs"), "loaded policy without a zfs path");
    for (const auto& [name, path] : p.programs) {
        require(grammar::find_program_entry(name) != nullptr, "unknown program name loaded", name);
        require(absolute_clean(path), "program path not absolute and clean", path);
    }
    if (p.audit.file)
        require(absolute_clean(*p.audit.file), "audit file not absolute", *p.audit.file);
    require(!p.identities.empty(), "loaded policy without identities");
    for (const auto& [key, id] : p.identities) {
        require(id.name == key && !key.empty() && key.size() <= 64 && fuzz::printable_ascii(key),
                "identity name", key);
        require(!id.datasets.empty(), "identity without datasets", key);
        for (const auto& ds : id.datasets)
            require(grammar::is_valid_dataset_name(ds), "identity dataset is not a valid name", ds);
        require(!id.snapshot_prefix.empty() && fuzz::printable_ascii(id.snapshot_prefix) &&
                    id.snapshot_prefix.find_first_of("%,@#/ ") == std::string::npos,
                "snapshot prefix charset", id.snapshot_prefix);
        for (auto tool : id.tools) {
            require(p.programs.contains(std::string(grammar::tool_name(tool))),
                    "tool without a program path", grammar::tool_name(tool));
            require(std::count(id.tools.begin(), id.tools.end(), tool) == 1, "tool listed twice",
                    grammar::tool_name(tool));
        }
        for (const auto& hp : id.direct_connections)
            require(fuzz::printable_ascii(hp) && hp.find(':') != std::string::npos,
                    "direct connection", hp);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    const policy::PolicyResult loaded = policy::parse_policy(text);
    if (!loaded.ok()) {
        require(!loaded.error.empty(), "policy refused without a message");
        return 0;
    }
    require(loaded.error.empty(), "policy loaded with an error message", loaded.error);
    check_loaded(*loaded.policy);

    const std::string rendered = policy::render_policy(*loaded.policy);
    const policy::PolicyResult again = policy::parse_policy(rendered);
    require(again.ok(), "rendered policy does not load", again.error + "\n" + rendered);
    require(*again.policy == *loaded.policy, "rendered policy loads as a different policy",
            rendered);
    require(policy::render_policy(*again.policy) == rendered, "render_policy is not a fixed point",
            rendered);
    return 0;
}

// Landlock filesystem fence for one started program, through the raw syscalls (no liblandlock).
// Planned in the parent (ABI probe, stat of each rule path, the program's ELF interpreter);
// applied in the child with open(O_PATH) + landlock_add_rule + landlock_restrict_self only.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gatekeeper/seccomp_allowlist.hpp"

namespace gatekeeper {

struct LandlockRule {
    std::string path;
    std::uint64_t access = 0; // already masked to what the ABI handles and the file type takes
    std::string reason;
};

struct LandlockPlan {
    int abi = 0;                   // 0: Landlock unavailable, nothing is applied
    std::string unavailable;       // why, when abi == 0
    std::uint64_t handled_fs = 0;  // every filesystem right this ABI knows: denied unless granted
    std::uint64_t handled_net = 0; // ABI 4+: TCP bind (and connect, except for socat)
    std::uint64_t scoped = 0;      // ABI 6+: signals and abstract unix sockets stay inside
    std::vector<LandlockRule> rules;
    std::vector<std::string> skipped; // rule paths absent on this system
};

// Probes the running kernel: the ABI version, or 0 with the reason in `why`.
int landlock_abi(std::string& why);

// The fence for `program` run under `profile`; `error` is set if the program cannot be fenced
// (e.g. its ELF header is unreadable).
LandlockPlan plan_landlock(Profile profile, const std::string& program, int abi,
                           std::string& error);

// In the child, after no_new_privs. Returns false on any failure (the caller _exits).
bool apply_landlock(const LandlockPlan& plan) noexcept;

// For --print-sandbox and the outcome record.
std::string render_landlock(const LandlockPlan& plan);
std::string access_names(std::uint64_t access);

// PT_INTERP of an ELF executable ("" for a static one); false if it is not a readable ELF file.
bool elf_interpreter(const std::string& program, std::string& interpreter);

} // namespace gatekeeper

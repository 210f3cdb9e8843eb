// The sandbox every started stage enters between fork and execve, and the tighter one the
// supervisor enters after its last fork. Prepared in the parent (filter compilation, Landlock
// plans, allocation); the child only makes the syscalls that apply it, seccomp last
// (house-style decision 5). SANDBOX.md describes the whole design.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "landlock.hpp"
#include "seccomp_filter.hpp"

namespace gatekeeper {

// Everything one configured program path runs under.
struct ProgramSandbox {
    std::string path; // absolute, from the policy's [programs]
    Profile profile = Profile::stream;
    LandlockPlan landlock;
};

struct Sandbox {
    bool running_as_root = false;
    std::vector<CompiledFilter> child_filters; // indexed by Profile
    CompiledFilter supervisor_filter;
    std::vector<ProgramSandbox> programs;
    int landlock_abi = 0;
    std::string landlock_unavailable; // why, when landlock_abi == 0
    bool supervisor_filter_loaded = false;
    std::string supervisor_filter_error;
    std::string error; // preparation failed: every stage start fails closed
};

// The profile of a [programs] key: zfs and zpool talk to /dev/zfs, socat to the network,
// every other tool only to its pipes.
Profile profile_for_program(const std::string& key);

// In the parent, before any fork: sets no_new_privs for the supervisor too, compiles the
// filters and plans the fence of every configured program.
Sandbox prepare_sandbox(const std::map<std::string, std::string>& programs);

// In the child, with `program` the path about to be executed. Any failure _exits(126): a
// partial drop is never recovered. Nothing may run between this and execve.
void enter_sandbox(const Sandbox& sandbox, const char* program) noexcept;

// In the supervisor once nothing more will be forked. A failure is recorded (the children are
// already sandboxed and keep running); it never kills the run.
void enter_supervisor_sandbox(Sandbox& sandbox) noexcept;

// The outcome record's "sandbox" object.
nlohmann::json describe_sandbox(const Sandbox& sandbox);

// --print-sandbox: every filter in libseccomp's readable form, then each program's fence.
std::string render_sandbox(const Sandbox& sandbox);
// The part of it that does not depend on the machine: tests/golden/seccomp.pfc.
std::string render_seccomp_filters();

} // namespace gatekeeper

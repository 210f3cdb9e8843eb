// The sandbox every started stage enters before execve (exec.cpp applies it), and
// the tighter one the supervisor enters after its last fork. Prepared here, in the parent
// (filter compilation, Landlock plans, allocation); SANDBOX.md describes the whole design.
#pragma once

#include <array>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "gatekeeper/capabilities.hpp"
#include "gatekeeper/landlock.hpp"
#include "gatekeeper/seccomp_filter.hpp"

namespace gatekeeper {

// Everything one configured program path runs under.
struct ProgramSandbox {
    std::string path; // absolute, from the policy's [programs]
    Profile profile = Profile::stream;
    LandlockPlan landlock;
    CapabilityPlan capabilities;
};

struct Sandbox {
    bool running_as_root = false;
    // Indexed by Profile; only the profiles of the prepared programs are compiled (an empty
    // program cannot be loaded, so a stage of any other profile fails closed).
    std::array<CompiledFilter, std::size(all_profiles)> child_filters;
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

// In the parent, before any stage starts: sets no_new_privs for the supervisor too, compiles the
// filters of the given programs' profiles and the supervisor's, and plans each program's fence.
// Serving passes only the programs the invocation starts (programs_started): compiling and
// planning for the rest would cost every session time for nothing.
Sandbox prepare_sandbox(const std::map<std::string, std::string>& programs);

// The [programs] entries whose path is argv[0] of some stage of `argv`.
std::map<std::string, std::string>
programs_started(const std::map<std::string, std::string>& programs,
                 const std::vector<std::vector<std::vector<std::string>>>& argv);

// The prepared sandbox of the program at `path`, or nullptr when none was prepared for it.
const ProgramSandbox* find_program(const Sandbox& sandbox, const std::string& path) noexcept;

// PR_SET_NO_NEW_PRIVS, read back. Async-signal-safe (the child sets it too).
bool set_no_new_privs() noexcept;

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

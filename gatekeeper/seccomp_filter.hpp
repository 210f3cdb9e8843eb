// Compiles the allowlists of seccomp_allowlist.hpp into BPF with libseccomp (in the parent, while
// allocation is still fine) and loads a compiled program with one seccomp(2) call (in the child,
// last before execve; in the supervisor, after its last fork). Nothing here decides what is
// allowed: that is the table's job.
#pragma once

#include <cstddef>
#include <linux/filter.h>
#include <string>
#include <vector>

#include "gatekeeper/seccomp_allowlist.hpp"

namespace gatekeeper {

struct CompiledFilter {
    std::string name;                 // profile name, or "supervisor"
    std::vector<sock_filter> program; // what seccomp(2) loads
    std::size_t syscalls = 0;         // allowed syscall names (ENOSYS answers not counted)
    std::string hash;                 // FNV-1a 64 of the BPF bytes: identifies, does not protect
    std::string error;                // non-empty: compilation failed, nothing may run
};

// Compiled by libseccomp now. Serving loads the build-time compilation of the same tables
// instead (seccomp_programs.hpp); these remain for the generator, the tests that hold the two
// equal, and --print-sandbox.
CompiledFilter compile_child_filter(Profile profile);
CompiledFilter compile_supervisor_filter();

// "2.5.4": the libseccomp this binary runs with.
std::string libseccomp_version();

// libseccomp's readable dump (seccomp_export_pfc) of the same filters, for --print-sandbox and
// the golden file in tests/golden/.
std::string child_filter_pfc(Profile profile);
std::string supervisor_filter_pfc();

// seccomp(SECCOMP_SET_MODE_FILTER) with the precompiled program: one syscall, no allocation,
// async-signal-safe. no_new_privs must already be set. Returns false on failure (errno set).
bool load_filter(const CompiledFilter& filter) noexcept;

} // namespace gatekeeper

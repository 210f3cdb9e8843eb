// One stage's way from fork to execve. Everything that allocates or can be slow is prepared in
// the parent (argv, the compiled seccomp program, the Landlock plan); exec_stage() in the child
// only makes the syscalls that apply them, in one fixed order.
#pragma once

#include <vector>

#include "gatekeeper/sandbox.hpp"
#include "policy/decide.hpp"

namespace gatekeeper {

// The fixed environment every stage gets; nothing is inherited from sshd or the client.
extern const char* const child_environment[];

struct PreparedStage {
    std::vector<char*> argv; // null-terminated; argv[0] the absolute program path
    const Sandbox* sandbox = nullptr;
    const ProgramSandbox* program = nullptr; // nullptr: no sandbox for it, so it never runs
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1; // set by the caller before fork
};

// In the parent. `argv` must outlive the returned stage (it points into it).
PreparedStage prepare_stage(const Sandbox& sandbox, const policy::Argv& argv);

// In the child, straight after fork: fds, signals, core limit, capabilities, no_new_privs,
// chdir("/"), Landlock, seccomp, execve. Any failure ends the child with child_fail(): a
// partial drop is never recovered and nothing runs half-sandboxed.
[[noreturn]] void exec_stage(const PreparedStage& stage) noexcept;

} // namespace gatekeeper

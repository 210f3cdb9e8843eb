// One stage's way from the parent to execve. Everything that allocates or can be slow is
// prepared in the parent (argv, the seccomp program, the Landlock plan, the capability sets);
// the child, which shares the parent's memory until execve, only makes the syscalls that apply
// them, in one fixed order (exec_stage).
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
    int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1; // set by the caller before spawn_stage
};

// In the parent. `argv` must outlive the returned stage (it points into it).
PreparedStage prepare_stage(const Sandbox& sandbox, const policy::Argv& argv);

// Starts the stage the way posix_spawn does: clone(CLONE_VM | CLONE_VFORK) onto a stack of
// its own, so no page table is copied and no page is copied on write; the caller is suspended
// until the child has called execve or ended. Returns the child's pid, or -1 (errno set).
pid_t spawn_stage(const PreparedStage& stage) noexcept;

// The child's whole life: fds, signals, core limit, capabilities, no_new_privs, chdir("/"),
// Landlock, seccomp, execve. Any failure ends the child with child_fail(): a partial drop is
// never recovered and nothing runs half-sandboxed. It writes no memory of the parent's.
[[noreturn]] void exec_stage(const PreparedStage& stage) noexcept;

} // namespace gatekeeper

// The child's side of a stage, top to bottom in one function (house-style decision 5). The
// seccomp filter comes last, so it never has to allow a privilege-changing call; between it
// and execve nothing runs.
#include "gatekeeper/exec.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <sched.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "gatekeeper/capabilities.hpp"
#include "gatekeeper/child_exit.hpp"
#include "gatekeeper/process_hygiene.hpp"

namespace gatekeeper {

const char* const child_environment[] = {"PATH=/nonexistent", "LC_ALL=C", nullptr};

namespace {

// The child's stack until execve: libcap, Landlock and seccomp calls need a few KiB. One
// mapping, made on first use and reused: with CLONE_VFORK no two children run on it at once.
// A PROT_NONE guard page below it turns an overflow into a crash instead of a write into
// other memory of the parent's.
constexpr std::size_t child_stack_bytes = 256 * 1024, guard_bytes = 4096;

char* child_stack_top() noexcept {
    static char* top = [] {
        void* base = ::mmap(nullptr, child_stack_bytes + guard_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        if (base == MAP_FAILED) return static_cast<char*>(nullptr);
        if (::mprotect(base, guard_bytes, PROT_NONE) != 0) return static_cast<char*>(nullptr);
        return static_cast<char*>(base) + guard_bytes + child_stack_bytes;
    }();
    return top;
}

int stage_main(void* stage) {
    exec_stage(*static_cast<const PreparedStage*>(stage));
}

} // namespace

pid_t spawn_stage(const PreparedStage& stage) noexcept {
    char* const top = child_stack_top();
    if (top == nullptr) {
        errno = ENOMEM;
        return -1;
    }
    // SIGCHLD: the child is reaped like a forked one. No CLONE_FILES, CLONE_FS, CLONE_SIGHAND or
    // CLONE_THREAD: its fd table, cwd, signal actions, rlimits, credentials, no_new_privs,
    // Landlock domain and seccomp filter are its own, so nothing it applies reaches the parent.
    return ::clone(stage_main, top, CLONE_VM | CLONE_VFORK | SIGCHLD,
                   const_cast<PreparedStage*>(&stage));
}

PreparedStage prepare_stage(const Sandbox& sandbox, const policy::Argv& argv) {
    PreparedStage stage;
    for (const auto& word : argv)
        stage.argv.push_back(const_cast<char*>(word.c_str()));
    stage.argv.push_back(nullptr);
    stage.sandbox = &sandbox;
    if (!argv.empty()) stage.program = find_program(sandbox, argv.front());
    return stage;
}

void exec_stage(const PreparedStage& stage) noexcept {
    constexpr auto failed = ChildExit::sandbox_failed;
    // 1. The stage's stdio; every other fd goes, so no stage sees another's pipe or the audit
    //    file. (The sources were opened O_CLOEXEC in the parent and are > 2.)
    if (::dup2(stage.stdin_fd, 0) < 0 || ::dup2(stage.stdout_fd, 1) < 0 ||
        ::dup2(stage.stderr_fd, 2) < 0)
        child_fail(ChildExit::not_started, "zfs-gatekeeper: cannot set up stage\n");
    close_fds_from(3);
    // 2. Signals as a program expects them: none blocked, SIGPIPE ending a writer whose reader
    //    went away, as under sh (the supervisor ignores it for itself).
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::signal(SIGPIPE, SIG_DFL);
    // 3. The sandbox, prepared in the parent; a stage without one never runs.
    const Sandbox& sandbox = *stage.sandbox;
    if (!sandbox.error.empty()) child_fail(failed, "zfs-gatekeeper: sandbox unavailable\n");
    if (stage.program == nullptr)
        child_fail(failed, "zfs-gatekeeper: no sandbox for this program\n");
    // 4. A program killed by the filter must not leave a core file (stream data, keys) behind.
    const rlimit no_core{0, 0};
    if (::setrlimit(RLIMIT_CORE, &no_core) != 0)
        child_fail(failed, "zfs-gatekeeper: cannot disable core dumps\n");
    // 5. Capabilities (bounding set first), then no_new_privs: nothing regains them at execve.
    drop_capabilities(stage.program->capabilities);
    if (!set_no_new_privs()) child_fail(failed, "zfs-gatekeeper: cannot set no_new_privs\n");
    // 6. No relative path can reach the gatekeeper's (sshd's) working directory.
    if (::chdir("/") != 0) child_fail(failed, "zfs-gatekeeper: cannot chdir to /\n");
    // 7. The filesystem fence (needs no_new_privs).
    if (!apply_landlock(stage.program->landlock))
        child_fail(failed, "zfs-gatekeeper: cannot apply the Landlock fence\n");
    // 8. Last: from here on only execve, write and exit_group (all in the allowlist) follow.
    if (!load_filter(sandbox.child_filters[static_cast<std::size_t>(stage.program->profile)]))
        child_fail(failed, "zfs-gatekeeper: cannot load the seccomp filter\n");
    ::execve(stage.argv[0], stage.argv.data(), const_cast<char* const*>(child_environment));
    child_fail(ChildExit::not_started, "zfs-gatekeeper: cannot start stage\n");
}

} // namespace gatekeeper

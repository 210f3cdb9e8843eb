// Child sandbox, in the order minijail uses: capabilities (bounding set first, while
// CAP_SETPCAP is still held), securebits, no_new_privs, then the filter. Every step that fails
// _exits with status 126: a half-applied sandbox never runs a program.
#include "sandbox.hpp"

#include <linux/securebits.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

namespace gatekeeper {
namespace {

[[noreturn]] void sandbox_fail(const char* msg) noexcept {
    const ssize_t ignored = ::write(2, msg, __builtin_strlen(msg));
    (void)ignored;
    ::_exit(126);
}

// Drop every capability from every set. Unprivileged (the default deployment) this only
// clears what an ambient-raising wrapper may have left; as root it is what stops zfs and the
// tools from being all-powerful.
void drop_all_capabilities(bool root) noexcept {
    if (cap_reset_ambient() != 0 && CAP_AMBIENT_SUPPORTED())
        sandbox_fail("zfs-gatekeeper: cannot clear ambient capabilities\n");
    if (root) {
        // Bounding set first: it needs CAP_SETPCAP, which the cap_set_proc below removes.
        for (cap_value_t c = 0; c <= CAP_LAST_CAP; ++c)
            if (CAP_IS_SUPPORTED(c) && cap_drop_bound(c) != 0)
                sandbox_fail("zfs-gatekeeper: cannot drop the bounding set\n");
        // uid 0 regains the bounding set at execve unless NOROOT is set and locked.
        if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                         SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED,
                  0, 0, 0) != 0)
            sandbox_fail("zfs-gatekeeper: cannot lock securebits\n");
    }
    cap_t none = cap_init();
    if (none == nullptr || cap_set_proc(none) != 0) sandbox_fail("zfs-gatekeeper: cannot drop capabilities\n");
    cap_free(none);
}

}  // namespace

Sandbox prepare_sandbox() {
    Sandbox s;
    s.running_as_root = ::geteuid() == 0;
    return s;
}

void enter_sandbox(const Sandbox& sandbox) noexcept {
    if (!sandbox.error.empty()) sandbox_fail("zfs-gatekeeper: sandbox unavailable\n");
    drop_all_capabilities(sandbox.running_as_root);
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1)
        sandbox_fail("zfs-gatekeeper: cannot set no_new_privs\n");
    if (::chdir("/") != 0) sandbox_fail("zfs-gatekeeper: cannot chdir to /\n");
}

nlohmann::json describe_sandbox(const Sandbox& sandbox) {
    return {{"capabilities", "none"},
            {"no_new_privs", true},
            {"running_as_root", sandbox.running_as_root},
            {"seccomp", false}};
}

}  // namespace gatekeeper

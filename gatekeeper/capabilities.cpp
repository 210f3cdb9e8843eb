// Capability drop for one child. plan_capabilities() runs in the parent (libcap allocates its
// sets there); drop_capabilities() runs between clone and execve, in a child that shares the
// parent's memory, so it only makes syscalls. Every failed step _exits: a half-dropped child
// never runs a program.
#include "gatekeeper/capabilities.hpp"
#include "gatekeeper/child_exit.hpp"

#include <algorithm>
#include <linux/securebits.h>
#include <string>
#include <sys/prctl.h>
#include <unistd.h>

namespace gatekeeper {
namespace {

bool kept(std::span<const cap_value_t> keep, cap_value_t c) {
    return std::find(keep.begin(), keep.end(), c) != keep.end();
}

// E, P and I all set to `keep` (plus CAP_SETPCAP in E and P when `with_setpcap`); null when
// libcap fails.
CapSet cap_set_of(std::span<const cap_value_t> keep, bool with_setpcap) {
    CapSet caps(cap_init());
    bool ok = caps != nullptr;
    for (cap_value_t c : keep)
        for (cap_flag_t f : {CAP_EFFECTIVE, CAP_PERMITTED, CAP_INHERITABLE})
            ok = ok && cap_set_flag(caps.get(), f, 1, &c, CAP_SET) == 0;
    if (with_setpcap) {
        const cap_value_t setpcap = CAP_SETPCAP;
        for (cap_flag_t f : {CAP_EFFECTIVE, CAP_PERMITTED})
            ok = ok && cap_set_flag(caps.get(), f, 1, &setpcap, CAP_SET) == 0;
    }
    return ok ? std::move(caps) : CapSet{};
}

void set_proc(const CapSet& caps) noexcept {
    if (caps == nullptr || cap_set_proc(caps.get()) != 0)
        child_fail(ChildExit::sandbox_failed, "zfs-gatekeeper: cannot drop capabilities\n");
}

} // namespace

std::span<const cap_value_t> kept_capabilities(bool running_as_root, Profile profile) {
    if (running_as_root && profile == Profile::zfs) return root_zfs_capabilities;
    return {};
}

CapabilityPlan plan_capabilities(bool running_as_root, Profile profile) {
    CapabilityPlan plan;
    plan.running_as_root = running_as_root;
    plan.keep = kept_capabilities(running_as_root, profile);
    plan.kernel_caps = cap_max_bits();
    if (running_as_root) plan.with_setpcap = cap_set_of(plan.keep, true);
    plan.final = cap_set_of(plan.keep, false);
    return plan;
}

void drop_capabilities(const CapabilityPlan& plan) noexcept {
    // Ambient first: a NixOS-style wrapper may have raised caps there, and they would survive
    // execve even without file capabilities.
    if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && CAP_AMBIENT_SUPPORTED())
        child_fail(ChildExit::sandbox_failed,
                   "zfs-gatekeeper: cannot clear ambient capabilities\n");
    if (!plan.running_as_root) {
        // Unprivileged: there is nothing to keep, and without CAP_SETPCAP the bounding set cannot
        // shrink; no_new_privs (next) stops any gain through file capabilities or set-uid.
        set_proc(plan.final);
        return;
    }
    // Bounding set first: it needs CAP_SETPCAP, which the final set_proc removes. One
    // PR_CAPBSET_DROP each, without asking first: every one below kernel_caps exists.
    for (cap_value_t c = 0; c < plan.kernel_caps; ++c)
        if (!kept(plan.keep, c) && ::prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0)
            child_fail(ChildExit::sandbox_failed, "zfs-gatekeeper: cannot drop the bounding set\n");
    set_proc(plan.with_setpcap);
    // uid 0 regains its bounding set at execve unless NOROOT is set; ambient caps are the only
    // way the kept set reaches the program.
    for (cap_value_t c : plan.keep)
        if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) != 0)
            child_fail(ChildExit::sandbox_failed,
                       "zfs-gatekeeper: cannot raise the kept capabilities\n");
    constexpr unsigned long bits = SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP |
                                   SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED |
                                   SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED;
    if (::prctl(PR_SET_SECUREBITS, bits, 0, 0, 0) != 0)
        child_fail(ChildExit::sandbox_failed, "zfs-gatekeeper: cannot lock securebits\n");
    set_proc(plan.final);
    if (::prctl(PR_CAPBSET_READ, CAP_SETPCAP, 0, 0, 0) != 0 && !kept(plan.keep, CAP_SETPCAP))
        child_fail(ChildExit::sandbox_failed,
                   "zfs-gatekeeper: bounding set still holds CAP_SETPCAP\n");
}

std::string capability_names(std::span<const cap_value_t> caps) {
    if (caps.empty()) return "none";
    std::string out;
    for (cap_value_t c : caps) {
        char* name = cap_to_name(c);
        if (!out.empty()) out += ',';
        out += name != nullptr ? name : std::to_string(c);
        cap_free(name);
    }
    return out;
}

} // namespace gatekeeper

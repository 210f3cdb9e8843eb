// Which capabilities a started program keeps, and the drop itself (libcap + prctl). As an
// unprivileged user nothing survives; as root only zfs/zpool keep the measured set below, carried
// over execve through the ambient set because SECBIT_NOROOT (locked) stops uid 0 from getting
// its usual full set back. The capability sets are built in the parent (libcap allocates) and
// only applied in the child, which shares the parent's memory until execve (exec.cpp).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <sys/capability.h>

#include "gatekeeper/seccomp_allowlist.hpp"

namespace gatekeeper {

// Measured on zfs 2.1.11 (tests/fixtures/syscall-traces/root-capabilities.txt): as root without
// `zfs allow` delegation, send/snapshot/hold/release/bookmark/destroy fail with EPERM unless
// CAP_SYS_ADMIN is in the bounding set; get/list/zpool get need nothing. Stream tools need none.
inline constexpr cap_value_t root_zfs_capabilities[] = {CAP_SYS_ADMIN};

std::span<const cap_value_t> kept_capabilities(bool running_as_root, Profile profile);

struct CapFree {
    void operator()(_cap_struct* caps) const noexcept { cap_free(caps); }
};
using CapSet = std::unique_ptr<_cap_struct, CapFree>;

// The drop for one program, prepared in the parent.
struct CapabilityPlan {
    bool running_as_root = false;
    std::span<const cap_value_t> keep;
    // How many capabilities this kernel has (libcap asks it once at start): the bounding set
    // is dropped for 0 .. kernel_caps-1, so a kernel newer than our headers loses its new ones.
    cap_value_t kernel_caps = 0;
    CapSet with_setpcap; // E/P/I = keep, plus CAP_SETPCAP in E and P (root: the first capset)
    CapSet final;        // E/P/I = keep
};

// nullopt-like failure is a plan whose `final` is null (libcap could not allocate): the
// program then never starts.
CapabilityPlan plan_capabilities(bool running_as_root, Profile profile);

// In the child, before no_new_privs. Order (minijail): bounding set first, while CAP_SETPCAP is
// held; then E/P/I with CAP_SETPCAP still effective; ambient raise of what is kept; securebits
// locked; finally CAP_SETPCAP itself goes. No allocation. Any failure _exits(126).
void drop_capabilities(const CapabilityPlan& plan) noexcept;

// "none" or a comma list such as "cap_sys_admin".
std::string capability_names(std::span<const cap_value_t> caps);

} // namespace gatekeeper

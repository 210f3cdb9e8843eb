// The seccomp filters as libseccomp compiled them when the gatekeeper was built
// (seccomp_bpf_gen.cpp writes seccomp_programs.cpp into the build tree). Data only.
#pragma once

#include <cstddef>
#include <linux/filter.h>
#include <span>
#include <string_view>

#include "gatekeeper/seccomp_allowlist.hpp"

namespace gatekeeper {

struct PrecompiledFilter {
    std::string_view name;
    std::span<const sock_filter> program;
    std::size_t syscalls;
    std::string_view hash; // FNV-1a 64 of the BPF bytes, as CompiledFilter::hash
};

// Indexed by Profile, in all_profiles order.
extern const PrecompiledFilter precompiled_child_filters[std::size(all_profiles)];
extern const PrecompiledFilter precompiled_supervisor_filter;

} // namespace gatekeeper

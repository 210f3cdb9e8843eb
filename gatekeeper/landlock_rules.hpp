// The filesystem fence, as data: the only paths a started program may read, write or execute,
// each with the profiles it applies to and the reason, read from the measured path lists
// (tests/fixtures/syscall-traces/paths/). Everything else is denied by Landlock, including
// creating, renaming or deleting any file. Pipes and already-open fds are not files and are not
// fenced; stat() and access() are not fenced either (Landlock does not check them). No logic here.
#pragma once

#include <string_view>

#include "gatekeeper/seccomp_allowlist.hpp"

namespace gatekeeper {

enum class FenceAccess {
    read,      // read files, list directories, beneath the path
    device_rw, // read, write and ioctl one device node
};

struct FenceRule {
    std::string_view path; // absolute; missing paths are skipped (e.g. /lib64, /nix/store)
    FenceAccess access;
    unsigned profiles; // for_* bits of seccomp_allowlist.hpp
    std::string_view reason;
};

// Besides these, every program may execute exactly two files: itself and its ELF interpreter
// (read from its PT_INTERP header when the sandbox is prepared).
inline constexpr FenceRule fence_rules[] = {
    {"/lib", FenceAccess::read, for_all, "shared libraries (the loader maps them)"},
    {"/lib64", FenceAccess::read, for_all, "shared libraries"},
    {"/usr/lib", FenceAccess::read, for_all, "shared libraries"},
    {"/usr/lib64", FenceAccess::read, for_all, "shared libraries"},
    {"/nix/store", FenceAccess::read, for_all, "NixOS: programs and libraries live in the store"},
    {"/etc/ld.so.cache", FenceAccess::read, for_all, "the loader's library index"},
    {"/dev/null", FenceAccess::device_rw, for_all, "stdin of the first stage; 2>/dev/null"},
    {"/proc/self", FenceAccess::read, for_all,
     "the program's own /proc entry (opened in the child): libzfs reads mounts; the rest own "
     "status"},
    {"/dev/zfs", FenceAccess::device_rw, for_zfs, "libzfs: every operation is an ioctl on it"},
    {"/etc/localtime", FenceAccess::read, for_zfs | for_socat,
     "zfs get -d times; socat's log lines"},
    {"/sys/devices/system/cpu/online", FenceAccess::read, for_stream, "pigz and zstdmt count CPUs"},
    {"/proc/cpuinfo", FenceAccess::read, for_stream, "zstdmt sizes its worker pool"},
    {"/proc/meminfo", FenceAccess::read, for_stream, "mbuffer checks the -m size against memory"},
    {"/etc/mbuffer.rc", FenceAccess::read, for_stream, "mbuffer's system-wide defaults"},
    {"/etc/nsswitch.conf", FenceAccess::read, for_socat, "name service configuration"},
    {"/etc/host.conf", FenceAccess::read, for_socat, "resolver configuration"},
    {"/etc/hosts", FenceAccess::read, for_socat, "resolving the receiver's name"},
    {"/etc/resolv.conf", FenceAccess::read, for_socat, "resolving the receiver's name (DNS)"},
};

} // namespace gatekeeper

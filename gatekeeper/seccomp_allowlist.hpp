// The seccomp allowlists, as data: every syscall a started program or the waiting supervisor may
// make, with its group, the programs that need it and a one-line reason. Measured, not guessed:
// the union of tests/fixtures/syscall-traces/ (SANDBOX.md says how they were taken); the
// allowlist test checks every trace is covered and every entry was traced. seccomp_filter.cpp
// compiles these tables. No logic here.
#pragma once

#include <string_view>

namespace gatekeeper {

// Which filter a started program gets, chosen by its key in the policy's [programs] table.
enum class Profile { zfs, stream, socat };
inline constexpr Profile all_profiles[] = {Profile::zfs, Profile::stream, Profile::socat};

constexpr std::string_view profile_name(Profile p) {
    switch (p) {
    case Profile::zfs:
        return "zfs";
    case Profile::stream:
        return "stream";
    case Profile::socat:
        return "socat";
    }
    return "";
}

// Bit sets of profiles.
inline constexpr unsigned for_zfs = 1u << 0;    // zfs, zpool
inline constexpr unsigned for_stream = 1u << 1; // lzop gzip pigz zstd zstdmt xz lz4 mbuffer
inline constexpr unsigned for_socat = 1u << 2;  // socat (syncoid --insecure-direct-connection)
inline constexpr unsigned for_all = for_zfs | for_stream | for_socat;

constexpr unsigned profile_bit(Profile p) {
    return 1u << static_cast<unsigned>(p);
}

// Named like systemd's SystemCallFilter= sets; descriptive only (profiles are per entry).
struct SyscallGroup {
    std::string_view name;
    std::string_view purpose;
};

struct AllowedSyscall {
    std::string_view name;   // as seccomp_syscall_resolve_name() knows it
    std::string_view group;  // one of child_groups, or "@supervisor"
    unsigned profiles;       // for_* bits (the supervisor table ignores it)
    std::string_view reason; // who needs it, as measured
};

inline constexpr SyscallGroup child_groups[] = {
    {"@default", "process start-up and exit: execve, the dynamic loader, libc and thread set-up"},
    {"@memory", "heap and mappings: malloc, the loader, thread stacks"},
    {"@basic-io", "reading and writing already open fds: the stream, stderr, config files"},
    {"@file-system", "opening and inspecting files; Landlock decides which ones"},
    {"@process", "threads (zfs send -v, pigz, zstd, mbuffer); never new processes or namespaces"},
    {"@signal", "signal handlers and masks"},
    {"@io-event", "waiting on fds"},
    {"@ioctl", "device requests: libzfs talks to the kernel module only through /dev/zfs"},
    {"@network-io", "socat's TCP connection and its name lookup"},
};

// Not in any trace, each for its stated reason: clone (clone3 answers ENOSYS under the filter,
// see child_enosys, and glibc then creates every thread with clone) and restart_syscall (only
// the kernel issues it).
inline constexpr AllowedSyscall child_allowlist[] = {
    // @default
    {"execve", "@default", for_all,
     "the gatekeeper's own last call: the filter is loaded before it"},
    {"exit_group", "@default", for_all, "every program's exit; the gatekeeper's exec-failure path"},
    {"exit", "@default", for_zfs | for_stream, "thread exit (zfs send -v, pigz, zstd, mbuffer)"},
    {"arch_prctl", "@default", for_all, "the loader sets up thread-local storage"},
    {"set_tid_address", "@default", for_all, "libc start-up"},
    {"set_robust_list", "@default", for_all, "libc start-up and every new thread"},
    {"rseq", "@default", for_all, "glibc 2.35+ registers restartable sequences at start-up"},
    {"prlimit64", "@default", for_all, "libc start-up reads the stack limit"},
    {"getrandom", "@default", for_all, "malloc's and the stack protector's random seeds"},
    {"futex", "@default", for_all, "locks and thread joins"},
    {"restart_syscall", "@default", for_all,
     "the kernel resumes a sleep interrupted by SIGSTOP/SIGCONT"},
    {"rt_sigreturn", "@default", for_stream | for_socat,
     "return from a signal handler: gzip, xz and socat on SIGPIPE or the supervisor's SIGTERM"},
    {"clock_gettime", "@default", for_zfs | for_stream,
     "timers when the vDSO is not used (zfs send -v, zstd, lz4)"},
    {"clock_nanosleep", "@default", for_all,
     "zfs send -v progress interval; mbuffer -R rate limit; socat's retry interval"},
    {"getpid", "@default", for_all,
     "zfs send; gzip and xz re-raising a signal; socat's log prefix"},
    {"gettid", "@default", for_stream, "gzip and xz re-raise the signal that ended them"},
    {"getuid", "@default", for_stream, "mbuffer looks up its user's defaults file"},
    {"geteuid", "@default", for_stream, "xz"},
    {"sysinfo", "@default", for_stream, "mbuffer and xz size their buffers from total memory"},
    {"uname", "@default", for_socat, "socat logs the kernel version; the resolver"},
    // @memory
    {"brk", "@memory", for_all, "malloc"},
    {"mmap", "@memory", for_all, "the loader maps libraries; malloc; thread stacks"},
    {"munmap", "@memory", for_all, "the loader and malloc"},
    {"mprotect", "@memory", for_all, "the loader sets segment protections (RELRO); stack guards"},
    {"madvise", "@memory", for_zfs | for_stream, "glibc releases thread stacks and arenas"},
    // @basic-io
    {"read", "@basic-io", for_all, "the stream; the loader reads libraries"},
    {"write", "@basic-io", for_all, "the stream and stderr"},
    {"pread64", "@basic-io", for_all, "the loader reads ELF headers"},
    {"close", "@basic-io", for_all, "every program"},
    {"lseek", "@basic-io", for_zfs | for_socat,
     "zfs get (stdio on /proc/self/mounts); socat; /etc/hosts"},
    {"dup", "@basic-io", for_stream, "mbuffer duplicates its output fd"},
    {"dup2", "@basic-io", for_stream, "mbuffer"},
    {"dup3", "@basic-io", for_zfs, "zfs get -s local"},
    {"fsync", "@basic-io", for_stream, "mbuffer syncs its output at the end"},
    // @file-system
    {"openat", "@file-system", for_all, "libraries; libzfs opens /dev/zfs and /proc/self/mounts"},
    {"newfstatat", "@file-system", for_all,
     "the loader and libc stat fds; libzfs checks /sys/module/zfs"},
    {"access", "@file-system", for_all,
     "the loader checks /etc/ld.so.preload; libzfs checks /sys/module/zfs"},
    {"fstat", "@file-system", for_stream, "lzop and pigz inspect their input"},
    {"fcntl", "@file-system", for_stream | for_socat, "mbuffer, xz and socat set fd flags"},
    {"umask", "@file-system", for_stream, "lzop"},
    {"fadvise64", "@file-system", for_stream, "xz announces sequential reading"},
    // @process
    {"clone", "@process", for_zfs | for_stream,
     "pthread_create's fallback once clone3 answers ENOSYS"},
    {"tgkill", "@process", for_zfs | for_stream,
     "zfs send -v cancels its progress thread; gzip and xz re-raise SIGPIPE/SIGTERM"},
    // @signal
    {"rt_sigaction", "@signal", for_all, "signal handlers"},
    {"rt_sigprocmask", "@signal", for_zfs | for_stream, "thread creation and signal handling"},
    // @io-event
    {"pselect6", "@io-event", for_stream | for_socat, "mbuffer and socat wait on fds"},
    {"poll", "@io-event", for_stream | for_socat,
     "xz waits on its input and self-pipe; the resolver"},
    {"pipe2", "@io-event", for_stream, "xz's self-pipe; mbuffer"},
    // @ioctl
    {"ioctl", "@ioctl", for_all, "libzfs: every zfs/zpool operation; the tools: isatty() only"},
    // @network-io
    {"socket", "@network-io", for_socat, "socat's TCP socket; the resolver's UDP socket"},
    {"socketpair", "@network-io", for_socat, "socat"},
    {"connect", "@network-io", for_socat,
     "socat connects to the receiver; the resolver to its server"},
    {"setsockopt", "@network-io", for_socat, "the resolver asks for ICMP errors (IP_RECVERR)"},
    {"getsockname", "@network-io", for_socat, "socat logs its local address"},
    {"shutdown", "@network-io", for_socat, "socat half-closes at the end of the stream"},
    {"sendmmsg", "@network-io", for_socat, "the resolver sends its A and AAAA queries together"},
    {"sendto", "@network-io", for_socat, "the resolver's retry, one query at a time"},
    {"recvfrom", "@network-io", for_socat, "socat; resolver replies"},
    {"recvmsg", "@network-io", for_socat, "socat"},
};

// Calls allowed only with certain arguments. Rows with the same name are alternatives; where a
// row's profiles do not apply, the call is allowed plainly (if its entry grants it at all).
struct ArgumentRule {
    std::string_view name;
    unsigned profiles;
    unsigned arg;                   // argument index
    unsigned long long mask, value; // allowed when (arg & mask) == value
    std::string_view rule;
};
inline constexpr unsigned long long clone_namespace_flags =
    0x00020000 /* NEWNS */ | 0x02000000 /* NEWCGROUP */ | 0x04000000 /* NEWUTS */ |
    0x08000000 /* NEWIPC */ | 0x10000000 /* NEWUSER */ | 0x20000000 /* NEWPID */ |
    0x40000000 /* NEWNET */ | 0x00000080 /* NEWTIME */;
inline constexpr unsigned long long low32 = 0xffffffffULL; // the kernel reads these as int
inline constexpr ArgumentRule argument_rules[] = {
    {"clone", for_zfs | for_stream, 0, clone_namespace_flags, 0,
     "no CLONE_NEW* flag: threads yes, namespaces never"},
    {"ioctl", for_stream | for_socat, 1, low32, 0x5401, "TCGETS: isatty(), the tools' one ioctl"},
    {"ioctl", for_socat, 1, low32, 0x541B, "FIONREAD: the resolver sizes a reply"},
    {"tgkill", for_zfs, 2, low32, 32,
     "SIGCANCEL (32) only: pthread_cancel of zfs send's progress thread"},
    {"tgkill", for_stream, 2, low32, 13, "SIGPIPE: gzip and xz re-raise it after cleaning up"},
    {"tgkill", for_stream, 2, low32, 15, "SIGTERM: gzip and xz re-raise it after cleaning up"},
};

// Answered with ENOSYS instead of being allowed or killing the program.
inline constexpr AllowedSyscall child_enosys[] = {
    {"clone3", "@process", for_all,
     "glibc 2.34+ tries clone3 first and falls back to clone only on ENOSYS"},
};

// The supervisor after its last fork only waits, records and exits (supervisor.cpp, main.cpp);
// measured with strace on the gatekeeper (SANDBOX.md).
inline constexpr AllowedSyscall supervisor_allowlist[] = {
    {"wait4", "@supervisor", 0, "waitpid on each stage"},
    {"poll", "@supervisor", 0, "waits on the signalfd and watches stdout for a hang-up"},
    {"read", "@supervisor", 0, "drains the signalfd"},
    {"write", "@supervisor", 0, "the audit file record; the client's one-line stderr message"},
    {"kill", "@supervisor", 0, "SIGTERM, then SIGKILL, to the stages when the client hangs up"},
    {"close", "@supervisor", 0, "the signalfd, the audit file, the syslog socket"},
    {"rt_sigprocmask", "@supervisor", 0, "restores the signal mask after the run"},
    {"clock_gettime", "@supervisor", 0,
     "the duration and the record's time when the vDSO is not used"},
    {"brk", "@supervisor", 0, "malloc while rendering the outcome record"},
    {"mmap", "@supervisor", 0, "malloc of large blocks"},
    {"munmap", "@supervisor", 0, "free of large blocks"},
    {"mremap", "@supervisor", 0, "realloc of large blocks"},
    {"madvise", "@supervisor", 0, "free returning memory"},
    {"getpid", "@supervisor", 0, "syslog(3) with LOG_PID"},
    {"sendto", "@supervisor", 0,
     "syslog(3) on the /dev/log socket openlog(LOG_NDELAY) connected at start"},
    {"exit_group", "@supervisor", 0, "exit"},
};

} // namespace gatekeeper

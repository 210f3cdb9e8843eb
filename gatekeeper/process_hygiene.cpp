// Start-up hygiene: sshd hands us whatever fds and signal state it has; we make it known.
#include "gatekeeper/process_hygiene.hpp"

#include <charconv>
#include <csignal>
#include <cstdint>
#include <fcntl.h>
#include <optional>
#include <string_view>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gatekeeper {
namespace {

// The signals this process ignores, from the kernel's own account (the SigIgn line of
// /proc/self/status, a hex mask of bit sig-1); nullopt when /proc cannot tell.
std::optional<std::uint64_t> ignored_signals() {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) return std::nullopt;
    char buf[8192];
    std::size_t len = 0;
    ssize_t n;
    while (len < sizeof buf - 1 && (n = ::read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += static_cast<std::size_t>(n);
    ::close(fd);
    const std::string_view text(buf, len);
    constexpr std::string_view key = "\nSigIgn:\t";
    const auto at = text.find(key);
    if (at == std::string_view::npos) return std::nullopt;
    std::uint64_t mask = 0;
    const char* first = text.data() + at + key.size();
    const auto [end, ec] = std::from_chars(first, text.data() + text.size(), mask, 16);
    if (ec != std::errc() || end - first != 16 || *end != '\n') return std::nullopt;
    return mask;
}

// The kernel's struct sigaction (x86-64 and the other 64-bit ABIs we build for).
struct KernelSigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    std::uint64_t mask;
};

// SIG_DFL for `sig`. glibc refuses signal() and sigaction() for the two real-time signals it
// reserves (32 and 33), yet a parent can leave them ignored and execve keeps that (a
// dpkg-buildpackage run does), so those take the system call itself, and only when ignored: a
// handler glibc installed for its own use is never touched.
void reset_to_default(int sig) {
    if (::signal(sig, SIG_DFL) != SIG_ERR) return;
    KernelSigaction old{};
    if (::syscall(SYS_rt_sigaction, sig, nullptr, &old, sizeof old.mask) != 0 ||
        old.handler != SIG_IGN)
        return;
    const KernelSigaction dfl{SIG_DFL, 0, nullptr, 0};
    ::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
}

} // namespace

void close_fds_from(int from) {
#ifdef SYS_close_range
    if (::syscall(SYS_close_range, static_cast<unsigned>(from), ~0U, 0U) == 0) return;
#endif
    rlimit rl{};
    const long max = ::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY
                         ? static_cast<long>(rl.rlim_cur)
                         : 65536;
    for (long fd = from; fd < max; ++fd)
        ::close(static_cast<int>(fd));
}

bool sanitize_process() {
    // We are never installed set-uid or set-gid: real and effective ids that differ mean someone
    // did, and nothing below was written for that.
    uid_t ruid, euid, suid;
    gid_t rgid, egid, sgid;
    if (::getresuid(&ruid, &euid, &suid) != 0 || ::getresgid(&rgid, &egid, &sgid) != 0 ||
        ruid != euid || euid != suid || rgid != egid || egid != sgid)
        return false;
    // Ambient capabilities found at start (a NixOS security.wrappers wrapper raises them) would
    // reach every child; each child clears them again before execve (capabilities.cpp).
    ::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); // EINVAL before 4.3: none to clear
    close_fds_from(3);
    // A closed 0/1/2 would let the next open() (audit file, /dev/zfs) become "stdout".
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1) {
            const int n = ::open("/dev/null", O_RDWR);
            if (n != fd) return false;
        }
    }
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // execve already reset every handled signal; only ignored ones survive it, and they would
    // reach zfs (SIGCHLD ignored would even stop the supervisor from reaping). The kernel lists
    // them: resetting just those saves ~60 system calls per session. Without /proc, all.
    const auto ignored = ignored_signals();
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        if (ignored && (*ignored & (std::uint64_t{1} << (sig - 1))) == 0) continue;
        reset_to_default(sig);
    }
    ::umask(077);
    return true;
}

} // namespace gatekeeper

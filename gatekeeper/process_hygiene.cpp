// Start-up hygiene: sshd hands us whatever fds and signal state it has; we make it known.
#include "gatekeeper/process_hygiene.hpp"

#include <csignal>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gatekeeper {

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
    for (int sig = 1; sig < NSIG; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        ::signal(sig, SIG_DFL); // EINVAL for the RT signals glibc reserves is harmless
    }
    ::umask(077);
    return true;
}

} // namespace gatekeeper

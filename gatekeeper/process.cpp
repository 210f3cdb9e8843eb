// Start-up hygiene: sshd hands us whatever fds and signal state it has; we make it known.
#include "process.hpp"

#include <csignal>
#include <fcntl.h>
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
    for (long fd = from; fd < max; ++fd) ::close(static_cast<int>(fd));
}

bool sanitize_process() {
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
        ::signal(sig, SIG_DFL);  // EINVAL for the RT signals glibc reserves is harmless
    }
    ::umask(077);
    return true;
}

}  // namespace gatekeeper

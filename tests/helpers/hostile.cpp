// Hostile stand-in for zfs (test code only): the real gatekeeper starts it in place of a
// configured program, inside the real sandbox, and it tries ONE forbidden thing. It prints what
// happened on stdout as one line, "<attempt> errno=<NAME>" or "<attempt> succeeded", and exits 0;
// a death by SIGSYS shows instead in the gatekeeper's exit status (128+31) and outcome record.
// The attempt comes from argv (the environment is fixed by the gatekeeper): the last argument,
// e.g. `zfs get -H syncoid:sync -- tank/socket` tries "socket"; `zfs send -- tank/stream@s`
// writes a fixed 8 MiB stream for the real pipeline tools. With argv[0] alone (started as a
// stream tool) it copies stdin to stdout and then reports its own capability state.
// Built without sanitizers: it must make no syscall of its own beyond the attempt.
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace {

void say(const char* text) {
    const ssize_t ignored = ::write(1, text, std::strlen(text));
    (void)ignored;
}

const char* errno_name(int e) {
    switch (e) {
    case EPERM:
        return "EPERM";
    case EACCES:
        return "EACCES";
    case ENOSYS:
        return "ENOSYS";
    case ENOENT:
        return "ENOENT";
    case EINVAL:
        return "EINVAL";
    case EBADF:
        return "EBADF";
    case ENOTSOCK:
        return "ENOTSOCK";
    case ECONNREFUSED:
        return "ECONNREFUSED";
    case EFAULT:
        return "EFAULT";
    case ESRCH:
        return "ESRCH";
    default:
        return "other";
    }
}

int report(const char* attempt, long rc) {
    char line[160];
    if (rc < 0)
        std::snprintf(line, sizeof line, "%s errno=%s\n", attempt, errno_name(errno));
    else
        std::snprintf(line, sizeof line, "%s succeeded\n", attempt);
    say(line);
    return 0;
}

// The /proc/self/status lines the root-mode test compares.
void print_status(const char* who) {
    const int fd = ::open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        report("status", -1);
        return;
    }
    char buf[8192];
    ssize_t n = ::read(fd, buf, sizeof buf - 1);
    ::close(fd);
    if (n <= 0) return;
    buf[n] = '\0';
    for (char* line = std::strtok(buf, "\n"); line != nullptr; line = std::strtok(nullptr, "\n")) {
        for (const char* key : {"Cap", "NoNewPrivs:", "Seccomp:", "SigBlk:", "SigIgn:"}) {
            if (std::strncmp(line, key, std::strlen(key)) == 0) {
                say(who);
                say(" ");
                say(line);
                say("\n");
            }
        }
    }
}

pid_t parent_pid() {
    // getppid is not in the allowlist; /proc/self/stat is readable (own /proc).
    const int fd = ::open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
    char buf[512] = {};
    if (fd < 0 || ::read(fd, buf, sizeof buf - 1) <= 0) return 1;
    ::close(fd);
    const char* p = std::strrchr(buf, ')');
    int ppid = 1;
    if (p != nullptr) std::sscanf(p + 2, "%*c %d", &ppid);
    return ppid;
}

int attempt(const char* what) {
    if (std::strcmp(what, "ok") == 0) return report(what, 0);
    if (std::strcmp(what, "stream") == 0) {
        // A stand-in send stream for the real pipeline tools: 8 MiB, byte i = (i * 7 + i / 4096)
        // mod 251.
        static unsigned char buf[65536];
        for (unsigned long block = 0; block < 128; ++block) {
            for (unsigned long j = 0; j < sizeof buf; ++j) {
                const unsigned long i = block * sizeof buf + j;
                buf[j] = static_cast<unsigned char>((i * 7 + i / 4096) % 251);
            }
            if (::write(1, buf, sizeof buf) != static_cast<ssize_t>(sizeof buf)) return 1;
        }
        return 0;
    }
    if (std::strcmp(what, "caps") == 0) {
        print_status("zfs");
        return 0;
    }
    if (std::strcmp(what, "socket") == 0) return report(what, ::socket(AF_INET, SOCK_STREAM, 0));
    if (std::strcmp(what, "connect") == 0) {
        // The connect call itself, on an fd that is not a socket: the filter sees the call
        // before the kernel would answer ENOTSOCK.
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(22);
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        return report(what, ::connect(0, reinterpret_cast<sockaddr*>(&a), sizeof a));
    }
    if (std::strcmp(what, "ptrace") == 0)
        return report(what, ::ptrace(PTRACE_ATTACH, parent_pid(), nullptr, nullptr));
    if (std::strcmp(what, "mount") == 0)
        return report(what, ::mount("none", "/mnt", "tmpfs", 0, nullptr));
    if (std::strcmp(what, "bpf") == 0) {
        bpf_attr attr{};
        return report(what, ::syscall(SYS_bpf, BPF_MAP_CREATE, &attr, sizeof attr));
    }
    if (std::strcmp(what, "unshare") == 0) return report(what, ::unshare(CLONE_NEWUSER));
    if (std::strcmp(what, "clone-newuser") == 0)
        return report(what,
                      ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0));
    if (std::strcmp(what, "clone3") == 0) return report(what, ::syscall(SYS_clone3, nullptr, 0));
    if (std::strcmp(what, "tmpwrite") == 0)
        return report(what, ::open("/tmp/zg-hostile-was-here",
                                   O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (std::strcmp(what, "shadow") == 0)
        return report(what, ::open("/etc/shadow", O_RDONLY | O_CLOEXEC));
    if (std::strcmp(what, "execsh") == 0) {
        char sh[] = "/bin/sh";
        char* const argv[] = {sh, nullptr};
        char* const envp[] = {nullptr};
        return report(what, ::execve(sh, argv, envp));
    }
    if (std::strcmp(what, "capset") == 0) {
        __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct d[2] = {};
        d[0].effective = d[0].permitted = 1u << CAP_SYS_ADMIN;
        return report(what, ::syscall(SYS_capset, &h, d));
    }
    if (std::strcmp(what, "kill") == 0) return report(what, ::kill(parent_pid(), SIGTERM));
    if (std::strcmp(what, "x32") == 0) return report(what, ::syscall(0x40000000L | SYS_getpid));
    if (std::strcmp(what, "int80") == 0) {
        long rc = 20; // __NR_getpid in the i386 table
        asm volatile("int $0x80" : "+a"(rc) : : "memory");
        return report(what, rc);
    }
    say("unknown attempt\n");
    return 3;
}

} // namespace

int main(int argc, char** argv) {
    if (argc == 1) {
        // A stream stage: pass the data on, then say what this stage was allowed.
        char buf[65536];
        ssize_t n;
        while ((n = ::read(0, buf, sizeof buf)) > 0)
            if (::write(1, buf, static_cast<std::size_t>(n)) != n) return 1;
        print_status("stream");
        return 0;
    }
    // tank/<attempt> or tank/<attempt>@snap
    static char what[128];
    const char* last = argv[argc - 1];
    const char* slash = std::strchr(last, '/');
    std::snprintf(what, sizeof what, "%s", slash != nullptr ? slash + 1 : last);
    if (char* at = std::strchr(what, '@')) *at = '\0';
    return attempt(what);
}

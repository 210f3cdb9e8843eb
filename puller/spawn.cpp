// fork/execve with a fixed environment. Between fork and execve the child only rearranges fds,
// resets signals and asks to be killed with its parent; nothing there allocates.
#include "puller/spawn.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace puller {

volatile std::sig_atomic_t g_signal = 0;

namespace {

// The children's whole environment: the C locale keeps zfs output parseable.
const char* const fixed_env[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", nullptr};

void on_signal(int sig) {
    g_signal = sig;
}

// Move `fd` to `target` in the child; -1 opens /dev/null.
bool place(int fd, int target, int devnull) {
    const int from = fd < 0 ? devnull : fd;
    if (from == target) {
        const int flags = ::fcntl(from, F_GETFD);
        return flags != -1 && ::fcntl(from, F_SETFD, flags & ~FD_CLOEXEC) != -1;
    }
    return ::dup2(from, target) == target;
}

} // namespace

void install_signal_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; // no SA_RESTART: poll()/waitpid() return EINTR so loops notice
    ::sigaction(SIGINT, &sa, nullptr);
    ::sigaction(SIGTERM, &sa, nullptr);
    ::sigaction(SIGHUP, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN); // a dead zfs receive shows up as EPIPE, not as our death
}

pid_t spawn(const Argv& argv, int in_fd, int out_fd, int err_fd) {
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/') {
        errno = EINVAL;
        return -1;
    }
    std::vector<char*> args;
    for (const auto& a : argv)
        args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    if (devnull < 0) return -1;
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid != 0) {
        ::close(devnull);
        return pid;
    }
    // Child. Dup sources first to high fds so a source sitting on 0..2 is not clobbered.
    int fds[3] = {in_fd, out_fd, err_fd};
    for (int i = 0; i < 3; ++i)
        if (fds[i] >= 0 && fds[i] <= 2) fds[i] = ::fcntl(fds[i], F_DUPFD_CLOEXEC, 10);
    for (int i = 0; i < 3; ++i)
        if (!place(fds[i], i, devnull)) ::_exit(127);
#ifdef SYS_close_range
    ::syscall(SYS_close_range, 3U, ~0U, 0U);
#endif
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    for (int sig : {SIGINT, SIGTERM, SIGHUP, SIGPIPE})
        ::signal(sig, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(127); // the parent died before PDEATHSIG was armed
    ::execve(args[0], args.data(), const_cast<char* const*>(fixed_env));
    ::_exit(127);
}

int wait_child(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) return -1;
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
    return -1;
}

int stop_child(pid_t pid, double grace) {
    ::kill(pid, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(grace);
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR) return -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ::kill(pid, SIGKILL);
    return wait_child(pid);
}

Captured run_capture(const Argv& argv, const CaptureLimits& limits) {
    constexpr std::size_t max_err = 64 * 1024;
    Captured c;
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return c;
    if (::pipe2(err, O_CLOEXEC) != 0) {
        ::close(out[0]);
        ::close(out[1]);
        return c;
    }
    const pid_t pid = spawn(argv, -1, out[1], err[1]);
    ::close(out[1]);
    ::close(err[1]);
    if (pid < 0) {
        ::close(out[0]);
        ::close(err[0]);
        c.err = std::string("cannot start ") + argv.front() + ": " + std::strerror(errno);
        return c;
    }
    pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
    std::string* sinks[2] = {&c.out, &c.err};
    int open_fds = 2;
    std::size_t lines = 0;
    auto last_output = std::chrono::steady_clock::now();
    char buf[65536];
    while (open_fds > 0 && c.stopped == Captured::Stopped::no) {
        // The signal flag is checked on every pass: a run waiting here must end on SIGTERM.
        if (g_signal != 0) {
            c.stopped = Captured::Stopped::signal;
            break;
        }
        if (::poll(fds, 2, 200) < 0 && errno != EINTR) break;
        const auto now = std::chrono::steady_clock::now();
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0) continue;
            const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0) {
                last_output = now;
                sinks[i]->append(buf, static_cast<std::size_t>(n));
                if (i == 1 && c.err.size() > max_err) c.err.erase(0, c.err.size() - max_err);
                if (i == 0) lines += static_cast<std::size_t>(std::count(buf, buf + n, '\n'));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_fds;
            }
        }
        if (limits.max_out != 0 && c.out.size() > limits.max_out)
            c.stopped = Captured::Stopped::output_limit;
        else if (limits.max_lines != 0 && lines > limits.max_lines)
            c.stopped = Captured::Stopped::line_limit;
        else if (limits.stall_seconds > 0 && open_fds > 0 &&
                 std::chrono::duration<double>(now - last_output).count() > limits.stall_seconds)
            c.stopped = Captured::Stopped::stalled;
    }
    for (auto& f : fds)
        if (f.fd >= 0) ::close(f.fd);
    c.status = c.stopped == Captured::Stopped::no ? wait_child(pid) : stop_child(pid);
    return c;
}

std::string display(const Argv& argv) {
    std::string out;
    for (const auto& a : argv) {
        if (!out.empty()) out += ' ';
        const bool plain =
            !a.empty() &&
            a.find_first_not_of(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789@%+=:,./_-#") ==
                std::string::npos;
        if (plain) {
            out += a;
        } else {
            out += '\'';
            for (char ch : a)
                out += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
            out += '\'';
        }
    }
    return out;
}

} // namespace puller

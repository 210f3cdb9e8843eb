// Shell-free pipeline execution. Per stage: its argv and sandbox prepared and its pipe made
// (O_CLOEXEC) in the parent, then spawn_stage() and exec_stage() in the child (exec.cpp). The
// parent closes its copies at once so EOF and EPIPE propagate between stages exactly as under sh.
#include "gatekeeper/supervisor.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gatekeeper/exec.hpp"

namespace gatekeeper {

namespace {

constexpr int kill_grace_ms = 2000;

struct Running {
    pid_t pid = -1;
    std::size_t index = 0; // into RunOutcome::stages
};

void record_status(StageOutcome& s, int status) {
    if (WIFEXITED(status)) {
        s.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        s.signal = WTERMSIG(status);
    }
}

int sh_status(const StageOutcome& s) {
    return s.signal != 0 ? 128 + s.signal : s.exit_code;
}

bool stdout_is_pipe_or_socket() {
    struct stat st {};
    return ::fstat(1, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

class Supervisor {
  public:
    explicit Supervisor(RunOutcome& out) : out_(out) {
        sigset_t set;
        sigemptyset(&set);
        for (int s : {SIGCHLD, SIGHUP, SIGTERM, SIGINT})
            sigaddset(&set, s);
        ::sigprocmask(SIG_BLOCK, &set, &old_mask_);
        sfd_ = ::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        ::signal(SIGPIPE, SIG_IGN); // the supervisor itself never writes the stream
        watch_stdout_ = stdout_is_pipe_or_socket();
    }
    ~Supervisor() {
        if (sfd_ >= 0) ::close(sfd_);
        ::sigprocmask(SIG_SETMASK, &old_mask_, nullptr);
    }

    bool ok() const { return sfd_ >= 0; }
    bool stopped() const { return out_.client_hung_up || out_.supervisor_signal != 0; }

    // `last_pipeline`: nothing is forked after this pipeline, so the supervisor may narrow
    // itself to its waiting-only filter once its stages are started.
    void run_pipeline(std::size_t p, const policy::PipelinePlan& pipeline, Sandbox& sandbox,
                      bool last_pipeline) {
        const std::vector<policy::Argv>& stages = pipeline.stages;
        std::vector<PreparedStage> prepared;
        for (const auto& argv : stages)
            prepared.push_back(prepare_stage(sandbox, argv));
        std::vector<Running> running;
        int prev_read = -1;
        const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
        for (std::size_t s = 0; s < stages.size(); ++s) {
            StageOutcome outcome;
            outcome.pipeline = p;
            outcome.stage = s;
            outcome.program = stages[s].front();
            out_.stages.push_back(outcome);
            const std::size_t index = out_.stages.size() - 1;

            int fds[2] = {-1, -1};
            const bool last = s + 1 == stages.size();
            if (!last && ::pipe2(fds, O_CLOEXEC) != 0) {
                out_.error = "pipe2 failed";
                break;
            }
            PreparedStage& stage = prepared[s];
            // The client's stdin reaches only a receive (a restore's stream); every other first
            // stage reads /dev/null, so nothing else ever consumes what the client sends.
            stage.stdin_fd = s > 0 ? prev_read : pipeline.stdin_from_client ? 0 : devnull;
            stage.stdout_fd = last ? 1 : fds[1];
            stage.stderr_fd = last && pipeline.last_stderr_to_devnull ? devnull : 2;
            const pid_t pid = spawn_stage(stage);
            if (prev_read >= 0) ::close(prev_read);
            if (!last) ::close(fds[1]);
            prev_read = last ? -1 : fds[0];
            if (pid < 0) {
                out_.error = "cannot start a stage (clone failed)";
                if (prev_read >= 0) ::close(prev_read);
                break;
            }
            out_.stages[index].started = true;
            running.push_back({pid, index});
        }
        if (devnull >= 0) ::close(devnull);
        // `;` chains fork their later pipelines after this one ends: only the last one may
        // narrow the supervisor to waiting and recording.
        if (last_pipeline) enter_supervisor_sandbox(sandbox);
        wait_all(running);
    }

  private:
    void wait_all(std::vector<Running>& running) {
        using clock = std::chrono::steady_clock;
        std::optional<clock::time_point> kill_deadline;
        bool killed_hard = false;
        while (!running.empty()) {
            reap(running);
            if (running.empty()) break;
            if (stopped() && !kill_deadline) {
                signal_all(running, SIGTERM);
                kill_deadline = clock::now() + std::chrono::milliseconds(kill_grace_ms);
            }
            int timeout = -1;
            if (kill_deadline) {
                const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                                      *kill_deadline - clock::now())
                                      .count();
                if (left <= 0 && !killed_hard) {
                    signal_all(running, SIGKILL);
                    killed_hard = true;
                }
                timeout = killed_hard ? 100 : static_cast<int>(left);
            }
            pollfd fds[2] = {{sfd_, POLLIN, 0}, {1, 0, 0}};
            const nfds_t n = watch_stdout_ && !out_.client_hung_up ? 2 : 1;
            const int r = ::poll(fds, n, timeout);
            if (r < 0 && errno != EINTR) break;
            if (n == 2 && (fds[1].revents & (POLLERR | POLLHUP)) != 0) out_.client_hung_up = true;
            drain_signals();
        }
    }

    void drain_signals() {
        signalfd_siginfo info{};
        while (::read(sfd_, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
            if (info.ssi_signo != SIGCHLD && out_.supervisor_signal == 0)
                out_.supervisor_signal = static_cast<int>(info.ssi_signo);
        }
    }

    void reap(std::vector<Running>& running) {
        for (auto it = running.begin(); it != running.end();) {
            int status = 0;
            const pid_t r = ::waitpid(it->pid, &status, WNOHANG);
            if (r == it->pid) {
                record_status(out_.stages[it->index], status);
                it = running.erase(it);
            } else {
                ++it;
            }
        }
    }

    static void signal_all(const std::vector<Running>& running, int sig) {
        for (const auto& r : running)
            ::kill(r.pid, sig);
    }

    RunOutcome& out_;
    int sfd_ = -1;
    sigset_t old_mask_{};
    bool watch_stdout_ = false;
};

} // namespace

RunOutcome run_plan(const policy::ExecPlan& plan, Sandbox& sandbox) {
    RunOutcome out;
    const auto start = std::chrono::steady_clock::now();
    {
        Supervisor sup(out);
        if (!sup.ok()) {
            out.error = "signalfd failed";
            out.exit_status = 126;
            return out;
        }
        for (std::size_t p = 0; p < plan.size() && !sup.stopped() && out.error.empty(); ++p)
            sup.run_pipeline(p, plan[p], sandbox, p + 1 == plan.size());
    }
    out.duration_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    if (!out.error.empty()) {
        out.exit_status = 126;
    } else if (!out.stages.empty()) {
        out.exit_status = sh_status(out.stages.back());
    }
    if (out.supervisor_signal != 0) out.exit_status = 128 + out.supervisor_signal;
    return out;
}

std::optional<std::string> capture_output(const policy::Argv& argv, const Sandbox& sandbox,
                                          std::size_t limit) {
    PreparedStage stage = prepare_stage(sandbox, argv);
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
    const int devnull = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    stage.stdin_fd = stage.stderr_fd = devnull;
    stage.stdout_fd = fds[1];
    const pid_t pid = spawn_stage(stage);
    ::close(fds[1]);
    if (devnull >= 0) ::close(devnull);
    if (pid < 0) {
        ::close(fds[0]);
        return std::nullopt;
    }
    // Read to the end even past the limit, so the child never blocks on a full pipe.
    std::string out;
    bool cut = false;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        const auto got = static_cast<std::size_t>(n);
        cut = cut || out.size() + got > limit;
        if (!cut) out.append(buf, got);
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (cut || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
    return out;
}

} // namespace gatekeeper

// splice(2) relay between two pipes, driven by poll(2) so both children's stderr is drained while
// the stream flows. On a signal the sender is stopped first: `zfs receive -s` then sees a short
// stream and keeps the resumable state, so the next run continues with `zfs send -t`.
#include "puller/transfer.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include "puller/lines.hpp"

namespace puller {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t chunk = 1 << 20;
constexpr std::size_t max_stderr = 8192;

void set_nonblock(int fd) {
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

// Keep the tail of a child's stderr (the error is at the end).
void drain(int& fd, std::string& sink) {
    char buf[4096];
    while (fd >= 0) {
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n > 0) {
            sink.append(buf, static_cast<std::size_t>(n));
            if (sink.size() > max_stderr) sink.erase(0, sink.size() - max_stderr);
        } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
            ::close(fd);
            fd = -1;
        } else if (errno == EAGAIN) {
            return;
        }
    }
}

void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
}

// One transfer, in the order run() calls the steps. Every fd is closed and both children are
// reaped on every path.
class Relay {
  public:
    Relay(const Argv& send_argv, const Argv& receive_argv, Progress& progress,
          const StreamLimits& limits)
        : send_argv_(send_argv), receive_argv_(receive_argv), progress_(progress), limits_(limits) {
    }

    TransferResult run() {
        if (!open_pipes()) {
            close_all();
            r_.error = "cannot create pipes";
            return r_;
        }
        if (!start_children()) return r_;
        pump();
        progress_.end(r_.bytes);
        wind_down();
        return verdict();
    }

  private:
    const Argv& send_argv_;
    const Argv& receive_argv_;
    Progress& progress_;
    const StreamLimits limits_;
    TransferResult r_;
    std::string stopped_; // why the relay stopped the stream itself (a limit), "" otherwise
    const Clock::time_point t0_ = Clock::now();
    // data: ssh -> us; feed: us -> zfs receive; serr / rerr: their stderr.
    int data_[2] = {-1, -1}, feed_[2] = {-1, -1}, serr_[2] = {-1, -1}, rerr_[2] = {-1, -1};
    pid_t spid_ = -1, rpid_ = -1;
    std::string send_err_, recv_err_;
    bool receiver_gone_ = false;

    void close_all() {
        for (int* p : {data_, feed_, serr_, rerr_}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
    }

    bool open_pipes() {
        if (::pipe2(data_, O_CLOEXEC) || ::pipe2(feed_, O_CLOEXEC) || ::pipe2(serr_, O_CLOEXEC) ||
            ::pipe2(rerr_, O_CLOEXEC))
            return false;
        // Bigger pipes mean fewer wake-ups; the kernel caps this at fs.pipe-max-size (1 MiB).
        ::fcntl(data_[0], F_SETPIPE_SZ, static_cast<int>(chunk));
        ::fcntl(feed_[1], F_SETPIPE_SZ, static_cast<int>(chunk));
        return true;
    }

    // The receiver first, so the sender's first bytes always have somewhere to go.
    bool start_children() {
        rpid_ = spawn(receive_argv_, feed_[0], -1, rerr_[1]);
        spid_ = rpid_ < 0 ? -1 : spawn(send_argv_, -1, data_[1], serr_[1]);
        close_fd(data_[1]);
        close_fd(feed_[0]);
        close_fd(serr_[1]);
        close_fd(rerr_[1]);
        if (rpid_ < 0 || spid_ < 0) {
            if (rpid_ > 0) {
                close_fd(feed_[1]);
                wait_child(rpid_);
            }
            close_all();
            r_.error = "cannot start " + (rpid_ < 0 ? receive_argv_.front() : send_argv_.front());
            return false;
        }
        for (int fd : {data_[0], feed_[1], serr_[0], rerr_[0]})
            set_nonblock(fd);
        return true;
    }

    // Moves what is there; > 0 bytes moved, 0 at the end of the stream, -1 with errno.
    ssize_t move(bool& use_splice) {
        if (use_splice) {
            const ssize_t n = ::splice(data_[0], nullptr, feed_[1], nullptr, chunk,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n >= 0 || errno != EINVAL) return n;
            use_splice = false; // a kernel or fd type without splice: copy instead
        }
        static char buf[chunk];
        const ssize_t n = ::read(data_[0], buf, sizeof buf);
        if (n <= 0) return n;
        std::size_t off = 0;
        while (off < static_cast<std::size_t>(n)) {
            const ssize_t w = ::write(feed_[1], buf + off, static_cast<std::size_t>(n) - off);
            if (w > 0) {
                off += static_cast<std::size_t>(w);
            } else if (w < 0 && errno == EAGAIN) {
                pollfd p{feed_[1], POLLOUT, 0};
                ::poll(&p, 1, 1000);
            } else if (w < 0 && errno != EINTR) {
                return -1;
            }
        }
        return n;
    }

    // One line if a limit was passed, "" otherwise.
    std::string over_limit(Clock::time_point last_moved) const {
        if (limits_.max_bytes != 0 && r_.bytes > limits_.max_bytes)
            return "the stream passed " + std::to_string(limits_.max_bytes) +
                   " bytes, the cap for an estimate of " + std::to_string(limits_.estimate) +
                   " bytes (stream_cap_factor); stopped";
        const double idle = std::chrono::duration<double>(Clock::now() - last_moved).count();
        if (limits_.stall_seconds > 0 && idle > limits_.stall_seconds)
            return "the stream moved nothing for " +
                   std::to_string(static_cast<long long>(limits_.stall_seconds)) +
                   " s (stall_timeout); stopped";
        return "";
    }

    // Until the end of the stream, a signal, a limit, or the receiver going away.
    void pump() {
        bool src_ready = false, dst_ready = false, use_splice = true;
        auto last_moved = Clock::now();
        while (data_[0] >= 0) {
            if (g_signal != 0) {
                r_.interrupted = true;
                return;
            }
            if (stopped_ = over_limit(last_moved); !stopped_.empty()) return;
            if (src_ready && dst_ready) {
                const ssize_t n = move(use_splice);
                if (n > 0) {
                    r_.bytes += static_cast<std::uint64_t>(n);
                    last_moved = Clock::now();
                    progress_.update(r_.bytes);
                    continue;
                }
                if (n == 0) { // end of stream
                    close_fd(data_[0]);
                    return;
                }
                if (errno != EAGAIN && errno != EINTR) {
                    receiver_gone_ = true; // EPIPE, or any other relay error: fatal for the receive
                    return;
                }
                src_ready = dst_ready = false;
            }
            pollfd fds[4] = {{src_ready ? -1 : data_[0], POLLIN, 0},
                             {dst_ready ? -1 : feed_[1], POLLOUT, 0},
                             {serr_[0], POLLIN, 0},
                             {rerr_[0], POLLIN, 0}};
            const int pr = ::poll(fds, 4, 500);
            if (pr < 0 && errno != EINTR) return;
            if (fds[0].revents != 0) src_ready = true;
            if (fds[1].revents & (POLLERR | POLLHUP)) {
                receiver_gone_ = true;
                return;
            }
            if (fds[1].revents & POLLOUT) dst_ready = true;
            if (fds[2].revents != 0) drain(serr_[0], send_err_);
            if (fds[3].revents != 0) drain(rerr_[0], recv_err_);
            progress_.update(r_.bytes);
        }
    }

    // Stop the sender first on any abnormal exit, then let zfs receive see EOF; drain both
    // stderrs until they close and reap both.
    void wind_down() {
        const bool abnormal =
            r_.interrupted || receiver_gone_ || !stopped_.empty() || data_[0] >= 0;
        if (abnormal) ::kill(spid_, SIGTERM);
        close_fd(data_[0]);
        close_fd(feed_[1]);
        const auto start = Clock::now();
        bool killed = false;
        while (serr_[0] >= 0 || rerr_[0] >= 0) {
            pollfd fds[2] = {{serr_[0], POLLIN, 0}, {rerr_[0], POLLIN, 0}};
            ::poll(fds, 2, 500);
            if (fds[0].revents != 0) drain(serr_[0], send_err_);
            if (fds[1].revents != 0) drain(rerr_[0], recv_err_);
            const double waited = std::chrono::duration<double>(Clock::now() - start).count();
            if (!killed && waited > 120) { // a child that ignores EOF and SIGTERM for 2 minutes
                ::kill(spid_, SIGKILL);
                ::kill(rpid_, SIGKILL);
                killed = true;
            }
        }
        r_.send_status = wait_child(spid_);
        r_.receive_status = wait_child(rpid_);
        r_.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
    }

    // One line naming the side that failed first.
    TransferResult verdict() {
        const std::string send_why = last_line(send_err_), recv_why = last_line(recv_err_);
        if (r_.interrupted) {
            r_.error = "interrupted";
        } else if (!stopped_.empty()) {
            r_.error = stopped_;
        } else if (receiver_gone_ || (r_.receive_status != 0 && r_.send_status == 0)) {
            r_.error = "zfs receive failed (status " + std::to_string(r_.receive_status) + ")" +
                       (recv_why.empty() ? "" : ": " + recv_why);
        } else if (r_.send_status != 0) {
            r_.error = "remote send failed (status " + std::to_string(r_.send_status) + ")" +
                       (send_why.empty() ? "" : ": " + send_why);
            if (r_.receive_status != 0 && !recv_why.empty())
                r_.error += "; zfs receive: " + recv_why;
        }
        r_.ok = r_.error.empty() && r_.send_status == 0 && r_.receive_status == 0;
        if (!r_.ok && r_.error.empty()) r_.error = "transfer failed";
        return r_;
    }
};

} // namespace

TransferResult relay(const Argv& send_argv, const Argv& receive_argv, Progress& progress,
                     const StreamLimits& limits) {
    return Relay(send_argv, receive_argv, progress, limits).run();
}

} // namespace puller

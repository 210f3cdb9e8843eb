// The relay, driven by poll(2) so both children's stderr is drained while the stream flows. On a
// signal or a limit the sender is stopped first: `zfs receive -s` then sees a short stream and
// keeps the resumable state, so the next run continues with `zfs send -t`.
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
// A payload at least this long moves by splice; shorter ones are read with their records.
constexpr std::uint64_t splice_min = 64 << 10;
constexpr std::size_t max_stderr = 8192;
// Bytes the relay may hold before zfs receive starts: a package header carries the names and
// guids of every snapshot of the dataset (the checker bounds it at 64 MiB too).
constexpr std::size_t max_prelude = 64 << 20;

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
    Relay(const Argv& send_argv, const ReceiveArgv& receive, const StreamExpect& expect,
          Progress& progress, const StreamLimits& limits, const RelaySides& sides)
        : send_argv_(send_argv), receive_(receive), check_(expect), progress_(progress),
          limits_(limits), sides_(sides) {}

    TransferResult run() {
        if (!open_pipes()) {
            close_all();
            r_.error = "cannot create pipes";
            return r_;
        }
        if (!start_sender()) return r_;
        if (read_prelude() && start_receiver() && write_all(prelude_)) pump();
        progress_.end(r_.bytes);
        wind_down();
        return verdict();
    }

  private:
    const Argv& send_argv_;
    const ReceiveArgv& receive_;
    StreamCheck check_;
    Progress& progress_;
    const StreamLimits limits_;
    const RelaySides& sides_;
    TransferResult r_;
    const Clock::time_point t0_ = Clock::now();
    Clock::time_point last_moved_ = Clock::now();
    // data: ssh -> us; feed: us -> zfs receive; serr / rerr: their stderr.
    int data_[2] = {-1, -1}, feed_[2] = {-1, -1}, serr_[2] = {-1, -1}, rerr_[2] = {-1, -1};
    pid_t spid_ = -1, rpid_ = -1;
    std::string send_err_, recv_err_;
    std::string prelude_; // checked bytes read before zfs receive started
    std::string out_;     // checked bytes of the last read, to be written
    std::string stopped_; // why the relay stopped the stream itself, "" otherwise
    bool receiver_gone_ = false;
    bool use_splice_ = true;

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

    bool start_sender() {
        spid_ = spawn(send_argv_, -1, data_[1], serr_[1]);
        close_fd(data_[1]);
        close_fd(serr_[1]);
        if (spid_ < 0) {
            close_all();
            r_.error = "cannot start " + send_argv_.front();
            return false;
        }
        for (int fd : {data_[0], feed_[1], serr_[0], rerr_[0]})
            set_nonblock(fd);
        return true;
    }

    // One line if a limit was passed or a signal came, "" otherwise.
    std::string over_limit() {
        if (g_signal != 0) {
            r_.interrupted = true;
            return "interrupted";
        }
        if (limits_.max_bytes != 0 && r_.bytes > limits_.max_bytes)
            return "the stream passed " + std::to_string(limits_.max_bytes) +
                   " bytes, the cap for an estimate of " + std::to_string(limits_.estimate) +
                   " bytes (stream_cap_factor); stopped";
        const double idle = std::chrono::duration<double>(Clock::now() - last_moved_).count();
        if (limits_.stall_seconds > 0 && idle > limits_.stall_seconds)
            return "the stream moved nothing for " +
                   std::to_string(static_cast<long long>(limits_.stall_seconds)) +
                   " s (stall_timeout); stopped";
        return "";
    }

    // Reads until the first substream's BEGIN record says what the stream is (zfs receive's
    // options depend on it). False when the stream ended, broke a rule or a limit stopped it.
    bool read_prelude() {
        static char buf[chunk];
        while (!check_.kind()) {
            if (stopped_ = over_limit(); !stopped_.empty()) return false;
            pollfd fds[2] = {{data_[0], POLLIN, 0}, {serr_[0], POLLIN, 0}};
            if (::poll(fds, 2, 200) < 0 && errno != EINTR) return false;
            if (fds[1].revents != 0) drain(serr_[0], send_err_);
            if (fds[0].revents == 0) continue;
            const ssize_t n = ::read(data_[0], buf, sizeof buf);
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
            if (n <= 0) return false; // the sender ended before its stream said what it is
            r_.bytes += static_cast<std::uint64_t>(n);
            last_moved_ = Clock::now();
            check_.feed(buf, static_cast<std::size_t>(n), prelude_);
            if (check_.failed()) return false;
            if (prelude_.size() > max_prelude) {
                stopped_ = "the stream's header passed " + std::to_string(max_prelude) + " bytes";
                return false;
            }
        }
        r_.kind = check_.kind();
        return true;
    }

    bool start_receiver() {
        const Argv& argv = *r_.kind == DatasetKind::volume ? receive_.volume : receive_.filesystem;
        rpid_ = spawn(argv, feed_[0], -1, rerr_[1]);
        close_fd(feed_[0]);
        close_fd(rerr_[1]);
        if (rpid_ < 0) {
            stopped_ = "cannot start " + argv.front();
            return false;
        }
        return true;
    }

    // Writes checked bytes to zfs receive, waiting while its pipe is full. False when it is gone.
    bool write_all(const std::string& bytes) {
        std::size_t off = 0;
        while (off < bytes.size()) {
            const ssize_t w = ::write(feed_[1], bytes.data() + off, bytes.size() - off);
            if (w > 0) {
                off += static_cast<std::size_t>(w);
            } else if (w < 0 && errno == EAGAIN) {
                pollfd p[2] = {{feed_[1], POLLOUT, 0}, {rerr_[0], POLLIN, 0}};
                ::poll(p, 2, 1000);
                if (p[1].revents != 0) drain(rerr_[0], recv_err_);
            } else if (w < 0 && errno != EINTR) {
                receiver_gone_ = true;
                return false;
            }
        }
        return true;
    }

    // Moves what is there: > 0 bytes taken from the source, 0 at the end of the stream, -1 with
    // errno, -2 when the checker stopped the stream.
    ssize_t move() {
        static char buf[chunk];
        if (use_splice_ && check_.payload_left() >= splice_min) {
            const std::size_t want =
                static_cast<std::size_t>(std::min<std::uint64_t>(check_.payload_left(), chunk));
            const ssize_t n = ::splice(data_[0], nullptr, feed_[1], nullptr, want,
                                       SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
            if (n > 0) check_.skip(static_cast<std::uint64_t>(n));
            if (n >= 0 || errno != EINVAL) return n;
            use_splice_ = false; // a kernel or fd type without splice: copy instead
        }
        const ssize_t n = ::read(data_[0], buf, sizeof buf);
        if (n <= 0) return n;
        out_.clear();
        check_.feed(buf, static_cast<std::size_t>(n), out_);
        if (!write_all(out_)) return -1;
        return check_.failed() ? -2 : n;
    }

    // Until the end of the stream, a refusal, a signal, a limit, or the receiver going away.
    void pump() {
        bool src_ready = false, dst_ready = false;
        while (data_[0] >= 0) {
            if (stopped_ = over_limit(); !stopped_.empty()) return;
            if (src_ready && dst_ready) {
                const ssize_t n = move();
                if (n > 0) {
                    r_.bytes += static_cast<std::uint64_t>(n);
                    last_moved_ = Clock::now();
                    progress_.update(r_.bytes);
                    continue;
                }
                if (n == 0) { // end of stream
                    close_fd(data_[0]);
                    return;
                }
                if (n == -2 || receiver_gone_) return;
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
                // zfs receive may end as soon as it has read the last END record, before ssh
                // closes its side: that is the end of a good stream, not a failed receive.
                receiver_gone_ = !check_.complete();
                return;
            }
            if (fds[1].revents & POLLOUT) dst_ready = true;
            if (fds[2].revents != 0) drain(serr_[0], send_err_);
            if (fds[3].revents != 0) drain(rerr_[0], recv_err_);
            progress_.update(r_.bytes);
        }
    }

    // Stop the sender first unless the whole stream arrived, then let zfs receive see EOF; drain
    // both stderrs until they close and reap both. A child that outlasts its bound (2 minutes
    // after an abnormal end, stall_timeout after a normal one) is killed.
    void wind_down() {
        const bool abnormal =
            !check_.complete() && (r_.interrupted || receiver_gone_ || !stopped_.empty() ||
                                   check_.failed() || data_[0] >= 0);
        if (abnormal) ::kill(spid_, SIGTERM);
        if (rpid_ < 0) { // zfs receive never started: nobody else holds its pipes
            close_fd(feed_[0]);
            close_fd(rerr_[1]);
        }
        close_fd(data_[0]);
        close_fd(feed_[1]);
        const double bound = abnormal ? 120 : limits_.stall_seconds;
        const auto start = Clock::now();
        bool killed = false;
        while (serr_[0] >= 0 || rerr_[0] >= 0) {
            pollfd fds[2] = {{serr_[0], POLLIN, 0}, {rerr_[0], POLLIN, 0}};
            ::poll(fds, 2, 500);
            if (fds[0].revents != 0) drain(serr_[0], send_err_);
            if (fds[1].revents != 0) drain(rerr_[0], recv_err_);
            if (g_signal != 0 && !abnormal) ::kill(spid_, SIGTERM);
            const double waited = std::chrono::duration<double>(Clock::now() - start).count();
            if (!killed && bound > 0 && waited > bound) {
                ::kill(spid_, SIGKILL);
                if (rpid_ > 0) ::kill(rpid_, SIGKILL);
                killed = true;
            }
        }
        r_.send_status = wait_child(spid_);
        r_.receive_status = rpid_ > 0 ? wait_child(rpid_) : -1;
        r_.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
    }

    // One line naming the side that failed first.
    TransferResult verdict() {
        const std::string send_why = last_line(send_err_), recv_why = last_line(recv_err_);
        if (r_.interrupted) {
            r_.error = "interrupted";
        } else if (check_.failed()) {
            r_.error = check_.error();
        } else if (!stopped_.empty()) {
            r_.error = stopped_;
        } else if (rpid_ < 0 && r_.send_status != 0) {
            r_.error = sides_.sender + " failed (status " + std::to_string(r_.send_status) + ")" +
                       (send_why.empty() ? "" : ": " + send_why);
        } else if (rpid_ < 0) {
            r_.error = sides_.source + " sent no zfs send stream";
        } else if (receiver_gone_ || (r_.receive_status != 0 && r_.send_status == 0)) {
            r_.error = sides_.receiver + " failed (status " + std::to_string(r_.receive_status) +
                       ")" + (recv_why.empty() ? "" : ": " + recv_why);
        } else if (r_.send_status != 0) {
            r_.error = sides_.sender + " failed (status " + std::to_string(r_.send_status) + ")" +
                       (send_why.empty() ? "" : ": " + send_why);
            if (r_.receive_status != 0 && !recv_why.empty())
                r_.error += "; " + sides_.receiver + ": " + recv_why;
        } else if (!check_.complete()) {
            r_.error = sides_.source + "'s stream ended before its last record";
        }
        r_.ok = r_.error.empty() && r_.send_status == 0 && r_.receive_status == 0;
        if (!r_.ok && r_.error.empty()) r_.error = "transfer failed";
        return r_;
    }
};

} // namespace

TransferResult relay(const Argv& send_argv, const ReceiveArgv& receive, const StreamExpect& expect,
                     Progress& progress, const StreamLimits& limits, const RelaySides& sides) {
    return Relay(send_argv, receive, expect, progress, limits, sides).run();
}

} // namespace puller

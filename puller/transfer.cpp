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

} // namespace

TransferResult relay(const Argv& send_argv, const Argv& receive_argv, Progress& progress) {
    TransferResult r;
    const auto t0 = std::chrono::steady_clock::now();
    int data[2] = {-1, -1}, feed[2] = {-1, -1}, serr[2] = {-1, -1}, rerr[2] = {-1, -1};
    if (::pipe2(data, O_CLOEXEC) || ::pipe2(feed, O_CLOEXEC) || ::pipe2(serr, O_CLOEXEC) ||
        ::pipe2(rerr, O_CLOEXEC)) {
        for (int* p : {data, feed, serr, rerr}) {
            close_fd(p[0]);
            close_fd(p[1]);
        }
        r.error = "cannot create pipes";
        return r;
    }
    // Bigger pipes mean fewer wake-ups; the kernel caps this at fs.pipe-max-size (1 MiB default).
    ::fcntl(data[0], F_SETPIPE_SZ, static_cast<int>(chunk));
    ::fcntl(feed[1], F_SETPIPE_SZ, static_cast<int>(chunk));

    const pid_t rpid = spawn(receive_argv, feed[0], -1, rerr[1]);
    const pid_t spid = rpid < 0 ? -1 : spawn(send_argv, -1, data[1], serr[1]);
    close_fd(data[1]);
    close_fd(feed[0]);
    close_fd(serr[1]);
    close_fd(rerr[1]);
    if (rpid < 0 || spid < 0) {
        if (rpid > 0) {
            close_fd(feed[1]);
            wait_child(rpid);
        }
        for (int* fd : {&data[0], &feed[1], &serr[0], &rerr[0]})
            close_fd(*fd);
        r.error = "cannot start " + (rpid < 0 ? receive_argv.front() : send_argv.front());
        return r;
    }
    for (int fd : {data[0], feed[1], serr[0], rerr[0]})
        set_nonblock(fd);

    std::string send_err, recv_err;
    bool src_ready = false, dst_ready = false, receiver_gone = false, use_splice = true;
    std::string pending; // read/write fallback only
    while (data[0] >= 0) {
        if (g_signal != 0) {
            r.interrupted = true;
            break;
        }
        if (src_ready && dst_ready) {
            ssize_t n;
            if (use_splice) {
                n = ::splice(data[0], nullptr, feed[1], nullptr, chunk,
                             SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
                if (n < 0 && errno == EINVAL) {
                    use_splice = false;
                    continue;
                }
            } else {
                static char buf[chunk];
                n = ::read(data[0], buf, sizeof buf);
                if (n > 0) {
                    std::size_t off = 0;
                    while (off < static_cast<std::size_t>(n)) {
                        const ssize_t w =
                            ::write(feed[1], buf + off, static_cast<std::size_t>(n) - off);
                        if (w > 0) {
                            off += static_cast<std::size_t>(w);
                        } else if (w < 0 && errno == EAGAIN) {
                            pollfd p{feed[1], POLLOUT, 0};
                            ::poll(&p, 1, 1000);
                        } else if (w < 0 && errno != EINTR) {
                            receiver_gone = true;
                            break;
                        }
                    }
                    if (receiver_gone) break;
                }
            }
            if (n > 0) {
                r.bytes += static_cast<std::uint64_t>(n);
                progress.update(r.bytes);
                continue;
            }
            if (n == 0) { // end of stream
                close_fd(data[0]);
                break;
            }
            if (errno == EPIPE) {
                receiver_gone = true;
                break;
            }
            if (errno != EAGAIN && errno != EINTR) {
                receiver_gone = true; // treat any other relay error as fatal for the receive side
                break;
            }
            src_ready = dst_ready = false;
        }
        pollfd fds[4] = {{src_ready ? -1 : data[0], POLLIN, 0},
                         {dst_ready ? -1 : feed[1], POLLOUT, 0},
                         {serr[0], POLLIN, 0},
                         {rerr[0], POLLIN, 0}};
        const int pr = ::poll(fds, 4, 500);
        if (pr < 0 && errno != EINTR) break;
        if (fds[0].revents != 0) src_ready = true;
        if (fds[1].revents & (POLLERR | POLLHUP)) {
            receiver_gone = true;
            break;
        }
        if (fds[1].revents & POLLOUT) dst_ready = true;
        if (fds[2].revents != 0) drain(serr[0], send_err);
        if (fds[3].revents != 0) drain(rerr[0], recv_err);
        progress.update(r.bytes);
    }
    progress.end(r.bytes);

    // Wind down. Stop the sender first on any abnormal exit, then let zfs receive see EOF.
    const bool abnormal = r.interrupted || receiver_gone || data[0] >= 0;
    if (abnormal) ::kill(spid, SIGTERM);
    close_fd(data[0]);
    close_fd(feed[1]);
    const auto wind_down = std::chrono::steady_clock::now();
    bool killed = false;
    while (serr[0] >= 0 || rerr[0] >= 0) {
        pollfd fds[2] = {{serr[0], POLLIN, 0}, {rerr[0], POLLIN, 0}};
        ::poll(fds, 2, 500);
        if (fds[0].revents != 0) drain(serr[0], send_err);
        if (fds[1].revents != 0) drain(rerr[0], recv_err);
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - wind_down).count();
        if (!killed && waited > 120) { // a child that ignores EOF and SIGTERM for 2 minutes
            ::kill(spid, SIGKILL);
            ::kill(rpid, SIGKILL);
            killed = true;
        }
    }
    r.send_status = wait_child(spid);
    r.receive_status = wait_child(rpid);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    const std::string send_why = last_line(send_err), recv_why = last_line(recv_err);
    if (r.interrupted) {
        r.error = "interrupted";
    } else if (receiver_gone || (r.receive_status != 0 && r.send_status == 0)) {
        r.error = "zfs receive failed (status " + std::to_string(r.receive_status) + ")" +
                  (recv_why.empty() ? "" : ": " + recv_why);
    } else if (r.send_status != 0) {
        r.error = "remote send failed (status " + std::to_string(r.send_status) + ")" +
                  (send_why.empty() ? "" : ": " + send_why);
        if (r.receive_status != 0 && !recv_why.empty()) r.error += "; zfs receive: " + recv_why;
    }
    r.ok = r.error.empty() && r.send_status == 0 && r.receive_status == 0;
    if (!r.ok && r.error.empty()) r.error = "transfer failed";
    return r;
}

} // namespace puller

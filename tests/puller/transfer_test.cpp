// The relay and process helpers with ordinary programs standing in for ssh and zfs receive:
// bytes counted, failures of either side named, a signal stops both, nobody left unreaped.
#include <doctest/doctest.h>

#include <cerrno>
#include <sys/wait.h>

#include "puller/lines.hpp"
#include "puller/spawn.hpp"
#include "puller/transfer.hpp"

using namespace puller;

namespace {

// zfs-puller's main() installs its handlers (SIGPIPE ignored: a dead receiver is an EPIPE to
// report, not our death) before any relay; the tests run the relay under the same set-up.
Progress quiet() {
    install_signal_handlers();
    return Progress(ProgressMode::none, 5);
}

bool no_children_left() {
    errno = 0;
    return ::waitpid(-1, nullptr, WNOHANG) == -1 && errno == ECHILD;
}

} // namespace

TEST_CASE("relay: every byte arrives and is counted") {
    Progress p = quiet();
    const TransferResult r =
        relay({"/usr/bin/head", "-c", "12345678", "/dev/urandom"}, {"/usr/bin/wc", "-c"}, p);
    CHECK_MESSAGE(r.ok, r.error);
    CHECK(r.bytes == 12345678u);
    CHECK(r.send_status == 0);
    CHECK(r.receive_status == 0);
    CHECK(no_children_left());
}

TEST_CASE("relay: a failing receiver is named and the sender is stopped") {
    Progress p = quiet();
    const TransferResult r = relay(
        {"/usr/bin/yes"},
        {"/bin/sh", "-c", "head -c 100000 >/dev/null; echo 'cannot receive: boom' >&2; exit 1"}, p);
    CHECK_FALSE(r.ok);
    CHECK(r.receive_status == 1);
    CHECK(r.error.find("zfs receive failed") != std::string::npos);
    CHECK(r.error.find("cannot receive: boom") != std::string::npos);
    CHECK(no_children_left());
}

TEST_CASE("relay: a failing sender is named") {
    Progress p = quiet();
    const TransferResult r =
        relay({"/bin/sh", "-c", "echo 'zfs-gatekeeper: command not permitted' >&2; exit 126"},
              {"/usr/bin/wc", "-c"}, p);
    CHECK_FALSE(r.ok);
    CHECK(r.send_status == 126);
    CHECK(r.error == "remote send failed (status 126): zfs-gatekeeper: command not permitted");
    CHECK(no_children_left());
}

TEST_CASE("relay: a signal stops both sides") {
    Progress p = quiet();
    g_signal = SIGTERM;
    const TransferResult r = relay({"/usr/bin/yes"}, {"/usr/bin/wc", "-c"}, p);
    g_signal = 0;
    CHECK(r.interrupted);
    CHECK_FALSE(r.ok);
    CHECK(no_children_left());
}

TEST_CASE("processes: absolute paths only, fixed environment, output captured") {
    CHECK(spawn({"sh", "-c", "true"}, -1, -1, -1) == -1);
    const Captured c = run_capture({"/usr/bin/env"});
    CHECK(c.status == 0);
    CHECK(c.out == "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
    const Captured e = run_capture({"/bin/sh", "-c", "echo out; echo err >&2; exit 7"});
    CHECK(e.status == 7);
    CHECK(e.out == "out\n");
    CHECK(last_line(e.err) == "err");
    CHECK(display({"/usr/sbin/zfs", "receive", "--", "a b"}) == "/usr/sbin/zfs receive -- 'a b'");
}

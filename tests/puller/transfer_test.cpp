// The relay and process helpers with ordinary programs standing in for ssh and zfs receive:
// bytes counted, failures of either side named, a signal or a limit stops both, nobody left
// unreaped; and the per-target lock.
#include <doctest/doctest.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "puller/lines.hpp"
#include "puller/spawn.hpp"
#include "puller/target_lock.hpp"
#include "puller/transfer.hpp"
#include "tests/puller/stream_records.hpp"
#include "tests/support.hpp"

using namespace puller;
namespace sr = stream_records;

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

// A zfs send stream in a file, for `cat` to play the sender.
struct StreamFile {
    std::string path;
    std::size_t size = 0;
    explicit StreamFile(const std::string& bytes) {
        char tmpl[] = "/tmp/zfs-puller-stream.XXXXXX";
        const int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
        ::close(fd);
        path = tmpl;
        size = bytes.size();
    }
    ~StreamFile() { ::unlink(path.c_str()); }
};

const StreamExpect expect_a{"tank/a", DatasetKind::filesystem, 0};

// The same receiver for both types.
ReceiveArgv both(const Argv& argv) {
    return ReceiveArgv{argv, argv};
}

} // namespace

TEST_CASE("relay: every byte arrives and is counted") {
    Progress p = quiet();
    const StreamFile f(sr::substream("tank/a@s1", false, 11, 0, 12345678));
    const TransferResult r = relay({"/bin/cat", f.path}, both({"/usr/bin/wc", "-c"}), expect_a, p);
    CHECK_MESSAGE(r.ok, r.error);
    CHECK(r.bytes == f.size);
    CHECK(r.send_status == 0);
    CHECK(r.receive_status == 0);
    CHECK(r.kind == DatasetKind::filesystem);
    CHECK(no_children_left());
}

TEST_CASE("relay: a receiver that ends right after the last record is not a failure") {
    // zfs receive may exit as soon as it has read the final END record, while ssh still holds its
    // end open; the relay used to report "zfs receive failed (status 0)".
    Progress p = quiet();
    const StreamFile f(sr::substream("tank/a@s1", false, 11, 0, 3 << 20));
    const std::string size = std::to_string(f.size);
    for (int i = 0; i < 3; ++i) {
        const TransferResult r =
            relay({"/bin/sh", "-c", "cat " + f.path + " && exec sleep 1"},
                  both({"/bin/sh", "-c", "head -c " + size + " >/dev/null"}), expect_a, p);
        CHECK_MESSAGE(r.ok, r.error);
    }
    CHECK(no_children_left());
}

TEST_CASE("relay: zfs receive starts with the options for the stream's type") {
    Progress p = quiet();
    char dir[] = "/tmp/zfs-puller-relay.XXXXXX";
    REQUIRE(::mkdtemp(dir) != nullptr);
    const std::string seen = std::string(dir) + "/seen";
    const ReceiveArgv recv{{"/bin/sh", "-c", "echo filesystem >" + seen + "; cat >/dev/null"},
                           {"/bin/sh", "-c", "echo volume >" + seen + "; cat >/dev/null"}};
    const StreamFile vol(sr::substream("tank/v@s1", true, 11, 0, 1000));
    TransferResult r =
        relay({"/bin/cat", vol.path}, recv, StreamExpect{"tank/v", std::nullopt, 0}, p);
    CHECK_MESSAGE(r.ok, r.error);
    CHECK(r.kind == DatasetKind::volume);
    CHECK(test_support::read_file(seen) == "volume\n");

    // A stream that breaks a rule in its first record never starts zfs receive at all.
    ::unlink(seen.c_str());
    const StreamFile other(sr::substream("tank/b@s1", false, 11, 0, 1000));
    r = relay({"/bin/cat", other.path}, recv, expect_a, p);
    CHECK_FALSE(r.ok);
    CHECK(r.error.find("not for tank/a") != std::string::npos);
    CHECK(r.receive_status == -1);
    CHECK_FALSE(std::filesystem::exists(seen));
    std::filesystem::remove_all(dir);
    CHECK(no_children_left());
}

TEST_CASE("relay: a failing receiver is named and the sender is stopped") {
    Progress p = quiet();
    const StreamFile f(sr::substream("tank/a@s1", false, 11, 0, 16 << 20));
    const TransferResult r =
        relay({"/bin/cat", f.path},
              both({"/bin/sh", "-c",
                    "head -c 100000 >/dev/null; echo 'cannot receive: boom' >&2; exit 1"}),
              expect_a, p);
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
              both({"/usr/bin/wc", "-c"}), expect_a, p);
    CHECK_FALSE(r.ok);
    CHECK(r.send_status == 126);
    CHECK(r.error == "remote send failed (status 126): zfs-gatekeeper: command not permitted");
    CHECK(no_children_left());
}

TEST_CASE("relay: a signal stops both sides") {
    Progress p = quiet();
    const StreamFile f(sr::substream("tank/a@s1", false, 11, 0, 16 << 20));
    g_signal = SIGTERM;
    const TransferResult r = relay({"/bin/cat", f.path}, both({"/usr/bin/wc", "-c"}), expect_a, p);
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

TEST_CASE("target lock: one holder per target; the state directory is checked") {
    CHECK(lock_file_name("backup/nas/home") == "backup%nas%home.lock");
    char tmpl[] = "/tmp/zfs-puller-lock.XXXXXX";
    REQUIRE(::mkdtemp(tmpl) != nullptr);
    const std::string dir = std::string(tmpl) + "/state";
    {
        TargetLock a, b, c;
        CHECK(a.acquire(dir, "backup/a") == ""); // creates the directory
        const std::string held = b.acquire(dir, "backup/a");
        CHECK(held.find("another zfs-puller run is pulling into backup/a") != std::string::npos);
        CHECK(c.acquire(dir, "backup/b") == "");
    }
    TargetLock again; // released with its holder
    CHECK(again.acquire(dir, "backup/a") == "");
    ::chmod(dir.c_str(), 0777);
    TargetLock open_dir;
    CHECK(open_dir.acquire(dir, "backup/c").find("not group/world writable") != std::string::npos);
    ::chmod(dir.c_str(), 0700);
    const std::string link = std::string(tmpl) + "/link";
    REQUIRE(::symlink(dir.c_str(), link.c_str()) == 0);
    TargetLock via_link;
    CHECK(via_link.acquire(link, "backup/d").find("cannot open the state directory") !=
          std::string::npos);
    std::filesystem::remove_all(tmpl);
}

TEST_CASE("run_capture: output, line and stall limits and signals stop the command") {
    install_signal_handlers();
    const auto t0 = std::chrono::steady_clock::now();
    Captured c = run_capture({"/usr/bin/yes"}, {1 << 20, 0, 0});
    CHECK(c.stopped == Captured::Stopped::output_limit);
    CHECK(c.status != 0);
    c = run_capture({"/usr/bin/yes"}, {0, 1000, 0});
    CHECK(c.stopped == Captured::Stopped::line_limit);
    c = run_capture({"/bin/sleep", "30"}, {0, 0, 0.5});
    CHECK(c.stopped == Captured::Stopped::stalled);
    // A child that ignores SIGTERM is killed after the grace period.
    c = run_capture({"/bin/sh", "-c", "trap '' TERM; sleep 30"}, {0, 0, 0.3});
    CHECK(c.stopped == Captured::Stopped::stalled);
    g_signal = SIGTERM;
    c = run_capture({"/bin/sleep", "30"});
    g_signal = 0;
    CHECK(c.stopped == Captured::Stopped::signal);
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(10));
    CHECK(no_children_left());
    c = run_capture({"/bin/sh", "-c", "echo fine"}, {10, 1, 5});
    CHECK(c.stopped == Captured::Stopped::no);
    CHECK(c.out == "fine\n");
}

TEST_CASE("relay: a stream past its cap, or one that stops moving, is stopped") {
    Progress p = quiet();
    const StreamFile big(sr::substream("tank/a@s1", false, 11, 0, 16 << 20));
    StreamLimits cap;
    cap.max_bytes = 4 << 20;
    cap.estimate = 1000;
    const TransferResult over =
        relay({"/bin/cat", big.path}, both({"/usr/bin/wc", "-c"}), expect_a, p, cap);
    CHECK_FALSE(over.ok);
    CHECK(over.error.find("passed 4194304 bytes, the cap for an estimate of 1000 bytes") !=
          std::string::npos);
    StreamLimits stall;
    stall.stall_seconds = 0.5;
    const StreamFile head(sr::begin("tank/a@s1", false, 11, 0));
    const TransferResult quiet_sender =
        relay({"/bin/sh", "-c", "cat " + head.path + " && exec sleep 30"},
              both({"/usr/bin/wc", "-c"}), expect_a, p, stall);
    CHECK_FALSE(quiet_sender.ok);
    CHECK(quiet_sender.error.find("moved nothing") != std::string::npos);
    CHECK(no_children_left());
}

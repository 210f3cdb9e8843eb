// The sandbox, proven from outside: the real zfs-gatekeeper binary runs in forced-command mode
// with a policy whose zfs is tests/helpers/hostile (built without sanitizers), and the hostile
// stand-in tries one forbidden thing per run. Each row says how it must fail: killed by the
// seccomp filter (SIGSYS, exit status 159) or refused with an errno it prints on stdout.
#include <doctest/doctest.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utility>
#include <vector>

using nlohmann::json;
namespace fs = std::filesystem;

namespace {

struct Run {
    int status = -1; // the gatekeeper's exit status
    std::string out; // its stdout: the hostile program's report
    json outcome;    // the audit file's outcome record
};

int landlock_abi_here() {
    const long v = ::syscall(444 /* landlock_create_ruleset */, nullptr, 0, 1U);
    return v > 0 ? static_cast<int>(v) : 0;
}

// The real tools, where this machine has them: they must run unchanged under the stream filter.
struct Tool {
    const char* name;
    const char* args;       // as syncoid sends them
    const char* decompress; // run outside the sandbox to check the bytes
};
constexpr Tool real_tools[] = {
    {"lzop", "lzop", "lzop -dc"},        {"gzip", "gzip -3", "gzip -dc"},
    {"pigz", "pigz -9", "pigz -dc"},     {"zstd", "zstd -3", "zstd -dc"},
    {"zstdmt", "zstdmt -3", "zstd -dc"}, {"xz", "xz", "xz -dc"},
    {"lz4", "lz4", "lz4 -dc"},
};
bool have(const char* tool) {
    return ::access((std::string("/usr/bin/") + tool).c_str(), X_OK) == 0;
}

class Fixture {
  public:
    // real_tools: the policy's stream tools are the system's own, not the hostile stand-in.
    explicit Fixture(bool with_real_tools = false) {
        char tmpl[] = "/tmp/zg-sandbox-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        dir_ = tmpl;
        policy_ = dir_ / "policy.toml";
        audit_ = dir_ / "audit.log";
        std::ofstream p(policy_);
        p << "[programs]\nzfs = \"" << ZG_HOSTILE << "\"\n";
        std::string tools = "\"lzop\"";
        if (with_real_tools) {
            tools.clear();
            for (const char* t :
                 {"lzop", "gzip", "pigz", "zstd", "zstdmt", "xz", "lz4", "mbuffer"}) {
                if (!have(t)) continue;
                p << t << " = \"/usr/bin/" << t << "\"\n";
                tools += std::string(tools.empty() ? "" : ", ") + "\"" + t + "\"";
            }
        } else {
            p << "lzop = \"" << ZG_HOSTILE_STREAM << "\"\n";
        }
        p << "[audit]\nfile = \"" << audit_.string() << "\"\n"
          << "[identity.t]\ndatasets = [\"tank\"]\npreset = \"syncoid-pull\"\ntools = [" << tools
          << "]\n";
        p.close();
        fs::permissions(policy_, fs::perms::owner_read | fs::perms::owner_write);
    }
    ~Fixture() { fs::remove_all(dir_); }

    // read_limit: the test stops reading (and closes) after that many bytes, like a client that
    // hangs up mid-stream.
    // inherited_signals: start the gatekeeper the way a careless parent might, with signals
    // ignored and blocked (both survive execve).
    Run run(const std::string& command, std::size_t read_limit = SIZE_MAX,
            bool inherited_signals = false) const {
        Run r;
        int out[2];
        REQUIRE(::pipe(out) == 0);
        const pid_t pid = ::fork();
        REQUIRE(pid >= 0);
        if (pid == 0) {
            ::dup2(out[1], 1);
            ::close(out[0]);
            ::close(out[1]);
            const std::string env_cmd = "SSH_ORIGINAL_COMMAND=" + command;
            const std::string policy = policy_.string();
            char* const argv[] = {const_cast<char*>(ZG_GATEKEEPER),
                                  const_cast<char*>("--policy"),
                                  const_cast<char*>(policy.c_str()),
                                  const_cast<char*>("--identity"),
                                  const_cast<char*>("t"),
                                  const_cast<char*>("--test-allow-own-policy"),
                                  nullptr};
            char* const envp[] = {const_cast<char*>(env_cmd.c_str()), nullptr};
            if (inherited_signals) {
                for (int sig : {SIGHUP, SIGINT, SIGQUIT, SIGPIPE, SIGTERM, SIGUSR1, SIGALRM,
                                SIGCHLD, SIGTSTP, SIGTTOU, SIGXFSZ, SIGRTMIN + 3})
                    ::signal(sig, SIG_IGN);
                // 32 and 33, which glibc reserves and will not set: the kernel call does.
                struct {
                    void (*handler)(int);
                    unsigned long flags;
                    void (*restorer)();
                    std::uint64_t mask;
                } ignore{SIG_IGN, 0, nullptr, 0};
                for (int sig : {32, 33})
                    ::syscall(SYS_rt_sigaction, sig, &ignore, nullptr, sizeof ignore.mask);
                sigset_t blocked;
                sigfillset(&blocked);
                ::sigprocmask(SIG_SETMASK, &blocked, nullptr);
            }
            ::execve(ZG_GATEKEEPER, argv, envp);
            ::_exit(99);
        }
        ::close(out[1]);
        char buf[4096];
        ssize_t n;
        while (r.out.size() < read_limit && (n = ::read(out[0], buf, sizeof buf)) > 0)
            r.out.append(buf, static_cast<std::size_t>(n));
        ::close(out[0]);
        int st = 0;
        ::waitpid(pid, &st, 0);
        r.status = WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
        std::ifstream log(audit_);
        std::string line;
        while (std::getline(log, line)) {
            auto j = json::parse(line, nullptr, false);
            if (!j.is_discarded() && j.value("event", "") == "outcome") r.outcome = j;
        }
        fs::remove(audit_);
        return r;
    }

    // `zfs-gatekeeper --policy P --print-sandbox`: stdout and exit status.
    std::pair<int, std::string> print_sandbox() const {
        const std::string cmd = std::string(ZG_GATEKEEPER) + " --policy " + policy_.string() +
                                " --test-allow-own-policy --print-sandbox";
        std::string out;
        FILE* in = ::popen(cmd.c_str(), "r");
        REQUIRE(in != nullptr);
        char buf[65536];
        std::size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, in)) > 0)
            out.append(buf, n);
        const int st = ::pclose(in);
        return {WIFEXITED(st) ? WEXITSTATUS(st) : -1, out};
    }

    Run attempt(const std::string& what) const {
        return run("zfs get -H syncoid:sync 'tank/" + what + "'");
    }

  private:
    fs::path dir_, policy_, audit_;
};

bool killed_by_sigsys(const Run& r) {
    return r.status == 128 + SIGSYS && r.outcome.contains("stages") &&
           r.outcome["stages"].size() == 1 && r.outcome["stages"][0].value("signal", 0) == SIGSYS &&
           r.outcome["stages"][0].value("sigsys", false);
}

// "ZfsStatus CapEff:\t0000..." lines -> {"CapEff": "0000..."} for one reporter.
std::map<std::string, std::string> status_of(const std::string& out, const std::string& who) {
    std::map<std::string, std::string> m;
    std::istringstream in(out);
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind(who + " ", 0) != 0) continue;
        const auto rest = line.substr(who.size() + 1);
        const auto colon = rest.find(':');
        if (colon == std::string::npos) continue;
        auto value = rest.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        m[rest.substr(0, colon)] = value;
    }
    return m;
}

} // namespace

TEST_CASE("a harmless stand-in runs, and the outcome record describes the sandbox") {
    Fixture f;
    const Run r = f.attempt("ok");
    CHECK(r.status == 0);
    CHECK(r.out == "ok succeeded\n");
    REQUIRE(r.outcome.is_object());
    const json& sb = r.outcome["sandbox"];
    CHECK(sb["seccomp"] == true);
    CHECK(sb["no_new_privs"] == true);
    CHECK(sb["seccomp_filters"]["zfs"]["syscalls"].get<int>() > 20);
    CHECK(sb["seccomp_filters"]["zfs"]["hash"].get<std::string>().size() == 16);
    // Only the profile of what ran was compiled (a `zfs get` starts no compressor or socat).
    CHECK_FALSE(sb["seccomp_filters"].contains("stream"));
    CHECK_FALSE(sb["seccomp_filters"].contains("socat"));
    // The supervisor narrowed itself after the fork and could still write this record.
    CHECK(sb["seccomp_filters"]["supervisor"]["loaded"] == true);
    CHECK(sb["landlock"]["enforced"] == (landlock_abi_here() > 0));
    CHECK(sb["sigsys_syscall"].is_null());
}

TEST_CASE("forbidden syscalls kill the stand-in with SIGSYS") {
    Fixture f;
    // x32 and int80 are foreign-ABI calls: the filter's architecture check kills them.
    for (const char* what : {"socket", "connect", "ptrace", "mount", "bpf", "unshare",
                             "clone-newuser", "capset", "kill", "x32", "int80"}) {
        CAPTURE(what);
        const Run r = f.attempt(what);
        CAPTURE(r.status);
        CAPTURE(r.out);
        CHECK(r.out.empty()); // it never got to report
        if (std::string(what) == "int80" && r.status == 128 + SIGSEGV) {
            // A kernel without IA32 emulation faults on `int 0x80` before seccomp sees it.
            MESSAGE("int80: no IA32 emulation here (SIGSEGV); the architecture check is untested");
            continue;
        }
        CHECK(killed_by_sigsys(r));
        if (r.outcome.contains("stages") && !r.outcome["stages"].empty())
            CHECK(r.outcome["stages"][0]["syscall"].is_null());
    }
}

TEST_CASE("clone3 answers ENOSYS so glibc falls back to clone") {
    Fixture f;
    const Run r = f.attempt("clone3");
    CHECK(r.status == 0);
    CHECK(r.out == "clone3 errno=ENOSYS\n");
}

TEST_CASE("the Landlock fence refuses files outside the measured set") {
    if (landlock_abi_here() == 0) {
        MESSAGE("Landlock unavailable on this kernel: fence cases skipped (the record says so)");
        return;
    }
    Fixture f;
    const struct {
        const char* attempt;
        const char* expected;
    } rows[] = {
        {"tmpwrite", "tmpwrite errno=EACCES\n"}, // creating any file
        {"shadow", "shadow errno=EACCES\n"},     // reading outside the fence, even as root
        {"execsh", "execsh errno=EACCES\n"},     // executing anything but itself
    };
    for (const auto& row : rows) {
        CAPTURE(row.attempt);
        const Run r = f.attempt(row.attempt);
        CHECK(r.status == 0);
        CHECK(r.out == row.expected);
    }
    CHECK(!fs::exists("/tmp/zg-hostile-was-here"));
}

TEST_CASE("capability sets in the started programs are exactly the intended ones") {
    Fixture f;
    // zfs (hostile) | lzop (hostile-stream): both report their own /proc/self/status.
    const Run r = f.run("zfs send 'tank/caps'@'s1' | lzop");
    CHECK(r.status == 0);
    // Both profiles that ran were compiled, and only those.
    REQUIRE(r.outcome.is_object());
    const json& filters = r.outcome["sandbox"]["seccomp_filters"];
    CHECK(filters.contains("zfs"));
    CHECK(filters.contains("stream"));
    CHECK_FALSE(filters.contains("socat"));
    const auto zfs = status_of(r.out, "zfs");
    const auto stream = status_of(r.out, "stream");
    REQUIRE(zfs.size() >= 7);
    REQUIRE(stream.size() >= 7);
    for (const auto* s : {&zfs, &stream}) {
        CHECK(s->at("NoNewPrivs") == "1");
        CHECK(s->at("Seccomp") == "2");
    }
    const std::string none = "0000000000000000";
    for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
        CAPTURE(set);
        CHECK(stream.at(set) == none);
    }
    if (::geteuid() == 0) {
        // Root: zfs keeps CAP_SYS_ADMIN (bit 21) everywhere it must to survive execve under a
        // locked SECBIT_NOROOT; every other program has nothing, not even in its bounding set.
        const std::string sys_admin = "0000000000200000";
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
            CAPTURE(set);
            CHECK(zfs.at(set) == sys_admin);
        }
        CHECK(stream.at("CapBnd") == none);
    } else {
        for (const char* set : {"CapInh", "CapPrm", "CapEff", "CapAmb"}) {
            CAPTURE(set);
            CHECK(zfs.at(set) == none);
        }
    }
}

TEST_CASE("signals ignored or blocked by whoever started the gatekeeper never reach zfs") {
    Fixture f;
    const Run plain = f.run("zfs get -H syncoid:sync 'tank/caps'");
    const Run r = f.run("zfs get -H syncoid:sync 'tank/caps'", SIZE_MAX, true);
    CHECK(plain.status == 0);
    CHECK(r.status == 0);
    const auto zfs = status_of(r.out, "zfs");
    REQUIRE(zfs.count("SigIgn") == 1);
    REQUIRE(zfs.count("SigBlk") == 1);
    CHECK(zfs.at("SigIgn") == "0000000000000000");
    CHECK(zfs.at("SigBlk") == "0000000000000000");
    CHECK(status_of(plain.out, "zfs").at("SigIgn") == "0000000000000000");
    // The supervisor reaped zfs itself (SIGCHLD ignored would have let the kernel do it) and
    // recorded its exit.
    REQUIRE(r.outcome.is_object());
    CHECK(r.outcome["stages"][0].value("exit_code", -1) == 0);
}

TEST_CASE("the real pipeline tools run unchanged under the stream filter and fence") {
    if (!have("mbuffer")) {
        MESSAGE("mbuffer is not installed: real-tool pipelines skipped");
        return;
    }
    Fixture f(true);
    std::string expected(8u << 20, '\0');
    for (std::size_t i = 0; i < expected.size(); ++i)
        expected[i] = static_cast<char>((i * 7 + i / 4096) % 251);
    for (const auto& tool : real_tools) {
        if (!have(tool.name)) continue;
        CAPTURE(tool.name);
        const Run r = f.run(std::string("zfs send 'tank/stream'@'s1' | ") + tool.args +
                            " | mbuffer  -q -s 128k -m 16M 2>/dev/null");
        CHECK(r.status == 0);
        REQUIRE(r.outcome.contains("stages"));
        for (const auto& st : r.outcome["stages"])
            CHECK(st.value("signal", 0) == 0);
        // Decompress outside the sandbox and compare with what the stand-in zfs sent.
        char tmpl[] = "/tmp/zg-sandbox-stream.XXXXXX";
        const int fd = ::mkstemp(tmpl);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, r.out.data(), r.out.size()) == static_cast<ssize_t>(r.out.size()));
        ::close(fd);
        std::string plain;
        if (FILE* in = ::popen((std::string(tool.decompress) + " <" + tmpl).c_str(), "r")) {
            char buf[65536];
            std::size_t n;
            while ((n = std::fread(buf, 1, sizeof buf, in)) > 0)
                plain.append(buf, n);
            ::pclose(in);
        }
        ::unlink(tmpl);
        CHECK(plain.size() == expected.size());
        CHECK((plain == expected));
    }
    // mbuffer -R: the rate-limited path (clock_nanosleep) on the raw stream.
    const Run r = f.run("zfs send 'tank/stream'@'s1' | mbuffer  -R 64m -q -s 128k -m 16M");
    CHECK(r.status == 0);
    CHECK((r.out == expected));
}

TEST_CASE(
    "a client hanging up mid-stream ends the real tools by SIGPIPE or SIGTERM, never SIGSYS") {
    // gzip and xz catch SIGPIPE/SIGTERM, clean up and re-raise it with tgkill (argument_rules).
    Fixture f(true);
    for (const auto& tool : real_tools) {
        if (!have(tool.name)) continue;
        CAPTURE(tool.name);
        const Run r = f.run(std::string("zfs send 'tank/stream'@'s1' | ") + tool.args, 4096);
        REQUIRE(r.outcome.contains("stages"));
        for (const auto& st : r.outcome["stages"]) {
            CAPTURE(st.dump());
            CHECK(st.value("signal", 0) != SIGSYS);
            CHECK(!st.value("sigsys", false));
        }
    }
}

TEST_CASE("--print-sandbox prints the reviewed filters and each program's fence") {
    Fixture f;
    const auto [status, out] = f.print_sandbox();
    CHECK(status == 0);
    std::ifstream golden(fs::path(ZG_SOURCE_DIR) / "tests/golden/seccomp.pfc", std::ios::binary);
    std::ostringstream g;
    g << golden.rdbuf();
    REQUIRE(!g.str().empty());
    CHECK(out.rfind(g.str(), 0) == 0); // starts with the golden dump
    CHECK(out.find(std::string("# ---- ") + ZG_HOSTILE + " (profile zfs") != std::string::npos);
    CHECK(out.find(std::string("# ---- ") + ZG_HOSTILE_STREAM + " (profile stream") !=
          std::string::npos);
    if (landlock_abi_here() > 0) {
        CHECK(out.find(std::string("allow execute,read_file ") + ZG_HOSTILE +
                       "  # the program itself") != std::string::npos);
    } else {
        CHECK(out.find("landlock: off") != std::string::npos);
    }
}

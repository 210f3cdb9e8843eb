// The allowlist tables: every name resolves, nothing is listed twice, every reason is there,
// every measured trace is covered by its program's profile and every allowed syscall was
// measured; the compiled filters match the reviewed golden dump (tests/golden/seccomp.pfc).
#include <doctest/doctest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <seccomp.h>
#include <set>
#include <sstream>
#include <string>

#include "gatekeeper/landlock_rules.hpp"
#include "gatekeeper/sandbox.hpp"
#include "gatekeeper/seccomp_allowlist.hpp"
#include "gatekeeper/seccomp_filter.hpp"
#include "gatekeeper/seccomp_programs.hpp"

using namespace gatekeeper;
namespace fs = std::filesystem;

namespace {

const fs::path traces_dir = fs::path(ZG_SOURCE_DIR) / "tests/fixtures/syscall-traces";
const fs::path golden_file = fs::path(ZG_SOURCE_DIR) / "tests/golden/seccomp.pfc";

bool group_known(std::string_view g) {
    return std::any_of(std::begin(child_groups), std::end(child_groups),
                       [&](const auto& x) { return x.name == g; });
}

std::set<std::string> allowed_for(Profile p) {
    std::set<std::string> out;
    for (const auto& s : child_allowlist)
        if ((s.profiles & profile_bit(p)) != 0) out.insert(std::string(s.name));
    return out;
}

// The fixture's production name says which program ran, hence which profile it gets.
Profile profile_of_production(const std::string& name) {
    for (const char* zfs : {"zpool", "get", "list", "send", "receive", "snapshot", "hold",
                            "release", "bookmark", "destroy"})
        if (name.rfind(zfs, 0) == 0) return Profile::zfs;
    if (name.rfind("socat", 0) == 0) return Profile::socat;
    return Profile::stream;
}

std::map<std::string, std::set<std::string>> read_traces() {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& e : fs::directory_iterator(traces_dir)) {
        const auto name = e.path().filename().string();
        if (!e.is_regular_file() || e.path().extension() != ".txt" || name == "versions.txt" ||
            name == "root-capabilities.txt")
            continue;
        std::ifstream in(e.path());
        std::string line;
        while (std::getline(in, line))
            if (!line.empty()) out[e.path().stem().string()].insert(line);
    }
    return out;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST_CASE("every allowlist entry resolves, is listed once and says why") {
    auto check_table = [](const auto& table, bool child) {
        std::set<std::string_view> seen;
        for (const auto& s : table) {
            CAPTURE(s.name);
            CHECK(seccomp_syscall_resolve_name(std::string(s.name).c_str()) != __NR_SCMP_ERROR);
            CHECK(seen.insert(s.name).second);
            CHECK(!s.reason.empty());
            if (child) {
                CHECK(group_known(s.group));
                CHECK(s.profiles != 0);
                CHECK((s.profiles & ~for_all) == 0);
            }
        }
    };
    check_table(child_allowlist, true);
    check_table(child_enosys, true);
    check_table(supervisor_allowlist, false);
    for (const auto& e : child_enosys) {
        CAPTURE(e.name);
        CHECK(std::none_of(std::begin(child_allowlist), std::end(child_allowlist),
                           [&](const auto& s) { return s.name == e.name; }));
    }
    for (const auto& g : child_groups) {
        CAPTURE(g.name);
        CHECK(!g.purpose.empty());
    }
    // An argument rule restricts a call its profiles actually get; otherwise it is dead text.
    for (const auto& r : argument_rules) {
        CAPTURE(r.name);
        CHECK(!r.rule.empty());
        for (Profile p : all_profiles)
            if ((r.profiles & profile_bit(p)) != 0)
                CHECK(allowed_for(p).count(std::string(r.name)) == 1);
    }
}

TEST_CASE("the supervisor filter allows no way out") {
    for (const char* never :
         {"execve", "execveat", "fork", "vfork", "clone", "clone3", "socket", "connect", "open",
          "openat", "openat2", "ptrace", "mount", "bpf", "unshare", "setns"}) {
        CAPTURE(never);
        CHECK(std::none_of(std::begin(supervisor_allowlist), std::end(supervisor_allowlist),
                           [&](const auto& s) { return s.name == never; }));
    }
}

TEST_CASE("children never get the calls the hostile test expects to be killed") {
    for (Profile p : all_profiles) {
        const auto allowed = allowed_for(p);
        for (const char* never : {"ptrace",          "mount",
                                  "umount2",         "bpf",
                                  "unshare",         "setns",
                                  "capset",          "kill",
                                  "execveat",        "fork",
                                  "vfork",           "open",
                                  "openat2",         "memfd_create",
                                  "init_module",     "finit_module",
                                  "kexec_load",      "reboot",
                                  "pivot_root",      "chroot",
                                  "setuid",          "setgid",
                                  "keyctl",          "add_key",
                                  "perf_event_open", "process_vm_writev",
                                  "userfaultfd",     "io_uring_setup",
                                  "seccomp"}) {
            CAPTURE(profile_name(p));
            CAPTURE(never);
            CHECK(allowed.count(never) == 0);
        }
    }
    CHECK(allowed_for(Profile::zfs).count("socket") == 0);
    CHECK(allowed_for(Profile::stream).count("socket") == 0);
    CHECK(allowed_for(Profile::socat).count("socket") == 1);
}

TEST_CASE("every measured trace is covered by its profile, and every allowed call was measured") {
    const auto traces = read_traces();
    REQUIRE(traces.size() >= 20);
    std::map<Profile, std::set<std::string>> measured;
    for (const auto& [production, calls] : traces) {
        const Profile p = profile_of_production(production);
        const auto allowed = allowed_for(p);
        for (const auto& call : calls) {
            CAPTURE(production);
            CAPTURE(call);
            const bool enosys = std::any_of(std::begin(child_enosys), std::end(child_enosys),
                                            [&](const auto& e) { return e.name == call; });
            CHECK((allowed.count(call) == 1 || enosys));
            measured[p].insert(call);
        }
    }
    // Allowed but absent from the traces, each for a stated reason.
    const std::map<std::string, std::string> unmeasured_ok = {
        {"clone", "clone3 answers ENOSYS under the filter, so glibc's fallback runs instead"},
        {"restart_syscall", "issued by the kernel after SIGSTOP/SIGCONT, never by the program"},
    };
    for (Profile p : all_profiles) {
        for (const auto& call : allowed_for(p)) {
            CAPTURE(profile_name(p));
            CAPTURE(call);
            CHECK((measured[p].count(call) == 1 || unmeasured_ok.count(call) == 1));
        }
    }
}

TEST_CASE("the filters compile") {
    for (Profile p : all_profiles) {
        const auto f = compile_child_filter(p);
        CAPTURE(f.name);
        CHECK(f.error.empty());
        CHECK(!f.program.empty());
        CHECK(f.hash.size() == 16);
    }
    const auto s = compile_supervisor_filter();
    CHECK(s.error.empty());
    CHECK(s.syscalls == std::size(supervisor_allowlist));
}

// Serving loads the build-time compilation (seccomp_programs.cpp): it must be, instruction for
// instruction, what libseccomp compiles from the same tables now, and what the sandbox uses.
TEST_CASE("the build-time BPF programs equal a run-time compilation") {
    const auto same = [](const PrecompiledFilter& built, const CompiledFilter& now) {
        CAPTURE(now.name);
        REQUIRE(now.error.empty());
        CHECK(built.name == now.name);
        CHECK(built.syscalls == now.syscalls);
        CHECK(built.hash == now.hash);
        REQUIRE(built.program.size() == now.program.size());
        for (std::size_t i = 0; i < now.program.size(); ++i) {
            CAPTURE(i);
            CHECK(built.program[i].code == now.program[i].code);
            CHECK(built.program[i].jt == now.program[i].jt);
            CHECK(built.program[i].jf == now.program[i].jf);
            CHECK(built.program[i].k == now.program[i].k);
        }
    };
    for (Profile p : all_profiles)
        same(precompiled_child_filters[static_cast<std::size_t>(p)], compile_child_filter(p));
    same(precompiled_supervisor_filter, compile_supervisor_filter());
    // The sandbox serves with exactly these.
    const Sandbox s = prepare_sandbox({{"zfs", "/usr/bin/true"}, {"lzop", "/usr/bin/env"}});
    for (Profile p : {Profile::zfs, Profile::stream}) {
        const auto& loaded = s.child_filters[static_cast<std::size_t>(p)];
        CHECK(loaded.hash == precompiled_child_filters[static_cast<std::size_t>(p)].hash);
        CHECK(loaded.program.size() ==
              precompiled_child_filters[static_cast<std::size_t>(p)].program.size());
    }
    CHECK(s.supervisor_filter.hash == precompiled_supervisor_filter.hash);
}

TEST_CASE("fence rules are absolute and explained") {
    for (const auto& r : fence_rules) {
        CAPTURE(r.path);
        CHECK(r.path.starts_with('/'));
        CHECK(!r.reason.empty());
        CHECK(r.profiles != 0);
    }
}

TEST_CASE("golden dump of the compiled filters") {
    const std::string actual = render_seccomp_filters();
    const std::string golden = read_file(golden_file);
    if (actual != golden) {
        const fs::path out = fs::current_path() / "seccomp.pfc.actual";
        std::ofstream(out, std::ios::binary) << actual;
        FAIL_CHECK("the compiled filters changed; review, then: cp " << out.string() << " "
                                                                     << golden_file.string());
    }
}

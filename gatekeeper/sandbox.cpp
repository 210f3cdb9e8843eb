// Sandbox preparation in the parent: which filters to compile, each program's profile and
// Landlock plan, the supervisor's own filter, and the descriptions for the audit record and
// --print-sandbox. The child applies it in exec.cpp.
#include "gatekeeper/sandbox.hpp"

#include <algorithm>
#include <cstring>
#include <sys/prctl.h>
#include <unistd.h>

#include "gatekeeper/capabilities.hpp"
#include "gatekeeper/seccomp_programs.hpp"
#include "grammar/programs.hpp"

namespace gatekeeper {
const ProgramSandbox* find_program(const Sandbox& s, const std::string& path) noexcept {
    for (const auto& p : s.programs)
        if (p.path == path) return &p;
    return nullptr;
}

bool set_no_new_privs() noexcept {
    return ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
           ::prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) == 1;
}

namespace {

// The build-time compilation of a filter, in the form load_filter() takes.
CompiledFilter built(const PrecompiledFilter& f) {
    CompiledFilter c;
    c.name = f.name;
    c.program.assign(f.program.begin(), f.program.end());
    c.syscalls = f.syscalls;
    c.hash = f.hash;
    return c;
}

} // namespace

Profile profile_for_program(const std::string& key) {
    const grammar::ProgramEntry* entry = grammar::find_program_entry(key);
    if (entry == nullptr) return Profile::stream; // cannot load (policy_file.cpp); least rights
    switch (entry->kind) {
    case grammar::ProgramKind::zfs:
        return Profile::zfs;
    case grammar::ProgramKind::network:
        return Profile::socat;
    case grammar::ProgramKind::stream:
        break;
    }
    return Profile::stream;
}

Sandbox prepare_sandbox(const std::map<std::string, std::string>& programs) {
    Sandbox s;
    s.running_as_root = ::geteuid() == 0;
    // The supervisor too: nothing it starts can gain privileges through set-uid or file caps,
    // and it may load its own filter later.
    if (!set_no_new_privs()) s.error = "cannot set no_new_privs";
    for (Profile p : all_profiles) {
        const bool used = std::any_of(programs.begin(), programs.end(), [p](const auto& entry) {
            return profile_for_program(entry.first) == p;
        });
        if (!used) continue;
        auto& filter = s.child_filters[static_cast<std::size_t>(p)];
        filter = built(precompiled_child_filters[static_cast<std::size_t>(p)]);
        if (!filter.error.empty() && s.error.empty())
            s.error = "seccomp filter " + filter.name + ": " + filter.error;
    }
    s.supervisor_filter = built(precompiled_supervisor_filter);
    if (!s.supervisor_filter.error.empty() && s.error.empty())
        s.error = "supervisor seccomp filter: " + s.supervisor_filter.error;
    s.landlock_abi = landlock_abi(s.landlock_unavailable);
    for (const auto& [key, path] : programs) {
        const Profile profile = profile_for_program(key);
        if (const auto* seen = find_program(s, path)) {
            // One path, two kinds of program (e.g. zfs and lzop both /usr/bin/x): it would need
            // two fences at once, so it gets none and nothing runs.
            if (seen->profile != profile && s.error.empty())
                s.error = path + " is configured as two kinds of program";
            continue;
        }
        std::string error;
        ProgramSandbox ps{path, profile, plan_landlock(profile, path, s.landlock_abi, error),
                          plan_capabilities(s.running_as_root, profile)};
        ps.landlock.unavailable = s.landlock_unavailable;
        if (ps.capabilities.final == nullptr && error.empty())
            error = "cannot prepare the capability sets of " + path;
        if (!error.empty() && s.error.empty()) s.error = error;
        s.programs.push_back(std::move(ps));
    }
    return s;
}

std::map<std::string, std::string>
programs_started(const std::map<std::string, std::string>& programs,
                 const std::vector<std::vector<std::vector<std::string>>>& argv) {
    std::map<std::string, std::string> started;
    for (const auto& [key, path] : programs)
        for (const auto& pipeline : argv)
            for (const auto& stage : pipeline)
                if (!stage.empty() && stage.front() == path) started.emplace(key, path);
    return started;
}

void enter_supervisor_sandbox(Sandbox& sandbox) noexcept {
    if (sandbox.supervisor_filter_loaded) return;
    if (load_filter(sandbox.supervisor_filter))
        sandbox.supervisor_filter_loaded = true;
    else
        sandbox.supervisor_filter_error = std::strerror(errno);
}

nlohmann::json describe_sandbox(const Sandbox& sandbox) {
    using nlohmann::json;
    json filters = json::object();
    for (const auto& f : sandbox.child_filters)
        if (!f.program.empty()) filters[f.name] = {{"syscalls", f.syscalls}, {"hash", f.hash}};
    // "none" in the default (unprivileged) deployment; as root, what zfs/zpool keep.
    const auto zfs_caps = kept_capabilities(sandbox.running_as_root, Profile::zfs);
    const std::string caps =
        zfs_caps.empty() ? "none" : "zfs,zpool: " + capability_names(zfs_caps) + "; others: none";
    filters["supervisor"] = {{"syscalls", sandbox.supervisor_filter.syscalls},
                             {"hash", sandbox.supervisor_filter.hash},
                             {"loaded", sandbox.supervisor_filter_loaded}};
    if (!sandbox.supervisor_filter_error.empty())
        filters["supervisor"]["error"] = sandbox.supervisor_filter_error;
    json landlock = sandbox.landlock_abi > 0
                        ? json{{"enforced", true}, {"abi", sandbox.landlock_abi}}
                        : json{{"enforced", false}, {"reason", sandbox.landlock_unavailable}};
    return {
        {"no_new_privs", true},
        {"running_as_root", sandbox.running_as_root},
        {"capabilities", caps},
        {"seccomp", sandbox.error.empty()},
        {"seccomp_default_action", "kill_process"},
        {"seccomp_filters", filters},
        {"landlock", landlock},
        // waitpid only reports the signal; the kernel's audit log (type=SECCOMP) has the number.
        {"sigsys_syscall", nullptr},
        {"sigsys_syscall_unavailable",
         "the supervisor sees only the exit signal; see the kernel audit log"}};
}

std::string render_seccomp_filters() {
    std::string out;
    for (Profile p : all_profiles) {
        out += "# ---- child profile '" + std::string(profile_name(p)) + "' (groups:";
        for (const auto& g : child_groups) {
            const bool used = std::any_of(
                std::begin(child_allowlist), std::end(child_allowlist), [&](const auto& s) {
                    return s.group == g.name && (s.profiles & profile_bit(p)) != 0;
                });
            if (used) out += " " + std::string(g.name);
        }
        out += ")\n" + child_filter_pfc(p);
    }
    out += "# ---- supervisor after its last fork\n" + supervisor_filter_pfc();
    return out;
}

std::string render_sandbox(const Sandbox& sandbox) {
    std::string out = render_seccomp_filters();
    out += "# ---- compiled\n";
    for (const auto& f : sandbox.child_filters)
        if (!f.program.empty())
            out += "seccomp " + f.name + ": " + std::to_string(f.syscalls) + " syscalls, " +
                   std::to_string(f.program.size()) + " BPF instructions, hash " + f.hash + "\n";
    out += "seccomp supervisor: " + std::to_string(sandbox.supervisor_filter.syscalls) +
           " syscalls, hash " + sandbox.supervisor_filter.hash + "\n";
    out += std::string("running as root: ") + (sandbox.running_as_root ? "yes" : "no") + "\n";
    for (const auto& p : sandbox.programs) {
        out += "# ---- " + p.path + " (profile " + std::string(profile_name(p.profile)) +
               ", capabilities " +
               capability_names(kept_capabilities(sandbox.running_as_root, p.profile)) + ")\n";
        out += render_landlock(p.landlock);
    }
    if (!sandbox.error.empty()) out += "error: " + sandbox.error + "\n";
    return out;
}

} // namespace gatekeeper

// Landlock through the raw syscalls. The ruleset handles every right the running kernel's ABI
// knows, so whatever no rule grants is denied (creating, renaming, deleting, truncating any file,
// writing anywhere but /dev/null and /dev/zfs, executing anything but the program and its
// loader). Constants newer than the build's <linux/landlock.h> are spelled out here: they are
// kernel ABI and never change.
#include "gatekeeper/landlock.hpp"

#include <cerrno>
#include <cstring>
#include <elf.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "gatekeeper/landlock_rules.hpp"

namespace gatekeeper {
namespace {

#ifndef __NR_landlock_create_ruleset
constexpr long nr_create_ruleset = 444, nr_add_rule = 445, nr_restrict_self = 446;
#else
constexpr long nr_create_ruleset = __NR_landlock_create_ruleset,
               nr_add_rule = __NR_landlock_add_rule, nr_restrict_self = __NR_landlock_restrict_self;
#endif

// Filesystem rights by ABI (Documentation/userspace-api/landlock.rst).
constexpr std::uint64_t fs_execute = 1ULL << 0, fs_write_file = 1ULL << 1, fs_read_file = 1ULL << 2,
                        fs_read_dir = 1ULL << 3, fs_refer = 1ULL << 13, fs_truncate = 1ULL << 14,
                        fs_ioctl_dev = 1ULL << 15;
constexpr std::uint64_t fs_abi1 = (1ULL << 13) - 1; // EXECUTE .. MAKE_SYM
constexpr std::uint64_t file_only_rights =
    fs_execute | fs_write_file | fs_read_file | fs_truncate | fs_ioctl_dev;
constexpr std::uint64_t net_bind_tcp = 1ULL << 0, net_connect_tcp = 1ULL << 1;
constexpr std::uint64_t scope_abstract_unix = 1ULL << 0, scope_signal = 1ULL << 1;
constexpr int rule_path_beneath = 1; // LANDLOCK_RULE_PATH_BENEATH

// landlock_ruleset_attr as of ABI 6; older kernels take a prefix of it (size by ABI).
struct RulesetAttr {
    std::uint64_t handled_access_fs;
    std::uint64_t handled_access_net;
    std::uint64_t scoped;
};

struct PathBeneathAttr {
    std::uint64_t allowed_access;
    std::int32_t parent_fd;
} __attribute__((packed));

std::uint64_t fs_rights(int abi) {
    std::uint64_t r = fs_abi1;
    if (abi >= 2) r |= fs_refer;
    if (abi >= 3) r |= fs_truncate;
    if (abi >= 5) r |= fs_ioctl_dev;
    return r;
}

std::uint64_t grant(FenceAccess a) {
    switch (a) {
    case FenceAccess::read:
        return fs_read_file | fs_read_dir;
    case FenceAccess::device_rw:
        return fs_read_file | fs_write_file | fs_truncate | fs_ioctl_dev;
    }
    return 0;
}

// Adds a rule for `path` if it exists; directories and files take different right sets.
void add_planned(LandlockPlan& plan, const std::string& path, std::uint64_t access,
                 std::string reason) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        plan.skipped.push_back(path);
        return;
    }
    access &= plan.handled_fs;
    if (!S_ISDIR(st.st_mode)) access &= file_only_rights;
    if (access != 0) plan.rules.push_back({path, access, std::move(reason)});
}

bool read_at(int fd, void* buf, std::size_t n, off_t off) {
    return ::pread(fd, buf, n, off) == static_cast<ssize_t>(n);
}

} // namespace

int landlock_abi(std::string& why) {
    const long v = ::syscall(nr_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
    if (v > 0) return static_cast<int>(v);
    if (errno == ENOSYS)
        why = "kernel without Landlock (ENOSYS)";
    else if (errno == EOPNOTSUPP)
        why = "Landlock disabled at boot (EOPNOTSUPP; add it to lsm=)";
    else
        why = std::string("Landlock probe failed: ") + std::strerror(errno);
    return 0;
}

bool elf_interpreter(const std::string& program, std::string& interpreter) {
    interpreter.clear();
    const int fd = ::open(program.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return false;
    Elf64_Ehdr eh{};
    bool ok = read_at(fd, &eh, sizeof eh, 0) && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
              eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr);
    for (unsigned i = 0; ok && i < eh.e_phnum; ++i) {
        Elf64_Phdr ph{};
        ok = read_at(fd, &ph, sizeof ph, static_cast<off_t>(eh.e_phoff + i * sizeof ph));
        if (!ok || ph.p_type != PT_INTERP) continue;
        if (ph.p_filesz == 0 || ph.p_filesz > 4096) {
            ok = false;
            break;
        }
        interpreter.resize(ph.p_filesz);
        ok = read_at(fd, interpreter.data(), ph.p_filesz, static_cast<off_t>(ph.p_offset));
        interpreter.resize(::strnlen(interpreter.c_str(), interpreter.size()));
        break;
    }
    ::close(fd);
    return ok;
}

LandlockPlan plan_landlock(Profile profile, const std::string& program, int abi,
                           std::string& error) {
    LandlockPlan plan;
    plan.abi = abi;
    if (abi <= 0) return plan;
    plan.handled_fs = fs_rights(abi);
    if (abi >= 4)
        plan.handled_net = net_bind_tcp | (profile == Profile::socat ? 0 : net_connect_tcp);
    if (abi >= 6) plan.scoped = scope_abstract_unix | scope_signal;

    std::string interpreter;
    if (!elf_interpreter(program, interpreter)) {
        error = "cannot read the ELF header of " + program;
        return plan;
    }
    // execve opens the file for reading too, so both rights are needed to start it.
    add_planned(plan, program, fs_execute | fs_read_file, "the program itself");
    if (!interpreter.empty())
        add_planned(plan, interpreter, fs_execute | fs_read_file, "its ELF interpreter");
    for (const auto& r : fence_rules)
        if ((r.profiles & profile_bit(profile)) != 0)
            add_planned(plan, std::string(r.path), grant(r.access), std::string(r.reason));
    return plan;
}

bool apply_landlock(const LandlockPlan& plan) noexcept {
    if (plan.abi <= 0) return true; // recorded as unavailable; nothing to apply
    RulesetAttr attr{plan.handled_fs, plan.handled_net, plan.scoped};
    const std::size_t size = plan.abi >= 6 ? sizeof attr : plan.abi >= 4 ? 16 : 8;
    const int ruleset = static_cast<int>(::syscall(nr_create_ruleset, &attr, size, 0U));
    if (ruleset < 0) return false;
    bool ok = true;
    for (const auto& rule : plan.rules) {
        // Opened here, in the child: "/proc/self" must name the child's own /proc entry.
        const int fd = ::open(rule.path.c_str(), O_PATH | O_CLOEXEC);
        if (fd < 0) {
            if (errno == ENOENT) continue; // vanished since planning: granting less is safe
            ok = false;
            break;
        }
        PathBeneathAttr pb{rule.access, fd};
        ok = ::syscall(nr_add_rule, ruleset, rule_path_beneath, &pb, 0U) == 0;
        ::close(fd);
        if (!ok) break;
    }
    ok = ok && ::syscall(nr_restrict_self, ruleset, 0U) == 0;
    ::close(ruleset);
    return ok;
}

std::string access_names(std::uint64_t access) {
    static constexpr const char* names[] = {"execute",    "write_file",  "read_file", "read_dir",
                                            "remove_dir", "remove_file", "make_char", "make_dir",
                                            "make_reg",   "make_sock",   "make_fifo", "make_block",
                                            "make_sym",   "refer",       "truncate",  "ioctl_dev"};
    std::string out;
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; ++i) {
        if ((access & (1ULL << i)) == 0) continue;
        if (!out.empty()) out += ',';
        out += names[i];
    }
    return out;
}

std::string render_landlock(const LandlockPlan& plan) {
    if (plan.abi <= 0) return "landlock: off (" + plan.unavailable + ")\n";
    std::string out = "landlock: abi " + std::to_string(plan.abi) + "\n";
    out += "  handled: " + access_names(plan.handled_fs) + "\n";
    if (plan.handled_net != 0)
        out += std::string("  handled net: ") +
               ((plan.handled_net & net_bind_tcp) ? "bind_tcp" : "") +
               ((plan.handled_net & net_connect_tcp) ? ",connect_tcp" : "") + "\n";
    if (plan.scoped != 0) out += "  scoped: abstract_unix_socket,signal\n";
    for (const auto& r : plan.rules)
        out += "  allow " + access_names(r.access) + " " + r.path + "  # " + r.reason + "\n";
    for (const auto& s : plan.skipped)
        out += "  (absent here: " + s + ")\n";
    return out;
}

} // namespace gatekeeper

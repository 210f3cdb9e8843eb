// libseccomp glue. The child filter kills the whole process on anything outside the allowlist
// (SCMP_ACT_KILL_PROCESS) and on any foreign architecture (BADARCH: x32 numbers and i386
// `int 0x80` included); clone3 answers ENOSYS so glibc falls back to clone; the rows of
// argument_rules narrow clone, ioctl and tgkill. The supervisor filter answers EPERM instead of
// killing: a denied call fails, the outcome record is still written, and nothing outside the
// list runs either way.
#include "gatekeeper/seccomp_filter.hpp"

#include <cerrno>
#include <cstdio>
#include <linux/seccomp.h>
#include <optional>
#include <seccomp.h>
#include <span>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace gatekeeper {
namespace {

struct Context {
    scmp_filter_ctx ctx = nullptr;
    std::size_t syscalls = 0;
    std::string error;
    Context() = default;
    Context(const Context&) = delete;
    Context& operator=(const Context&) = delete;
    ~Context() {
        if (ctx != nullptr) seccomp_release(ctx);
    }
};

int resolve(std::string_view name, std::string& error) {
    const std::string n(name);
    const int nr = seccomp_syscall_resolve_name(n.c_str());
    if (nr == __NR_SCMP_ERROR) error = "unknown syscall " + n;
    return nr;
}

// One allow rule per entry, or one per matching row of argument_rules (alternatives).
void allow(Context& c, std::string_view name, std::optional<Profile> profile) {
    const int nr = resolve(name, c.error);
    if (nr == __NR_SCMP_ERROR) return;
    bool restricted = false;
    const auto rules =
        profile ? std::span<const ArgumentRule>(argument_rules) : std::span<const ArgumentRule>();
    for (const auto& r : rules) {
        if (r.name != name || (r.profiles & profile_bit(*profile)) == 0) continue;
        restricted = true;
        if (seccomp_rule_add(c.ctx, SCMP_ACT_ALLOW, nr, 1,
                             scmp_arg_cmp{r.arg, SCMP_CMP_MASKED_EQ, r.mask, r.value}) != 0)
            c.error = "cannot add argument rule for " + std::string(name);
    }
    if (!restricted && seccomp_rule_add(c.ctx, SCMP_ACT_ALLOW, nr, 0) != 0)
        c.error = "cannot add rule for " + std::string(name);
    ++c.syscalls;
}

void init(Context& c, uint32_t default_action) {
    c.ctx = seccomp_init(default_action);
    if (c.ctx == nullptr) {
        c.error = "seccomp_init failed";
        return;
    }
    // Native architecture only (systemd's SystemCallArchitectures=native): x32 and i386 calls
    // from an x86_64 process end the process, whatever their number.
    if (seccomp_attr_set(c.ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0)
        c.error = "cannot set the bad-architecture action";
    // We set no_new_privs ourselves, in a visible place (sandbox.cpp).
    if (seccomp_attr_set(c.ctx, SCMP_FLTATR_CTL_NNP, 0) != 0) c.error = "cannot clear CTL_NNP";
}

void build_child(Context& c, Profile profile) {
    init(c, SCMP_ACT_KILL_PROCESS);
    if (!c.error.empty()) return;
    for (const auto& s : child_allowlist)
        if ((s.profiles & profile_bit(profile)) != 0) allow(c, s.name, profile);
    for (const auto& s : child_enosys) {
        const int nr = resolve(s.name, c.error);
        if (nr != __NR_SCMP_ERROR && seccomp_rule_add(c.ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0) != 0)
            c.error = "cannot add ENOSYS rule for " + std::string(s.name);
    }
}

void build_supervisor(Context& c) {
    init(c, SCMP_ACT_ERRNO(EPERM));
    if (!c.error.empty()) return;
    for (const auto& s : supervisor_allowlist)
        allow(c, s.name, std::nullopt);
}

// libseccomp 2.5 exports only to an fd; a memfd keeps it off the file system.
template <typename Export>
bool export_to_string(const Context& c, Export exporter, std::string& out) {
    const int fd = ::memfd_create("zg-seccomp", MFD_CLOEXEC);
    if (fd < 0) return false;
    bool ok = exporter(c.ctx, fd) == 0 && ::lseek(fd, 0, SEEK_SET) == 0;
    char buf[4096];
    ssize_t n;
    while (ok && (n = ::read(fd, buf, sizeof buf)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            ok = false;
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fd);
    return ok;
}

std::string fnv1a64_hex(const std::string& bytes) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char b : bytes) {
        h ^= b;
        h *= 0x100000001b3ULL;
    }
    char out[17];
    std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
    return out;
}

CompiledFilter compile(Context& c, std::string name) {
    CompiledFilter f;
    f.name = std::move(name);
    f.syscalls = c.syscalls;
    f.error = c.error;
    std::string bpf;
    if (f.error.empty() && !export_to_string(c, seccomp_export_bpf, bpf))
        f.error = "cannot export the BPF program";
    if (f.error.empty() && (bpf.empty() || bpf.size() % sizeof(sock_filter) != 0))
        f.error = "malformed BPF export";
    if (!f.error.empty()) return f;
    f.program.resize(bpf.size() / sizeof(sock_filter));
    __builtin_memcpy(f.program.data(), bpf.data(), bpf.size());
    f.hash = fnv1a64_hex(bpf);
    return f;
}

std::string pfc(Context& c) {
    if (!c.error.empty()) return "# error: " + c.error + "\n";
    std::string out;
    if (!export_to_string(c, seccomp_export_pfc, out)) return "# error: cannot export PFC\n";
    return out;
}

} // namespace

CompiledFilter compile_child_filter(Profile profile) {
    Context c;
    build_child(c, profile);
    return compile(c, std::string(profile_name(profile)));
}

std::string libseccomp_version() {
    const scmp_version* v = seccomp_version();
    return std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
           std::to_string(v->micro);
}

CompiledFilter compile_supervisor_filter() {
    Context c;
    build_supervisor(c);
    return compile(c, "supervisor");
}

std::string child_filter_pfc(Profile profile) {
    Context c;
    build_child(c, profile);
    return pfc(c);
}

std::string supervisor_filter_pfc() {
    Context c;
    build_supervisor(c);
    return pfc(c);
}

bool load_filter(const CompiledFilter& filter) noexcept {
    if (filter.program.empty()) {
        errno = EINVAL;
        return false;
    }
    sock_fprog prog{};
    prog.len = static_cast<unsigned short>(filter.program.size());
    prog.filter = const_cast<sock_filter*>(filter.program.data());
    return ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

} // namespace gatekeeper

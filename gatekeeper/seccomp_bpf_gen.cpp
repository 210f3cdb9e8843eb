// Build-time generator: compiles every seccomp filter of seccomp_allowlist.hpp with libseccomp,
// exactly as seccomp_filter.cpp does at run time, and writes them as C++ arrays into one source
// file of the build tree. Serving then loads these arrays and never runs libseccomp (which cost
// every session a fraction of a millisecond, mostly page faults); the seccomp-allowlist test
// checks that the arrays equal what libseccomp compiles now.
//
//   seccomp-bpf-gen OUTPUT.cpp
#include <cstdio>
#include <string>

#include "gatekeeper/seccomp_filter.hpp"

namespace {

std::string array_of(const gatekeeper::CompiledFilter& f, const std::string& id) {
    std::string out = "constexpr sock_filter " + id + "[] = {\n";
    char line[80];
    for (const auto& insn : f.program) {
        std::snprintf(line, sizeof line, "    {0x%04x, %u, %u, 0x%08x},\n", insn.code, insn.jt,
                      insn.jf, insn.k);
        out += line;
    }
    return out + "};\n";
}

std::string entry(const gatekeeper::CompiledFilter& f, const std::string& id) {
    return "{\"" + f.name + "\", " + id + ", " + std::to_string(f.syscalls) + ", \"" + f.hash +
           "\"}";
}

} // namespace

int main(int argc, char** argv) {
    using namespace gatekeeper;
    if (argc != 2) {
        std::fputs("usage: seccomp-bpf-gen OUTPUT.cpp\n", stderr);
        return 2;
    }
    std::string arrays, children;
    for (Profile p : all_profiles) {
        const CompiledFilter f = compile_child_filter(p);
        if (!f.error.empty()) {
            std::fprintf(stderr, "seccomp-bpf-gen: %s: %s\n", f.name.c_str(), f.error.c_str());
            return 1;
        }
        const std::string id = "child_" + f.name;
        arrays += array_of(f, id);
        children += "    " + entry(f, id) + ",\n";
    }
    const CompiledFilter sup = compile_supervisor_filter();
    if (!sup.error.empty()) {
        std::fprintf(stderr, "seccomp-bpf-gen: supervisor: %s\n", sup.error.c_str());
        return 1;
    }
    arrays += array_of(sup, "supervisor");
    const std::string text =
        "// Generated at build time by gatekeeper/seccomp_bpf_gen.cpp from seccomp_allowlist.hpp\n"
        "// (libseccomp " +
        libseccomp_version() +
        "). Do not edit.\n"
        "#include \"gatekeeper/seccomp_programs.hpp\"\n\n"
        "namespace gatekeeper {\nnamespace {\n\n" +
        arrays +
        "\n} // namespace\n\n"
        "constinit const PrecompiledFilter precompiled_child_filters[] = {\n" +
        children +
        "};\n\n"
        "constinit const PrecompiledFilter precompiled_supervisor_filter = " +
        entry(sup, "supervisor") + ";\n\n} // namespace gatekeeper\n";
    std::FILE* out = std::fopen(argv[1], "w");
    if (out == nullptr || std::fputs(text.c_str(), out) < 0 || std::fclose(out) != 0) {
        std::perror(argv[1]);
        return 1;
    }
    return 0;
}

// Property checks shared by the libFuzzer harnesses: a violated property prints which one broke
// and aborts, so libFuzzer reports a crash and saves the input. Fuzz code only; never linked
// into the gatekeeper.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace fuzz {

[[noreturn]] inline void violated(const char* property, std::string_view detail) {
    // The detail can be a whole record; the saved input reproduces the rest.
    const std::size_t shown = detail.size() < 600 ? detail.size() : 600;
    std::fprintf(stderr, "==PROPERTY VIOLATED== %s: %.*s%s\n", property, static_cast<int>(shown),
                 detail.data(), shown < detail.size() ? "..." : "");
    std::abort();
}

inline void require(bool ok, const char* property, std::string_view detail = {}) {
    if (!ok) violated(property, detail);
}

inline bool printable_ascii(std::string_view s) {
    for (unsigned char c : s)
        if (c < 0x20 || c > 0x7e) return false;
    return true;
}

} // namespace fuzz

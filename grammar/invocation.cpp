// Values of the typed invocation that need a little code: mbuffer sizes in bytes.
#include "grammar/invocation.hpp"

#include <charconv>

namespace grammar {

std::optional<std::uint64_t> mbuffer_bytes(std::string_view text) {
    std::uint64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [p, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || p == text.data() || value == 0) return std::nullopt;
    unsigned shift = 0;
    if (p != end) {
        if (p + 1 != end) return std::nullopt;
        switch (*p) {
        case 'k':
        case 'K':
            shift = 10;
            break;
        case 'm':
        case 'M':
            shift = 20;
            break;
        case 'g':
        case 'G':
            shift = 30;
            break;
        default:
            return std::nullopt;
        }
    }
    if (value > (~std::uint64_t{0} >> shift)) return std::nullopt;
    return value << shift;
}

} // namespace grammar

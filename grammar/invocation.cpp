// Name table for grammar::Tool; the one place the tool spellings live.
#include "grammar/invocation.hpp"

#include <array>
#include <charconv>
#include <utility>

namespace grammar {
namespace {
constexpr std::array<std::pair<Tool, std::string_view>, 9> tool_names{{
    {Tool::lzop, "lzop"},
    {Tool::gzip, "gzip"},
    {Tool::pigz, "pigz"},
    {Tool::zstd, "zstd"},
    {Tool::zstdmt, "zstdmt"},
    {Tool::xz, "xz"},
    {Tool::lz4, "lz4"},
    {Tool::mbuffer, "mbuffer"},
    {Tool::socat, "socat"},
}};
} // namespace

std::string_view tool_name(Tool t) {
    for (const auto& [tool, name] : tool_names)
        if (tool == t) return name;
    return "?";
}

std::optional<Tool> tool_from_name(std::string_view name) {
    for (const auto& [tool, n] : tool_names)
        if (n == name) return tool;
    return std::nullopt;
}

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

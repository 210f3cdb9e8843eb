// Name table for grammar::Tool; the one place the tool spellings live.
#include "grammar/invocation.hpp"

#include <array>
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

} // namespace grammar

// Public entry of the grammar library: SSH_ORIGINAL_COMMAND text in, typed Invocation out.
// No PEGTL type crosses this header; errors come back as values, never as exceptions.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "grammar/invocation.hpp"

namespace grammar {

struct ParseError {
    enum class Stage { none, too_long, lexical, grammar };
    Stage stage = Stage::none;
    std::string message; // for the audit log; never shown to the client
    std::size_t offset = 0;
};

struct ParseResult {
    std::optional<Invocation> invocation;
    ParseError error;
    bool ok() const { return invocation.has_value(); }
};

ParseResult parse_command(std::string_view command);

std::string_view stage_name(ParseError::Stage);

} // namespace grammar

// Strict lexer for SSH_ORIGINAL_COMMAND: the POSIX-sh word subset syncoid produces (bare safe
// characters, single-quoted segments, adjacency) and the operators `|`, `;` and `2>/dev/null`.
// Pure: no I/O. Anything outside the subset is an error, never a guess.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace grammar {

// Refused before lexing (git-shell caps input too; CVE-2022-39260).
inline constexpr std::size_t max_command_bytes = 64 * 1024;

struct Token {
    enum class Kind { word, pipe, semicolon, stderr_to_devnull };
    Kind kind;
    std::string text;   // the word's value after removing quotes; empty for operators
    std::size_t offset; // byte offset of the token's first byte in the input
    bool operator==(const Token&) const = default;
};

struct LexResult {
    std::vector<Token> tokens;
    std::string error; // empty on success
    std::size_t error_offset = 0;
    bool ok() const { return error.empty(); }
};

LexResult lex(std::string_view command);

// Quote a word so that lex() reads it back as exactly `word` (bare when every byte is safe,
// otherwise one single-quoted segment). Words holding `'` or unsafe bytes cannot be quoted;
// the function is only called on values the grammar already accepted.
std::string quote_word(std::string_view word);

} // namespace grammar

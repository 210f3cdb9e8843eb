// Strict sh-subset lexer (house-style decision 3). Every byte is classified explicitly; the
// default for anything not listed is an error, so new shell syntax can never slip through.
#include "grammar/lexer.hpp"

#include <cstdio>

namespace grammar {
namespace {

// Characters that are literal in an unquoted sh word and never start an expansion. `~` and `#`
// are excluded (tilde expansion, comments), as are glob, brace and history characters.
bool is_bare_safe(unsigned char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    switch (c) {
    case '_':
    case '.':
    case ':':
    case '@':
    case '#':
    case '%':
    case ',':
    case '/':
    case '=':
    case '+':
    case '-':
        return true;
    default:
        return false;
    }
}

// Inside single quotes sh takes every byte literally; we still refuse control bytes and
// non-ASCII so that the audit log and zfs never see them.
bool is_quoted_safe(unsigned char c) {
    return c >= 0x20 && c <= 0x7e && c != '\'';
}

std::string describe_byte(unsigned char c) {
    char buf[48];
    if (c >= 0x21 && c <= 0x7e)
        std::snprintf(buf, sizeof buf, "character '%c'", c);
    else
        std::snprintf(buf, sizeof buf, "byte 0x%02x", c);
    return buf;
}

constexpr std::string_view devnull_redirect = "2>/dev/null";

} // namespace

LexResult lex(std::string_view in) {
    LexResult r;
    auto fail = [&](std::size_t at, std::string msg) {
        r.tokens.clear();
        r.error = std::move(msg);
        r.error_offset = at;
        return r;
    };
    if (in.size() > max_command_bytes) return fail(max_command_bytes, "command too long");

    std::size_t i = 0;
    while (i < in.size()) {
        const unsigned char c = static_cast<unsigned char>(in[i]);
        if (c == ' ') {
            ++i;
            continue;
        }
        if (c == '|') {
            if (i + 1 < in.size() && (in[i + 1] == '|' || in[i + 1] == '&'))
                return fail(i, "operator '||' or '|&' is not allowed");
            r.tokens.push_back({Token::Kind::pipe, {}, i});
            ++i;
            continue;
        }
        if (c == ';') {
            if (i + 1 < in.size() && in[i + 1] == ';')
                return fail(i, "operator ';;' is not allowed");
            r.tokens.push_back({Token::Kind::semicolon, {}, i});
            ++i;
            continue;
        }
        // `2>/dev/null` is an operator only at a word start and only when it ends there.
        if (in.substr(i).starts_with(devnull_redirect)) {
            const std::size_t end = i + devnull_redirect.size();
            if (end == in.size() || in[end] == ' ' || in[end] == '|' || in[end] == ';') {
                r.tokens.push_back({Token::Kind::stderr_to_devnull, {}, i});
                i = end;
                continue;
            }
            return fail(i, "redirection other than '2>/dev/null' is not allowed");
        }
        if (c == '#') return fail(i, "'#' at the start of a word is not allowed");

        // A word: adjacent bare and single-quoted segments.
        Token word{Token::Kind::word, {}, i};
        while (i < in.size()) {
            const unsigned char w = static_cast<unsigned char>(in[i]);
            if (w == ' ' || w == '|' || w == ';') break;
            if (w == '\'') {
                const std::size_t open = i++;
                while (i < in.size() && in[i] != '\'') {
                    const unsigned char q = static_cast<unsigned char>(in[i]);
                    if (!is_quoted_safe(q))
                        return fail(i, describe_byte(q) + " inside quotes is not allowed");
                    word.text.push_back(static_cast<char>(q));
                    ++i;
                }
                if (i == in.size()) return fail(open, "unterminated single quote");
                ++i; // closing quote
                continue;
            }
            if (!is_bare_safe(w)) return fail(i, describe_byte(w) + " is not allowed");
            word.text.push_back(static_cast<char>(w));
            ++i;
        }
        r.tokens.push_back(std::move(word));
    }
    return r;
}

std::string quote_word(std::string_view word) {
    bool bare = !word.empty() && word.front() != '#' && !word.starts_with(devnull_redirect);
    for (unsigned char c : word)
        bare = bare && is_bare_safe(c);
    if (bare) return std::string(word);
    std::string out;
    out.reserve(word.size() + 2);
    out.push_back('\'');
    out.append(word);
    out.push_back('\'');
    return out;
}

} // namespace grammar

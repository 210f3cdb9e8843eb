// Recursive-descent check of the policy TOML subset (grammar in toml_subset.hpp). It only
// recognises; toml++ still builds the table and reports duplicate keys and the like.
#include "policy/toml_subset.hpp"

namespace policy {
namespace {

struct violation {
    std::string why;
};

class SubsetChecker {
  public:
    SubsetChecker(std::string_view text, TomlIntegers integers)
        : text_(text), integers_(integers) {}

    void file() {
        characters();
        while (!at_end()) {
            blanks();
            if (peek() == '[')
                header();
            else if (peek() != '#' && !at_newline())
                key_value();
            blanks();
            end_of_line();
        }
    }

    std::size_t line() const { return line_; }

  private:
    std::string_view text_;
    TomlIntegers integers_;
    std::size_t at_ = 0;
    std::size_t line_ = 1;

    [[noreturn]] void fail(std::string why) { throw violation{std::move(why)}; }

    bool at_end() const { return at_ >= text_.size(); }
    char peek() const { return at_end() ? '\0' : text_[at_]; }
    bool looking_at(std::string_view s) const { return text_.substr(at_).starts_with(s); }
    bool at_newline() const { return looking_at("\n") || looking_at("\r\n"); }

    // Byte classes first, each reported on its own line, so the messages stay specific.
    void characters() {
        std::size_t line = 1;
        for (std::size_t i = 0; i < text_.size(); ++i) {
            const auto c = static_cast<unsigned char>(text_[i]);
            const auto fail_here = [&](const char* why) {
                line_ = line;
                fail(why);
            };
            if (c == '\n')
                ++line;
            else if (c >= 0x80)
                fail_here("the file must be ASCII");
            else if (c == '{' || c == '}')
                fail_here("'{' and '}' are not allowed (no inline tables)");
            else if (c == '\r' && (i + 1 == text_.size() || text_[i + 1] != '\n'))
                fail_here("a carriage return must end a line");
            else if (c < 0x20 && c != '\t' && c != '\r')
                fail_here("control characters are not allowed");
            else if (c == 0x7f)
                fail_here("control characters are not allowed");
        }
    }

    void blanks() {
        while (peek() == ' ' || peek() == '\t')
            ++at_;
    }

    // A comment runs to the end of the line (its bytes were checked by characters()).
    void comment() {
        if (peek() == '#')
            while (!at_end() && !at_newline())
                ++at_;
    }

    void end_of_line() {
        comment();
        if (at_end()) return;
        if (!at_newline()) fail("expected the end of the line");
        newline();
    }

    void newline() {
        at_ += peek() == '\r' ? 2 : 1;
        ++line_;
    }

    // Blanks, comments and line ends, as allowed between the items of a list.
    void gaps() {
        for (;;) {
            blanks();
            comment();
            if (!at_newline()) return;
            newline();
        }
    }

    static bool bare_key_char(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_' || c == '-';
    }

    // false when no key starts here (the caller says what was expected).
    bool key() {
        if (peek() == '"' || peek() == '\'') {
            string();
            return true;
        }
        const std::size_t start = at_;
        while (bare_key_char(peek()))
            ++at_;
        return at_ > start;
    }

    void header() {
        ++at_; // '['
        if (peek() == '[')
            fail("malformed table header: arrays of tables ([[...]]) are not used in policy files");
        do {
            blanks();
            if (!key()) fail("malformed table header");
            blanks();
        } while (peek() == '.' && ++at_);
        if (peek() != ']') fail("malformed table header");
        ++at_;
    }

    void key_value() {
        if (!key()) fail("expected a key, a [table] header or a comment");
        blanks();
        if (peek() == '.') fail("dotted keys are not used in policy files");
        if (peek() != '=') fail("expected '=' after the key");
        ++at_;
        blanks();
        value();
    }

    void value() {
        if (peek() == '"' || peek() == '\'') return string();
        if (peek() == '[') return list();
        for (const std::string_view word : {"true", "false"}) {
            const std::size_t end = at_ + word.size();
            if (looking_at(word) && !(end < text_.size() && bare_key_char(text_[end]))) {
                at_ = end;
                return;
            }
        }
        if (integers_ == TomlIntegers::allowed) {
            const auto digit = [this] { return peek() >= '0' && peek() <= '9'; };
            const bool sign = peek() == '-' || peek() == '+';
            if (sign || digit()) {
                at_ += sign ? 1 : 0;
                while (digit())
                    ++at_;
                if (!sign && !bare_key_char(peek()) && peek() != '.' && peek() != '+') return;
                fail("an integer is written with the digits 0-9 only (no sign, _, . or exponent)");
            }
        }
        fail(integers_ == TomlIntegers::allowed
                 ? "a value must be a \"string\", an integer, true, false or a [list] of strings"
                 : "a value must be a \"string\", true, false or a [list] of strings");
    }

    void list() {
        ++at_; // '['
        gaps();
        while (peek() != ']') {
            if (peek() != '"' && peek() != '\'') fail("a list may only hold strings");
            string();
            gaps();
            if (peek() == ']') break;
            if (peek() != ',') fail("expected ',' or ']' in the list");
            ++at_;
            gaps();
        }
        ++at_; // ']'
    }

    void string() {
        const char quote = peek();
        if (looking_at(std::string(3, quote)))
            fail("multi-line strings are not used in policy files");
        ++at_;
        for (;;) {
            if (at_end() || at_newline()) fail("unterminated string");
            const char c = text_[at_++];
            if (c == quote) return;
            if (c == '\\' && quote == '"') {
                if (peek() != '"' && peek() != '\\')
                    fail("the only escapes allowed in a string are \\\" and \\\\");
                ++at_;
            }
        }
    }
};

} // namespace

std::string toml_subset_violation(std::string_view text, TomlIntegers integers) {
    SubsetChecker checker(text, integers);
    try {
        checker.file();
    } catch (const violation& v) {
        return "line " + std::to_string(checker.line()) + ": " + v.why;
    }
    return "";
}

} // namespace policy

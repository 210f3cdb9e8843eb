// Lexer tables: what syncoid sends lexes to the expected words; every other piece of shell
// syntax is a lexical error.
#include <doctest/doctest.h>

#include "grammar/lexer.hpp"

using grammar::lex;
using grammar::Token;

namespace {
std::vector<std::string> words(std::string_view in) {
    std::vector<std::string> out;
    for (const auto& t : lex(in).tokens) {
        switch (t.kind) {
        case Token::Kind::word:
            out.push_back("w:" + t.text);
            break;
        case Token::Kind::pipe:
            out.push_back("|");
            break;
        case Token::Kind::semicolon:
            out.push_back(";");
            break;
        case Token::Kind::stderr_to_devnull:
            out.push_back("2>/dev/null");
            break;
        }
    }
    return out;
}
} // namespace

TEST_CASE("syncoid's quoting shapes lex to plain words") {
    struct Row {
        std::string_view input;
        std::vector<std::string> expected;
    };
    const Row rows[] = {
        {"exit", {"w:exit"}},
        {"  echo -n ", {"w:echo", "w:-n"}},
        {"zfs get -H syncoid:sync 'tank/data'",
         {"w:zfs", "w:get", "w:-H", "w:syncoid:sync", "w:tank/data"}},
        {"'tank/data'@'snap'", {"w:tank/data@snap"}},
        {"'tank/data'#'bm'100000", {"w:tank/data#bm100000"}},
        {"'tank/data'@syncoid_vm_2026-11-27:02:41:53-GMT00:00",
         {"w:tank/data@syncoid_vm_2026-11-27:02:41:53-GMT00:00"}},
        {"'tank/my data'@'snap one'", {"w:tank/my data@snap one"}},
        {"a|b", {"w:a", "|", "w:b"}},
        {"a;  b", {"w:a", ";", "w:b"}},
        {"mbuffer -m 16M 2>/dev/null", {"w:mbuffer", "w:-m", "w:16M", "2>/dev/null"}},
        {"x 2>/dev/null|y", {"w:x", "2>/dev/null", "|", "w:y"}},
        {"''", {"w:"}},
        {"TCP:192.0.2.10:5000,retry=60,interval=1", {"w:TCP:192.0.2.10:5000,retry=60,interval=1"}},
        {"a#b", {"w:a#b"}},
    };
    for (const auto& row : rows) {
        CAPTURE(row.input);
        CHECK(lex(row.input).ok());
        CHECK(words(row.input) == row.expected);
    }
}

TEST_CASE("everything outside the subset is a lexical error") {
    const std::string_view bad[] = {
        "zfs list; rm -rf /\n",
        "a\"b\"",
        "a\\;b",
        "$(id)",
        "`id`",
        "a && b",
        "a || b",
        "a & b",
        "a |& b",
        "a > f",
        "a >> f",
        "a < f",
        "a 2>&1",
        "a 1>/dev/null",
        "a &>/dev/null",
        "a 2>/dev/nullx",
        "a 2> /dev/null",
        "#comment",
        "~root",
        "a*",
        "a?",
        "[ab]",
        "{a,b}",
        "!x",
        "(a)",
        "a\tb",
        "a\rb",
        "'unterminated",
        "a;;b",
        "x^y",
        "'a\nb'",
        "a\x7f",
        "caf\xc3\xa9",
        "a\xef\xbc\x9b b",
        "'\xc2\xa0'",
    };
    for (auto input : bad) {
        CAPTURE(input);
        CHECK_FALSE(lex(input).ok());
    }
    CHECK_FALSE(lex(std::string_view("a\0b", 3)).ok());
    CHECK_FALSE(lex(std::string(grammar::max_command_bytes + 1, 'a')).ok());
    CHECK(lex(std::string(grammar::max_command_bytes, 'a')).ok());
}

TEST_CASE("quote_word round-trips through the lexer") {
    for (std::string_view w :
         {"tank/data", "tank/my data", "a#b", "#x", "2>/dev/null", "", "x y@z"}) {
        const auto r = lex(grammar::quote_word(w));
        REQUIRE(r.ok());
        REQUIRE(r.tokens.size() == 1);
        CHECK(r.tokens[0].text == w);
    }
}

// Differential test: bash's own word splitting of each accepted simple command yields the same
// words as our lexer. If the two ever disagree, a client could make zfs see words we did not
// check (lshell CVE-2016-6902 was exactly such a disagreement).
#include <cstdlib>
#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include "grammar/lexer.hpp"
#include "tests/support.hpp"

namespace {
// bash: /bin/bash on Debian; found through PATH where there is none (the Nix build sandbox).
// Test code only: the product never starts a shell or looks at PATH.
std::string find_bash() {
    std::vector<std::string> candidates{"/bin/bash"};
    const char* path = std::getenv("PATH");
    for (std::string rest = path ? path : ""; !rest.empty();) {
        const auto colon = rest.find(':');
        candidates.push_back(rest.substr(0, colon) + "/bash");
        rest = colon == std::string::npos ? "" : rest.substr(colon + 1);
    }
    for (const auto& c : candidates)
        if (::access(c.c_str(), X_OK) == 0) return c;
    return "";
}

// Runs bash with `printf '%s\0' WORDS`.
std::vector<std::string> bash_words(const std::string& bash, const std::string& command) {
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    const pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        const std::string script = "printf '%s\\0' " + command;
        const char* argv[] = {"bash", "--norc", "--noprofile", "-c", script.c_str(), nullptr};
        const char* envp[] = {"PATH=/usr/bin:/bin", "LC_ALL=C", nullptr};
        execve(bash.c_str(), const_cast<char* const*>(argv), const_cast<char* const*>(envp));
        _exit(127);
    }
    close(fds[1]);
    std::string out;
    char buf[4096];
    ssize_t n;
    while ((n = read(fds[0], buf, sizeof buf)) > 0)
        out.append(buf, static_cast<std::size_t>(n));
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    std::vector<std::string> words;
    std::size_t start = 0;
    for (std::size_t i = 0; i < out.size(); ++i) {
        if (out[i] == '\0') {
            words.push_back(out.substr(start, i - start));
            start = i + 1;
        }
    }
    return words;
}
} // namespace

TEST_CASE("bash splits every accepted simple command into the words our lexer sees") {
    const std::string bash = find_bash();
    if (bash.empty()) {
        MESSAGE("skipped: no bash in /bin or on PATH to compare the lexer with");
        return;
    }
    std::size_t compared = 0;
    for (const auto& line : test_support::accept_corpus()) {
        const auto lexed = grammar::lex(line.command);
        REQUIRE(lexed.ok());
        // Compare each operator-free segment: `cmd | cmd ; cmd` splits at our operator tokens.
        std::vector<std::string> ours;
        std::string segment_text;
        std::size_t seg_start = 0;
        auto flush = [&](std::size_t seg_end) {
            segment_text = line.command.substr(seg_start, seg_end - seg_start);
            if (ours.empty()) return;
            CAPTURE(segment_text);
            CHECK(bash_words(bash, segment_text) == ours);
            ours.clear();
            ++compared;
        };
        for (const auto& t : lexed.tokens) {
            if (t.kind == grammar::Token::Kind::word) {
                ours.push_back(t.text);
            } else {
                flush(t.offset);
                seg_start = t.offset + (t.kind == grammar::Token::Kind::stderr_to_devnull ? 11 : 1);
            }
        }
        flush(line.command.size());
    }
    MESSAGE("compared " << compared << " command segments with bash");
    CHECK(compared > 581);
}

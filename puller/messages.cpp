// stderr lines. Flushed per line: stderr is read by journald and by people watching a run.
#include "puller/messages.hpp"

#include <cstdio>

namespace puller {

std::string escaped(std::string_view text) {
    static const char hex[] = "0123456789abcdef";
    std::string out;
    out.reserve(text.size());
    for (const char ch : text) {
        const auto c = static_cast<unsigned char>(ch);
        if (c == '\\') {
            out += "\\\\";
        } else if (c >= 0x20 && c < 0x7f) {
            out += ch;
        } else {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

void say(std::string_view message) {
    const std::string line = "zfs-puller: " + escaped(message) + "\n";
    std::fputs(line.c_str(), stderr);
    std::fflush(stderr);
}

void say(std::string_view job, std::string_view message) {
    say(std::string(job) + ": " + std::string(message));
}

void say_usage_error(std::string_view message) {
    say(message);
    std::fputs("(try zfs-puller --help)\n", stderr);
    std::fflush(stderr);
}

} // namespace puller

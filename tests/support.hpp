// Shared test helpers: corpus readers and the corpus policy. Test code only.
#pragma once

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "policy/policy_file.hpp"

namespace test_support {

inline std::string source_path(const std::string& relative) {
    return std::string(ZG_SOURCE_DIR) + "/" + relative;
}

inline std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct CorpusLine {
    std::string label;   // "syncoid 2.1.0 ... [notes]"
    std::string command; // exact SSH_ORIGINAL_COMMAND
};

// tests/corpus/syncoid-corpus.txt: `<label>\t<exact command>`.
inline std::vector<CorpusLine> accept_corpus() {
    std::vector<CorpusLine> out;
    std::istringstream in(read_file(source_path("tests/corpus/syncoid-corpus.txt")));
    std::string line;
    while (std::getline(in, line)) {
        const auto tab = line.find('\t');
        if (tab == std::string::npos) continue;
        out.push_back({line.substr(0, tab), line.substr(tab + 1)});
    }
    return out;
}

struct RejectLine {
    std::string attack_class;
    std::string layer;   // lex | parse | policy
    std::string command; // unescaped bytes
    int line_number = 0;
};

// tests/corpus/reject.txt: `CLASS\tLAYER\tCOMMAND`, `\xHH` and `\\` escapes, `@repeat:N:` prefix.
inline std::string unescape(const std::string& s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == '\\') {
            out.push_back('\\');
            ++i;
        } else if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x') {
            out.push_back(static_cast<char>(std::stoi(s.substr(i + 2, 2), nullptr, 16)));
            i += 3;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

inline std::vector<RejectLine> reject_corpus(const char* file = "tests/corpus/reject.txt") {
    std::vector<RejectLine> out;
    std::istringstream in(read_file(source_path(file)));
    std::string line;
    int number = 0;
    while (std::getline(in, line)) {
        ++number;
        if (line.empty() || line[0] == '#') continue;
        const auto t1 = line.find('\t');
        const auto t2 = line.find('\t', t1 + 1);
        if (t1 == std::string::npos || t2 == std::string::npos) continue;
        RejectLine r{line.substr(0, t1), line.substr(t1 + 1, t2 - t1 - 1), line.substr(t2 + 1),
                     number};
        if (r.command.starts_with("@repeat:")) {
            const auto colon = r.command.find(':', 8);
            const int n = std::stoi(r.command.substr(8, colon - 8));
            const std::string unit = unescape(r.command.substr(colon + 1));
            r.command.clear();
            for (int i = 0; i < n; ++i)
                r.command += unit;
        } else {
            r.command = unescape(r.command);
        }
        out.push_back(std::move(r));
    }
    return out;
}

// The policy the corpora are judged under: tank/data and 'tank/my data',
// syncoid-pull, every tool.
inline const char* corpus_policy_text = R"(
[programs]
zfs = "/usr/sbin/zfs"
zpool = "/usr/sbin/zpool"
lzop = "/usr/bin/lzop"
gzip = "/usr/bin/gzip"
pigz = "/usr/bin/pigz"
zstd = "/usr/bin/zstd"
zstdmt = "/usr/bin/zstdmt"
xz = "/usr/bin/xz"
lz4 = "/usr/bin/lz4"
mbuffer = "/usr/bin/mbuffer"
socat = "/usr/bin/socat"

[identity.corpus]
datasets = ["tank/data", "tank/my data"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
raw_only = false
tools = ["lzop", "gzip", "pigz", "zstd", "zstdmt", "xz", "lz4", "mbuffer"]
mbuffer_max_memory = "1G"    # the corpus holds syncoid runs with --mbuffer-size=128M and 1G

[identity.direct]
datasets = ["tank/data"]
preset = "syncoid-pull"
allow_destroy = true
tools = ["lzop", "mbuffer", "socat"]
direct_connections = ["192.0.2.10:5000"]

# tests/corpus/reject-restore.txt is judged under this one.
[identity.restore]
preset = "restore"
restore_root = "tank/restore"
)";

inline policy::Policy corpus_policy() {
    auto r = policy::parse_policy(corpus_policy_text);
    if (!r.ok()) throw std::runtime_error("corpus policy: " + r.error);
    return *r.policy;
}

} // namespace test_support

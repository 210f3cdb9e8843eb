// Stand-in zfs/zpool for the sshd integration test and bench/ (test code only; it never touches
// a pool). It reports how it was started as one JSON line on stderr, then answers like zfs.
// It lives inside the sandbox real zfs gets: no environment, no files of its own (Landlock lets a
// started program read only libraries and /proc/self, and write nothing), and only syscalls on
// the zfs seccomp allowlist (openat, read, write, close, newfstatat, ioctl, memory and start-up
// calls; no poll, fcntl, uname or getppid). So every input is in its argv, by the naming rules
// below, and everything it reports comes from /proc/self/status and fstat.
//
// Report line on fd 2, written first with one write(2):
//   fake-zfs-call {"argv": [...], "env": [...], "fds": {"0": "chr 1:3", "1": "pipe", ...},
//                  "status": {Uid, Gid, PPid, CapInh, CapPrm, CapEff, CapBnd, CapAmb,
//                  NoNewPrivs, Seccomp}, "landlocked": bool}
// Naming rules (operands, after zfs's own option parsing):
//   `DATASET@bytes-N`   `send` writes N bytes (default 4096) of the test stream
//   `receive`           reads stdin to the end, prints "received BYTES SHA256HEX"
//   a component `exit-N` (`tank/data/exit-3`) in any operand: exit with status N after answering
//   a component `host-NAME` (`tank/data/host-vm`): the dataset's snapshot listing also holds an
//                       earlier syncoid snapshot of host NAME, for syncoid to prune
// The test stream is block i (i = 0, 1, ...) of 1 MiB: a fixed splitmix64 sequence whose first
// 8 bytes are replaced by i (little endian), cut at N. tests/integration/run-sshd-tests and
// bench/run-overhead recompute it.
// Snapshot listings are fixed, oldest first:
//   DATASET@autosnap_2024-01-01_00:00:01_daily
//   DATASET@syncoid_NAME_2024-01-01:00:00:00-GMT00:00   (only with a host-NAME component)
//   DATASET@autosnap_2024-01-02_00:00:01_daily
// guid = FNV-1a 64 of the full snapshot name, creation = 1700000000 + 60 * position.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <optional>
#include <string>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/helpers/sha256.hpp"

extern char** environ;

namespace {

constexpr std::size_t stream_block_size = 1 << 20;
constexpr std::uint64_t stream_seed = 0x7a66732d67617465ULL; // "zfs-gate"
constexpr std::uint64_t default_stream_bytes = 4096;
constexpr long creation_base = 1700000000;

bool write_all(int fd, const char* p, std::size_t n) {
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return false;
        p += w;
        n -= static_cast<std::size_t>(w);
    }
    return true;
}

std::string read_small_file(const char* path) {
    std::string text;
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return text;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

// /proc/self/status: the lines we report, plus FDSize (the size of the fd table: every open fd
// is below it).
std::map<std::string, std::string> process_status() {
    static const char* const keys[] = {"Uid",    "Gid",        "PPid",   "CapInh",
                                       "CapPrm", "CapEff",     "CapBnd", "CapAmb",
                                       "FDSize", "NoNewPrivs", "Seccomp"};
    std::map<std::string, std::string> status;
    const std::string text = read_small_file("/proc/self/status");
    std::size_t pos = 0;
    while (pos < text.size()) {
        std::size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        const auto colon = line.find(':');
        if (colon == std::string::npos) continue;
        const std::string key = line.substr(0, colon);
        if (std::find(std::begin(keys), std::end(keys), key) == std::end(keys)) continue;
        std::string value = line.substr(colon + 1);
        value.erase(0, value.find_first_not_of(" \t"));
        status[key] = value;
    }
    return status;
}

// Open fds, probed with fstat below FDSize (listing /proc/self/fd would need getdents64 and
// readlink, which the zfs seccomp profile does not allow).
nlohmann::json open_fds(int fd_table_size) {
    nlohmann::json fds = nlohmann::json::object();
    for (int fd = 0; fd < fd_table_size; ++fd) {
        struct stat st {};
        if (::fstat(fd, &st) != 0) continue;
        std::string kind = "other";
        if (S_ISFIFO(st.st_mode))
            kind = "pipe";
        else if (S_ISSOCK(st.st_mode))
            kind = "socket";
        else if (S_ISREG(st.st_mode))
            kind = "file";
        else if (S_ISDIR(st.st_mode))
            kind = "dir";
        else if (S_ISCHR(st.st_mode))
            kind = "chr " + std::to_string(major(st.st_rdev)) + ":" +
                   std::to_string(minor(st.st_rdev));
        fds[std::to_string(fd)] = kind;
    }
    return fds;
}

void report(const std::vector<std::string>& args) {
    auto status = process_status(); // its fd is closed again before the probe below
    const int fd_table_size = std::atoi(status["FDSize"].c_str());
    status.erase("FDSize");
    const nlohmann::json fds = open_fds(fd_table_size > 0 ? fd_table_size : 1024);
    nlohmann::json env = nlohmann::json::array();
    for (char** e = environ; *e != nullptr; ++e)
        env.push_back(*e);
    // Landlock: reading the directory "/" is outside the fence; without one, anyone may.
    const int root = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    const bool landlocked = root < 0 && errno == EACCES;
    if (root >= 0) ::close(root);
    const nlohmann::json j{
        {"argv", args}, {"env", env}, {"fds", fds}, {"status", status}, {"landlocked", landlocked}};
    const std::string line =
        "fake-zfs-call " + j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
    write_all(2, line.data(), line.size());
}

std::uint64_t splitmix64(std::uint64_t& state) {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int send_stream(std::uint64_t bytes) {
    std::vector<char> block(stream_block_size);
    std::uint64_t state = stream_seed;
    for (std::size_t i = 0; i < block.size(); i += 8) {
        const std::uint64_t v = splitmix64(state);
        std::memcpy(block.data() + i, &v, 8);
    }
    for (std::uint64_t index = 0; bytes > 0; ++index) {
        std::memcpy(block.data(), &index, 8); // little endian on every Linux target we run
        const std::size_t n =
            static_cast<std::size_t>(std::min<std::uint64_t>(bytes, block.size()));
        if (!write_all(1, block.data(), n)) return 1;
        bytes -= n;
    }
    return 0;
}

// FNV-1a: a stable, made-up guid per name.
std::uint64_t guid_of(const std::string& name) {
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : name)
        h = (h ^ c) * 0x100000001b3ULL;
    return h;
}

// The text after `prefix` in a name component (split at '/' and '@'), if any.
std::optional<std::string> tagged(const std::string& operand, const std::string& prefix) {
    std::size_t start = 0;
    while (start <= operand.size()) {
        std::size_t end = operand.find_first_of("/@", start);
        if (end == std::string::npos) end = operand.size();
        const std::string part = operand.substr(start, end - start);
        if (part.size() > prefix.size() && part.starts_with(prefix))
            return part.substr(prefix.size());
        start = end + 1;
    }
    return std::nullopt;
}

std::optional<std::uint64_t> tagged_number(const std::string& operand, const std::string& prefix) {
    const auto text = tagged(operand, prefix);
    if (!text || text->find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
    return std::strtoull(text->c_str(), nullptr, 10);
}

struct Words {
    std::map<char, std::string> options; // letter -> argument ("" for flags)
    std::vector<std::string> operands;
};

// getopt-style reading of zfs's options; `with_argument` lists the letters that take one.
Words read_words(const std::vector<std::string>& args, std::size_t from,
                 const std::string& with_argument) {
    Words w;
    bool options_done = false;
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (options_done || a.size() < 2 || a[0] != '-') {
            w.operands.push_back(a);
            continue;
        }
        if (a == "--") {
            options_done = true;
            continue;
        }
        for (std::size_t k = 1; k < a.size(); ++k) {
            if (with_argument.find(a[k]) != std::string::npos) {
                w.options[a[k]] =
                    k + 1 < a.size() ? a.substr(k + 1) : (i + 1 < args.size() ? args[++i] : "");
                break;
            }
            w.options[a[k]] = "";
        }
    }
    return w;
}

std::string option(const Words& w, char letter) {
    const auto it = w.options.find(letter);
    return it == w.options.end() ? "" : it->second;
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == sep) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}

std::vector<std::pair<std::string, long>> snapshots_of(const std::string& dataset) {
    std::vector<std::string> names = {"autosnap_2024-01-01_00:00:01_daily"};
    if (const auto host = tagged(dataset, "host-"))
        names.push_back("syncoid_" + *host + "_2024-01-01:00:00:00-GMT00:00");
    names.push_back("autosnap_2024-01-02_00:00:01_daily");
    std::vector<std::pair<std::string, long>> out;
    for (std::size_t i = 0; i < names.size(); ++i)
        out.emplace_back(dataset + "@" + names[i], creation_base + static_cast<long>(i) * 60);
    return out;
}

std::string property_value(const std::string& name, const std::string& property, long creation) {
    if (property == "guid") return std::to_string(guid_of(name));
    if (property == "creation") return std::to_string(creation);
    if (property == "name") return name;
    if (property == "type") return name.find('@') != std::string::npos ? "snapshot" : "filesystem";
    if (property == "used" || property == "referenced" || property == "written") return "1048576";
    if (property == "createtxg") return "1";
    return "-"; // origin, syncoid:sync, receive_resume_token, ...: not set
}

void print_property(const Words& w, const std::string& name, const std::string& property,
                    long creation) {
    const std::string value = property_value(name, property, creation);
    if (option(w, 'o') == "value")
        std::printf("%s\n", value.c_str());
    else
        std::printf("%s\t%s\t%s\t-\n", name.c_str(), property.c_str(), value.c_str());
}

void zfs_get(const Words& w) {
    if (w.operands.empty()) return;
    const auto properties = split(w.operands.front(), ',');
    const bool children = w.options.count('d') != 0 || w.options.count('r') != 0;
    const std::string types = option(w, 't');
    for (std::size_t i = 1; i < w.operands.size(); ++i) {
        const std::string& ds = w.operands[i];
        if (children && types == "snapshot") {
            for (const auto& [snap, creation] : snapshots_of(ds))
                for (const auto& p : properties)
                    print_property(w, snap, p, creation);
        } else if (!children || types.empty() || types.find("filesystem") != std::string::npos) {
            for (const auto& p : properties)
                print_property(w, ds, p, creation_base);
        }
    }
}

void zfs_list(const Words& w) {
    const std::string columns = w.options.count('o') != 0 ? option(w, 'o') : "name";
    const std::string types = w.options.count('t') != 0 ? option(w, 't') : "filesystem";
    for (const auto& ds : w.operands) {
        std::vector<std::pair<std::string, long>> rows;
        if (types.find("filesystem") != std::string::npos) rows.emplace_back(ds, creation_base);
        if (types.find("snapshot") != std::string::npos) {
            const auto snaps = snapshots_of(ds);
            rows.insert(rows.end(), snaps.begin(), snaps.end());
        }
        for (const auto& [name, creation] : rows) {
            std::string line;
            for (const auto& c : split(columns, ','))
                line += (line.empty() ? "" : "\t") + property_value(name, c, creation);
            std::printf("%s\n", line.c_str());
        }
    }
}

int zfs_send(const Words& w) {
    const std::string last = w.operands.empty() ? "" : w.operands.back();
    const auto at = last.find('@');
    const std::uint64_t size =
        at == std::string::npos
            ? default_stream_bytes
            : tagged_number(last.substr(at), "bytes-").value_or(default_stream_bytes);
    if (w.options.count('n') == 0) return send_stream(size);
    // -nvP: the estimate syncoid parses (last line "size\t<bytes>").
    const std::string from = w.options.count('I') != 0 ? option(w, 'I') : option(w, 'i');
    const auto bytes = static_cast<unsigned long long>(size);
    if (from.empty())
        std::printf("full\t%s\t%llu\n", last.c_str(), bytes);
    else
        std::printf("incremental\t%s\t%s\t%llu\n", from.c_str(), last.c_str(), bytes);
    std::printf("size\t%llu\n", bytes);
    return 0;
}

} // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv, argv + argc);
    report(args); // first: before this program opens anything of its own

    const std::string program = args[0].substr(args[0].rfind('/') + 1);
    const std::string sub = args.size() > 1 ? args[1] : "";
    int rc = 0;
    Words w;
    if (program == "zpool") {
        // zpool get [-o value] [-H] PROPERTY [--] POOL...: every feature is active.
        w = read_words(args, 2, "o");
        for (std::size_t i = 1; i < w.operands.size(); ++i) {
            if (option(w, 'o') == "value")
                std::printf("active\n");
            else
                std::printf("%s\t%s\tactive\t-\n", w.operands[i].c_str(),
                            w.operands.front().c_str());
        }
    } else if (sub == "get") {
        w = read_words(args, 2, "dostl");
        zfs_get(w);
    } else if (sub == "list") {
        w = read_words(args, 2, "dostS");
        zfs_list(w);
    } else if (sub == "send") {
        w = read_words(args, 2, "iIt");
        rc = zfs_send(w);
    } else if (sub == "receive") {
        // Reads the whole stream from stdin and reports its length and SHA-256 on stdout.
        w = read_words(args, 2, "ox");
        test_support::Sha256 sha;
        unsigned long long bytes = 0;
        static unsigned char buf[1 << 16];
        ssize_t n;
        while ((n = ::read(0, buf, sizeof buf)) != 0) {
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) return 1;
            sha.update(buf, static_cast<std::size_t>(n));
            bytes += static_cast<unsigned long long>(n);
        }
        std::printf("received %llu %s\n", bytes, sha.hex().c_str());
    } else {
        // snapshot, destroy, hold, release, bookmark: accepted, no output.
        w = read_words(args, 2, "o");
    }
    std::fflush(stdout);
    if (rc != 0) return rc;
    for (const auto& operand : w.operands)
        if (const auto status = tagged_number(operand, "exit-"))
            return static_cast<int>(*status & 0xff);
    return 0;
}

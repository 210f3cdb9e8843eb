// The fake source (ssh) and target (zfs) behind tests/puller/hostile_test.cpp. State lives in
// files below the world directory, so the fakes (separate processes started by the puller) and
// the test share it:
//   source.model, target.model  one Row per line: name type guid createtxg origin encryption
//                               written creation (tab-separated)
//   target.markers              `snapshot<TAB>value` of locally set zfs-puller:received
//   ssh.log, zfs.log            every remote command line / local argv (fields joined by \x1f)
//   master.log                  the argv of every ssh master (space-joined)
//   b.<key>                     behaviour switches (World::set):
//     list.mode      hang | endless | fail        the source listing never answers, never
//                                                 ends, or fails with list.stderr
//     list.stderr    text                         stderr of a failing listing
//     list.extra     text                         rows appended to a listing they are below
//     list.type.DS   volume | filesystem          the type column the listing shows for DS
//     send.type      volume | filesystem          the objset type the streams carry
//     send.mode      endless | stall | child | from-oldest | other-dataset | future
//     send.estimate  bytes                        what `zfs send -nvP` answers
//     master.mode    hang                         the ssh master never comes up
//     recv.fail      text                         zfs receive reads the stream, then fails
//     restore.token  token                         an unfinished restore receive (see
//                                                  remote_restore_probe)
//     restore.fail   text                         the source's restore receive fails
#include "tests/puller/fake_zfs_world.hpp"

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "grammar/parse.hpp"
#include "policy/resume_token.hpp"
#include "puller/app.hpp"
#include "tests/puller/stream_records.hpp"
#include "tests/support.hpp"

namespace fake_world {
namespace {

namespace fs = std::filesystem;
using grammar::Invocation;

namespace sr = stream_records;
using sr::record_size;

void write_text(const std::string& path, const std::string& text) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
    }
    fs::rename(tmp, path);
}

void append_line(const std::string& path, const std::string& line) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) return;
    const std::string l = line + "\n";
    if (::write(fd, l.data(), l.size()) < 0) { /* a lost log line fails the test anyway */
    }
    ::close(fd);
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (true) {
        const auto p = s.find(sep, start);
        out.push_back(s.substr(start, p == std::string::npos ? p : p - start));
        if (p == std::string::npos) return out;
        start = p + 1;
    }
}

std::vector<Row> load(const std::string& path) {
    std::vector<Row> rows;
    for (const auto& line : split(test_support::read_file(path), '\n')) {
        if (line.empty()) continue;
        const auto f = split(line, '\t');
        if (f.size() != 8) continue;
        Row r;
        r.name = f[0];
        r.type = f[1];
        r.guid = std::stoull(f[2]);
        r.createtxg = std::stoull(f[3]);
        r.origin = f[4];
        r.encryption = f[5];
        r.written = std::stoull(f[6]);
        r.creation = std::stoll(f[7]);
        rows.push_back(r);
    }
    return rows;
}

void save(const std::string& path, const std::vector<Row>& rows) {
    std::string text;
    for (const auto& r : rows)
        text += r.name + "\t" + r.type + "\t" + std::to_string(r.guid) + "\t" +
                std::to_string(r.createtxg) + "\t" + r.origin + "\t" + r.encryption + "\t" +
                std::to_string(r.written) + "\t" + std::to_string(r.creation) + "\n";
    write_text(path, text);
}

bool within(const std::string& name, const std::string& root) {
    const std::string ds = name.substr(0, name.find_first_of("@#"));
    return ds == root || (ds.starts_with(root) && ds[root.size()] == '/');
}

std::string dataset_of(const std::string& name) {
    return name.substr(0, name.find_first_of("@#"));
}

std::uint64_t next_txg(const std::vector<Row>& rows) {
    std::uint64_t m = 100;
    for (const auto& r : rows)
        m = std::max(m, r.createtxg);
    return m + 1;
}

std::uint64_t next_guid(const std::vector<Row>& rows) {
    std::uint64_t m = 900000;
    for (const auto& r : rows)
        m = std::max(m, r.guid);
    return m + 1;
}

const Row* find(const std::vector<Row>& rows, const std::string& name) {
    for (const auto& r : rows)
        if (r.name == name) return &r;
    return nullptr;
}

// Snapshots of `dataset`, oldest first.
std::vector<Row> snapshots_of(const std::vector<Row>& rows, const std::string& dataset) {
    std::vector<Row> out;
    for (const auto& r : rows)
        if (r.type == "snapshot" && dataset_of(r.name) == dataset) out.push_back(r);
    std::sort(out.begin(), out.end(),
              [](const Row& a, const Row& b) { return a.createtxg < b.createtxg; });
    return out;
}

std::uint64_t get64(const std::string& rec, std::size_t off) {
    std::uint64_t v = 0;
    std::memcpy(&v, rec.data() + off, 8);
    return v;
}
std::uint32_t get32(const std::string& rec, std::size_t off) {
    std::uint32_t v = 0;
    std::memcpy(&v, rec.data() + off, 4);
    return v;
}

bool write_all(int fd, const std::string& data) {
    std::size_t off = 0;
    while (off < data.size()) {
        const ssize_t n = ::write(fd, data.data() + off, data.size() - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        off += static_cast<std::size_t>(n);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------
// The fake source: ssh master, -O exit, and one session per remote command.

// A behaviour key may name a dataset ("list.type.tank/a"): '/' becomes '%' in the file name.
std::string key_path(const std::string& world, std::string key) {
    std::replace(key.begin(), key.end(), '/', '%');
    return world + "/b." + key;
}

struct Fake {
    std::string world;
    std::string behaviour(const std::string& key) const {
        return test_support::read_file(key_path(world, key));
    }
    std::string path(const std::string& file) const { return world + "/" + file; }
};

int ssh_master(const Fake& f, const Argv& args) {
    if (f.behaviour("master.mode") == "hang") {
        ::sleep(3600);
        return 255;
    }
    std::string socket_path, argv_line;
    for (std::size_t i = 0; i + 1 < args.size(); ++i)
        if (args[i] == "-S") socket_path = args[i + 1];
    for (const auto& a : args)
        argv_line += (argv_line.empty() ? "" : " ") + a;
    append_line(f.path("master.log"), argv_line); // which key and login each run used
    const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, socket_path.c_str(), sizeof addr.sun_path - 1);
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(s, 4) != 0)
        return 255;
    write_text(f.path("master.pid"), std::to_string(::getpid()));
    while (true)
        ::pause();
}

int ssh_exit(const Fake& f) {
    const std::string pid = test_support::read_file(f.path("master.pid"));
    if (!pid.empty()) ::kill(static_cast<pid_t>(std::stoi(pid)), SIGTERM);
    return 0;
}

int remote_list(const Fake& f, const std::string& root) {
    const std::string mode = f.behaviour("list.mode");
    if (mode == "hang") {
        ::sleep(3600);
        return 1;
    }
    if (mode == "fail") {
        const std::string e = f.behaviour("list.stderr");
        if (!write_all(2, e)) return 1;
        return 1;
    }
    std::string out;
    for (const auto& r : load(f.path("source.model"))) {
        if (!within(r.name, root)) continue;
        std::string type = r.type;
        if (type != "snapshot" && type != "bookmark") {
            const std::string lie = f.behaviour("list.type." + r.name);
            if (!lie.empty()) type = lie;
        }
        out += r.name + "\t" + type + "\t" + std::to_string(r.guid) + "\t" +
               std::to_string(r.createtxg) + "\t" + r.origin + "\t" + r.encryption + "\t" +
               (r.type == "bookmark" ? "-" : std::to_string(r.written)) + "\n";
    }
    // Extra (hostile) rows, as a real listing of this root would show them: only those below
    // the root.
    for (const auto& line : split(f.behaviour("list.extra"), '\n'))
        if (!line.empty() && within(line.substr(0, line.find('\t')), root)) out += line + "\n";
    if (!write_all(1, out)) return 1;
    if (mode == "endless") {
        std::string rows;
        for (int i = 0; i < 1000; ++i)
            rows += root + "/flood-" + std::to_string(i) + "\tfilesystem\t" +
                    std::to_string(5000 + i) + "\t10\t-\toff\t0\n";
        while (write_all(1, rows)) {
        }
        return 1;
    }
    return 0;
}

int remote_snapshot(const Fake& f, const grammar::ZfsSnapshot& s) {
    auto rows = load(f.path("source.model"));
    const std::uint64_t txg = next_txg(rows);
    std::uint64_t guid = next_guid(rows);
    for (const auto& name : s.snapshots) {
        if (find(rows, name.full()) != nullptr) {
            std::fprintf(stderr, "cannot create snapshot '%s': dataset already exists\n",
                         name.full().c_str());
            return 1;
        }
        if (find(rows, name.dataset) == nullptr) {
            std::fprintf(stderr, "cannot open '%s': dataset does not exist\n",
                         name.dataset.c_str());
            return 1;
        }
        for (auto& r : rows)
            if (r.name == name.dataset) r.written = 0;
        Row snap;
        snap.name = name.full();
        snap.type = "snapshot";
        snap.guid = guid++;
        snap.createtxg = txg;
        snap.creation = static_cast<std::int64_t>(std::time(nullptr));
        rows.push_back(snap);
    }
    save(f.path("source.model"), rows);
    return 0;
}

int remote_destroy(const Fake& f, const Invocation& inv) {
    auto rows = load(f.path("source.model"));
    for (const auto& p : inv.pipelines) {
        const auto& d = std::get<grammar::ZfsDestroy>(p.stages.at(0));
        std::erase_if(rows, [&](const Row& r) { return r.name == d.snapshot.full(); });
    }
    save(f.path("source.model"), rows);
    return 0;
}

int remote_send(const Fake& f, const grammar::ZfsSend& s) {
    const auto rows = load(f.path("source.model"));
    if (s.estimate) {
        const std::string est = f.behaviour("send.estimate");
        std::printf("size\t%s\n", est.empty() ? "4096" : est.c_str());
        return 0;
    }
    std::string dataset, from_name, to_name;
    bool intermediates = false;
    if (const auto* full = std::get_if<grammar::SendFull>(&s.source)) {
        dataset = full->snapshot.dataset;
        to_name = full->snapshot.full();
    } else if (const auto* inc = std::get_if<grammar::SendIncremental>(&s.source)) {
        dataset = inc->to.dataset;
        to_name = inc->to.full();
        intermediates = inc->intermediates;
        from_name = std::visit([](const auto& n) { return n.full(); }, inc->from);
    } else {
        std::fprintf(stderr, "fake source: no resume tokens here\n");
        return 1;
    }
    const Row* ds = find(rows, dataset);
    const Row* to = find(rows, to_name);
    if (ds == nullptr || to == nullptr) {
        std::fprintf(stderr, "cannot open '%s': dataset does not exist\n", to_name.c_str());
        return 1;
    }
    const std::string type_override = f.behaviour("send.type");
    const bool volume = type_override.empty() ? ds->type == "volume" : type_override == "volume";
    const std::string mode = f.behaviour("send.mode");
    std::uint64_t fromguid = 0;
    if (!from_name.empty()) {
        // A bookmark carries the guid of its snapshot.
        const Row* from = find(rows, from_name);
        fromguid = from != nullptr ? from->guid : 0;
    }
    const auto snaps = snapshots_of(rows, dataset);
    if (mode == "from-oldest" && !snaps.empty()) fromguid = snaps.front().guid;
    const std::int64_t future = static_cast<std::int64_t>(std::time(nullptr)) + 10 * 86400;
    auto creation = [&](const Row& r) { return mode == "future" ? future : r.creation; };
    const std::string stream_ds = mode == "other-dataset" ? dataset + "-other" : dataset;

    if (mode == "stall" || mode == "endless") {
        if (!write_all(1, sr::begin(to_name, volume, to->guid, fromguid, to->creation))) return 1;
        if (mode == "stall") {
            ::sleep(3600);
            return 1;
        }
        const std::string block = sr::write(1 << 16) + std::string(1 << 16, 'e');
        while (write_all(1, block)) {
        }
        return 1;
    }

    std::string out;
    if (!intermediates && mode != "child") {
        out = sr::substream(stream_ds + to_name.substr(dataset.size()), volume, to->guid, fromguid,
                            1000, creation(*to));
    } else {
        // A package, as zfs send -I (and -R) writes it: compound BEGIN, END, substreams, END.
        out = sr::begin(to_name, false, 0, 0, 0, true) + sr::end(0);
        const Row* from = from_name.empty() ? nullptr : find(rows, from_name);
        std::uint64_t prev = fromguid;
        for (const auto& snap : snaps) {
            if (from != nullptr && snap.createtxg <= from->createtxg) continue;
            if (snap.createtxg > to->createtxg) break;
            if (!intermediates && snap.name != to_name) continue;
            out += sr::substream(stream_ds + snap.name.substr(dataset.size()), volume, snap.guid,
                                 prev, 1000, creation(snap));
            prev = snap.guid;
        }
        if (mode == "child")
            out += sr::substream(dataset + "/evil@x", false, 777777, 0, 1000, to->creation);
        out += sr::end(0);
    }
    return write_all(1, out) ? 0 : 1;
}

// The restore identity's commands (zfs-puller restore), with the fake zfs below.
int remote_restore_probe(const Fake& f, const std::string& dataset);
int remote_restore_receive(const Fake& f, const std::string& dataset);

int ssh_session(const Fake& f, const std::string& command) {
    append_line(f.path("ssh.log"), command);
    const auto parsed = grammar::parse_command(command);
    if (!parsed.ok()) {
        std::fprintf(stderr, "zfs-gatekeeper: command not permitted\n");
        return 126;
    }
    const Invocation& inv = *parsed.invocation;
    const grammar::Command& c = inv.pipelines.at(0).stages.at(0);
    if (const auto* l = std::get_if<grammar::ZfsList>(&c)) return remote_list(f, l->dataset);
    if (const auto* s = std::get_if<grammar::ZfsSnapshot>(&c)) return remote_snapshot(f, *s);
    if (std::holds_alternative<grammar::ZfsDestroy>(c)) return remote_destroy(f, inv);
    if (const auto* s = std::get_if<grammar::ZfsSend>(&c)) return remote_send(f, *s);
    if (const auto* g = std::get_if<grammar::ZfsGet>(&c);
        g != nullptr && g->query == grammar::GetQuery::receive_resume_token)
        return remote_restore_probe(f, g->datasets.at(0));
    if (const auto* r = std::get_if<grammar::ZfsReceive>(&c))
        return remote_restore_receive(f, r->dataset);
    return 0; // hold, release, bookmark: nothing the tests look at
}

int fake_ssh(const Fake& f, const Argv& args) {
    if (std::find(args.begin(), args.end(), "-N") != args.end()) return ssh_master(f, args);
    if (std::find(args.begin(), args.end(), "-O") != args.end()) return ssh_exit(f);
    return ssh_session(f, args.back());
}

// ---------------------------------------------------------------------------------------------
// The fake local zfs.

std::string column(const Row& r, const std::string& col) {
    if (col == "name") return r.name;
    if (col == "type") return r.type;
    if (col == "guid") return std::to_string(r.guid);
    if (col == "createtxg") return std::to_string(r.createtxg);
    if (col == "origin") return r.origin;
    if (col == "encryption") return r.encryption;
    if (col == "written") return r.type == "bookmark" ? "-" : std::to_string(r.written);
    if (col == "creation") return std::to_string(r.creation);
    return "-";
}

bool type_matches(const Row& r, const std::string& types) {
    if (types.empty()) return r.type == "filesystem" || r.type == "volume";
    for (const auto& t : split(types, ','))
        if (t == "all" || t == r.type) return true;
    return false;
}

struct LocalArgs {
    std::map<char, std::string> opts; // -o, -t, -s; flags map to ""
    std::vector<std::string> operands;
};

LocalArgs local_args(const Argv& args, std::size_t from) {
    LocalArgs a;
    bool dashdash = false;
    for (std::size_t i = from; i < args.size(); ++i) {
        const std::string& w = args[i];
        if (!dashdash && w == "--") {
            dashdash = true;
        } else if (!dashdash && w.size() >= 2 && w[0] == '-') {
            for (std::size_t k = 1; k < w.size(); ++k) {
                const char o = w[k];
                if ((o == 'o' || o == 't' || o == 's' || o == 'x' || o == 'd') &&
                    i + 1 < args.size()) {
                    a.opts[o] += (a.opts[o].empty() ? "" : ",") + args[++i];
                    break;
                }
                a.opts[o] = "";
            }
        } else {
            a.operands.push_back(w);
        }
    }
    return a;
}

std::map<std::string, std::string> load_markers(const Fake& f) {
    std::map<std::string, std::string> m;
    for (const auto& line : split(test_support::read_file(f.path("target.markers")), '\n')) {
        const auto tab = line.find('\t');
        if (tab != std::string::npos) m[line.substr(0, tab)] = line.substr(tab + 1);
    }
    return m;
}

void save_markers(const Fake& f, const std::map<std::string, std::string>& m) {
    std::string text;
    for (const auto& [k, v] : m)
        text += k + "\t" + v + "\n";
    write_text(f.path("target.markers"), text);
}

int missing(const std::string& name) {
    std::fprintf(stderr, "cannot open '%s': dataset does not exist\n", name.c_str());
    return 1;
}

int local_list(const Fake& f, const LocalArgs& a) {
    const auto rows = load(f.path("target.model"));
    const std::string root = a.operands.empty() ? "" : a.operands.front();
    if (find(rows, root) == nullptr) return missing(root);
    const auto cols = split(a.opts.contains('o') ? a.opts.at('o') : "name", ',');
    const bool recursive = a.opts.contains('r');
    const bool children = a.opts.contains('d'); // -d 1: the dataset and its snapshots
    std::string out;
    for (const auto& r : rows) {
        const bool in = recursive  ? within(r.name, root)
                        : children ? dataset_of(r.name) == root
                                   : r.name == root;
        if (!in) continue;
        if (!type_matches(r, a.opts.contains('t') ? a.opts.at('t') : "")) continue;
        for (std::size_t i = 0; i < cols.size(); ++i)
            out += (i ? "\t" : "") + column(r, cols[i]);
        out += "\n";
    }
    return write_all(1, out) ? 0 : 1;
}

int local_get(const Fake& f, const LocalArgs& a) {
    const auto rows = load(f.path("target.model"));
    const auto markers = load_markers(f);
    if (a.operands.empty()) return 2;
    const std::string prop = a.operands.front();
    const bool recursive = a.opts.contains('r');
    const std::string types = a.opts.contains('t') ? a.opts.at('t') : "all";
    const bool local_only = a.opts.contains('s') && a.opts.at('s') == "local";
    int rc = 0;
    std::string out;
    for (std::size_t i = 1; i < a.operands.size(); ++i) {
        const std::string& name = a.operands[i];
        if (find(rows, name) == nullptr) {
            rc = missing(name);
            continue;
        }
        for (const auto& r : rows) {
            if (!(recursive ? within(r.name, name) : r.name == name)) continue;
            if (!type_matches(r, types)) continue;
            std::string value = "-", source = "-";
            if (prop == "receive_resume_token") {
                value = "-";
            } else if (prop == "zfs-puller:received" && markers.contains(r.name)) {
                value = markers.at(r.name);
                source = "local";
            } else if (prop != "zfs-puller:received") {
                value = column(r, prop);
            }
            if (local_only && source != "local") continue;
            out += r.name + "\t" + value + "\n";
        }
    }
    if (!write_all(1, out)) return 1;
    return rc;
}

// Reads `n` bytes of stdin into `out` (or skips them with out == nullptr); false at the end.
bool read_exactly(std::size_t n, std::string* out, std::uint64_t& total) {
    char buf[65536];
    while (n > 0) {
        const ssize_t got = ::read(0, buf, std::min(n, sizeof buf));
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return false;
        if (out != nullptr) out->append(buf, static_cast<std::size_t>(got));
        n -= static_cast<std::size_t>(got);
        total += static_cast<std::uint64_t>(got);
    }
    return true;
}

// Reads the whole stream, record by record, and applies every substream as a received
// snapshot, as zfs receive would: the dataset part after the stream's first dataset is appended
// to the target. `model` is the side that receives (target.model; source.model for a restore).
int receive_stream(const Fake& f, const std::string& model, const std::string& target, bool force,
                   const std::string& fail_text) {
    const bool fail = !fail_text.empty();
    auto rows = load(f.path(model));
    std::string sendfs;
    std::uint64_t total = 0;
    std::string rec;
    while (true) {
        rec.clear();
        if (!read_exactly(record_size, &rec, total)) break;
        const std::uint32_t type = get32(rec, 0);
        if (type == 3) { // DRR_WRITE: skip its payload
            if (!read_exactly(get64(rec, 32), nullptr, total)) break;
            continue;
        }
        if (type != 0) continue;
        if (!read_exactly(get32(rec, 4), nullptr, total)) break;
        if ((get64(rec, 16) & 3) == 2 || fail) continue; // the package header
        const std::string toname(rec.c_str() + 56);
        const std::string ds = toname.substr(0, toname.find('@'));
        if (sendfs.empty()) sendfs = ds;
        const std::string dest = target + ds.substr(std::min(sendfs.size(), ds.size()));
        const std::uint64_t fromguid = get64(rec, 48);
        if (force && fromguid != 0) {
            // -F: roll back to the snapshot the stream starts from, as the kernel does.
            std::uint64_t from_txg = 0;
            for (const auto& r : snapshots_of(rows, dest))
                if (r.guid == fromguid) from_txg = r.createtxg;
            std::erase_if(rows, [&](const Row& r) {
                return r.type == "snapshot" && dataset_of(r.name) == dest && r.createtxg > from_txg;
            });
        }
        if (find(rows, dest) == nullptr) {
            Row d;
            d.name = dest;
            d.type = get32(rec, 32) == 3 ? "volume" : "filesystem"; // DMU_OST_ZVOL
            d.guid = next_guid(rows);
            d.createtxg = next_txg(rows);
            rows.push_back(d);
        }
        Row snap;
        snap.name = dest + toname.substr(toname.find('@'));
        snap.type = "snapshot";
        snap.guid = get64(rec, 40);
        snap.createtxg = next_txg(rows);
        snap.creation = static_cast<std::int64_t>(get64(rec, 24));
        rows.push_back(snap);
    }
    append_line(f.path("received.bytes"), std::to_string(total));
    if (fail) {
        std::fprintf(stderr, "%s\n", fail_text.c_str());
        return 1;
    }
    save(f.path(model), rows);
    return 0;
}

int local_receive(const Fake& f, const LocalArgs& a) {
    return receive_stream(f, "target.model", a.operands.empty() ? "" : a.operands.back(),
                          a.opts.contains('F'), f.behaviour("recv.fail"));
}

// The source's restore root as zfs and the gatekeeper's live check see it: a dataset of
// source.model is complete; b.restore.token makes an absent one an unfinished receive with that
// token, which the next successful receive completes (and removes).
int remote_restore_probe(const Fake& f, const std::string& dataset) {
    const std::string token = f.behaviour("restore.token");
    if (find(load(f.path("source.model")), dataset) != nullptr)
        return write_all(1, dataset + "\t-\n") ? 0 : 1;
    if (!token.empty()) return write_all(1, dataset + "\t" + token + "\n") ? 0 : 1;
    return missing(dataset);
}

int remote_restore_receive(const Fake& f, const std::string& dataset) {
    if (find(load(f.path("source.model")), dataset) != nullptr) {
        std::fprintf(stderr, "zfs-gatekeeper: command not permitted\n");
        return 126;
    }
    const int rc = receive_stream(f, "source.model", dataset, false, f.behaviour("restore.fail"));
    if (rc == 0) fs::remove(key_path(f.world, "restore.token"));
    return rc;
}

// Local `zfs send [FLAGS] -- DS@SNAP`, `zfs send -t TOKEN` (the token decoded as zfs would) and
// their -n -v -P estimates, from target.model: one small substream of the snapshot.
int local_send(const Fake& f, const Argv& args) {
    const auto rows = load(f.path("target.model"));
    bool estimate = false;
    std::string snap;
    for (std::size_t i = 2; i < args.size(); ++i) {
        if (args[i] == "-n") estimate = true;
        if (args[i] == "--" && i + 1 < args.size()) snap = args[i + 1];
        if (args[i] == "-t" && i + 1 < args.size()) {
            const auto decoded = policy::decode_resume_token(args[i + 1]);
            if (!decoded.ok()) {
                std::fprintf(stderr, "cannot resume send: invalid token\n");
                return 1;
            }
            snap = decoded.token->toname;
        }
    }
    const Row* to = find(rows, snap);
    const Row* ds = find(rows, dataset_of(snap));
    if (to == nullptr || ds == nullptr) return missing(snap);
    if (estimate) return write_all(1, "size\t4096\n") ? 0 : 1;
    return write_all(1, sr::substream(snap, ds->type == "volume", to->guid, 0, 1000, to->creation))
               ? 0
               : 1;
}

int local_destroy(const Fake& f, const LocalArgs& a) {
    auto rows = load(f.path("target.model"));
    for (const auto& name : a.operands) {
        if (find(rows, name) == nullptr) return missing(name);
        std::erase_if(rows, [&](const Row& r) { return r.name == name; });
    }
    save(f.path("target.model"), rows);
    return 0;
}

int local_rollback(const Fake& f, const LocalArgs& a) {
    auto rows = load(f.path("target.model"));
    const std::string snap = a.operands.empty() ? "" : a.operands.back();
    const Row* to = find(rows, snap);
    if (to == nullptr) return missing(snap);
    const std::uint64_t txg = to->createtxg;
    const std::string ds = dataset_of(snap);
    std::erase_if(rows, [&](const Row& r) {
        return r.type == "snapshot" && dataset_of(r.name) == ds && r.createtxg > txg;
    });
    save(f.path("target.model"), rows);
    return 0;
}

int local_set(const Fake& f, const Argv& args) {
    auto markers = load_markers(f);
    std::string value;
    for (std::size_t i = 2; i < args.size(); ++i) {
        const auto eq = args[i].find('=');
        if (eq != std::string::npos) {
            if (args[i].substr(0, eq) != "zfs-puller:received") return 2;
            value = args[i].substr(eq + 1);
        } else {
            markers[args[i]] = value;
        }
    }
    save_markers(f, markers);
    return 0;
}

int fake_zfs(const Fake& f, const Argv& args) {
    std::string line;
    for (std::size_t i = 0; i < args.size(); ++i)
        line += (i ? "\x1f" : "") + args[i];
    append_line(f.path("zfs.log"), line);
    if (args.size() < 2) return 2;
    const std::string& verb = args[1];
    const LocalArgs a = local_args(args, 2);
    if (verb == "list") return local_list(f, a);
    if (verb == "get") return local_get(f, a);
    if (verb == "receive") return local_receive(f, a);
    if (verb == "send") return local_send(f, args);
    if (verb == "destroy") return local_destroy(f, a);
    if (verb == "rollback") return local_rollback(f, a);
    if (verb == "set") return local_set(f, args);
    std::fprintf(stderr, "fake zfs: unknown command %s\n", verb.c_str());
    return 2;
}

std::string self_exe() {
    return fs::read_symlink("/proc/self/exe").string();
}

} // namespace

// ---------------------------------------------------------------------------------------------
// The test side.

World::World() {
    std::string tmpl = (fs::temp_directory_path() / "zfs-puller-test.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp");
    dir_ = tmpl;
    fs::create_directories(dir_ + "/bin");
    fs::create_directories(dir_ + "/run");
    fs::create_directories(dir_ + "/state");
    fs::permissions(dir_ + "/state", fs::perms::owner_all, fs::perm_options::replace);
    write_text(dir_ + "/world", "fake zfs world\n");
    for (const char* name : {"ssh", "zfs"})
        fs::create_symlink(self_exe(), dir_ + "/bin/" + name);
    write_text(dir_ + "/source.model", "");
    write_text(dir_ + "/target.model", "");
}

World::~World() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

void World::add_source(const Row& row) {
    add_source(std::vector<Row>{row});
}
void World::add_source(const std::vector<Row>& more) {
    auto rows = load(dir_ + "/source.model");
    rows.insert(rows.end(), more.begin(), more.end());
    save(dir_ + "/source.model", rows);
}
void World::add_target(const Row& row) {
    auto rows = load(dir_ + "/target.model");
    rows.push_back(row);
    save(dir_ + "/target.model", rows);
}
void World::remove_source(const std::string& name) {
    auto rows = load(dir_ + "/source.model");
    std::erase_if(rows, [&](const Row& r) { return r.name == name; });
    save(dir_ + "/source.model", rows);
}
std::vector<Row> World::source() const {
    return load(dir_ + "/source.model");
}
std::vector<Row> World::target() const {
    return load(dir_ + "/target.model");
}

namespace {
std::vector<std::string> names_after_at(const std::vector<Row>& rows, const std::string& ds) {
    std::vector<std::string> out;
    for (const auto& r : snapshots_of(rows, ds))
        out.push_back(r.name.substr(r.name.find('@') + 1));
    return out;
}
} // namespace

std::vector<std::string> World::source_snapshots(const std::string& dataset) const {
    return names_after_at(source(), dataset);
}
std::vector<std::string> World::target_snapshots(const std::string& dataset) const {
    return names_after_at(target(), dataset);
}

std::map<std::string, std::string> World::markers() const {
    return load_markers(Fake{dir_});
}
void World::set_marker(const std::string& snapshot, const std::string& value) {
    auto m = markers();
    m[snapshot] = value;
    save_markers(Fake{dir_}, m);
}

void World::set(const std::string& key, const std::string& value) {
    write_text(key_path(dir_, key), value);
}

std::vector<std::string> World::remote_log() const {
    std::vector<std::string> out;
    for (const auto& l : split(test_support::read_file(dir_ + "/ssh.log"), '\n'))
        if (!l.empty()) out.push_back(l);
    return out;
}

std::vector<Argv> World::local_log() const {
    std::vector<Argv> out;
    for (const auto& l : split(test_support::read_file(dir_ + "/zfs.log"), '\n'))
        if (!l.empty()) out.push_back(split(l, '\x1f'));
    return out;
}

Argv World::pull_args(const std::string& source, const std::string& target,
                      const Argv& extra) const {
    Argv a{"pull",
           "zb@fake.example:" + source,
           target,
           "--ssh-key",
           dir_ + "/key",
           "--known-hosts",
           dir_ + "/known_hosts",
           "--ssh",
           ssh(),
           "--zfs",
           zfs(),
           "--runtime-dir",
           dir_ + "/run",
           "--state-dir",
           dir_ + "/state",
           "--progress",
           "none"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
}

std::string World::config(const std::string& jobs_text) const {
    const std::string path = dir_ + "/config.toml";
    write_text(path, "[programs]\nzfs = \"" + zfs() + "\"\nssh = \"" + ssh() +
                         "\"\n\n[defaults]\nssh_key = \"" + dir_ + "/key\"\nknown_hosts = \"" +
                         dir_ + "/known_hosts\"\nruntime_dir = \"" + dir_ +
                         "/run\"\nstate_dir = \"" + dir_ + "/state\"\n\n" + jobs_text);
    ::chmod(path.c_str(), 0600);
    return path;
}

namespace {
double seconds_now() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}
} // namespace

World::Started World::start(const Argv& args) const {
    static int runs = 0;
    Started st;
    st.out_path = dir_ + "/run" + std::to_string(++runs) + ".out";
    st.err_path = dir_ + "/run" + std::to_string(runs) + ".err";
    std::fflush(stdout);
    std::fflush(stderr);
    st.t0 = seconds_now();
    st.pid = ::fork();
    if (st.pid == 0) {
        const int out = ::open(st.out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int err = ::open(st.err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
        const int in = ::open("/dev/null", O_RDONLY);
        if (out < 0 || err < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 ||
            ::dup2(err, 2) < 0)
            ::_exit(99);
        const int code = puller::run_program(args, "test");
        std::fflush(stdout);
        std::fflush(stderr);
        ::_exit(code);
    }
    return st;
}

RunResult World::finish(const Started& st, double limit, double term_after) const {
    RunResult result;
    bool termed = false;
    int status = 0;
    result.status = -1;
    while (true) {
        const pid_t r = ::waitpid(st.pid, &status, WNOHANG);
        const double t = seconds_now() - st.t0;
        if (r == st.pid) {
            result.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            result.seconds = t;
            break;
        }
        if (term_after > 0 && !termed && t >= term_after) {
            ::kill(st.pid, SIGTERM);
            termed = true;
        }
        if (t > limit) { // a run that does not end: status -1
            ::kill(st.pid, SIGKILL);
            ::waitpid(st.pid, &status, 0);
            result.seconds = t;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    result.out = test_support::read_file(st.out_path);
    result.err = test_support::read_file(st.err_path);
    return result;
}

RunResult World::run(const Argv& args, double limit, double term_after) const {
    return finish(start(args), limit, term_after);
}

std::optional<int> dispatch(int argc, char** argv) {
    if (argc < 1) return std::nullopt;
    const fs::path self(argv[0]);
    const std::string name = self.filename().string();
    if (name != "ssh" && name != "zfs") return std::nullopt;
    const fs::path world = self.parent_path().parent_path();
    if (!fs::exists(world / "world")) return std::nullopt;
    const Fake f{world.string()};
    const Argv args(argv, argv + argc);
    return name == "ssh" ? fake_ssh(f, args) : fake_zfs(f, args);
}

} // namespace fake_world

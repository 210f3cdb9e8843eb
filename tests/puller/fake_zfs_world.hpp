// A fake source host and a fake local zfs for running the real zfs-puller program in a child
// process: the test binary itself, started through symlinks named `ssh` and `zfs` (the puller's
// own --ssh / --zfs), plays both. Each side keeps a tiny model of its datasets and snapshots in
// files, answers listings from it, turns sends into small but well-formed send streams, applies
// received streams, destroys and rollbacks, and records every command. Behaviour switches make
// the source hostile. Test code only; the puller never runs a shell or looks anything up in PATH,
// and neither does this.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace fake_world {

// One dataset, snapshot or bookmark of a side (what `zfs list -p` would print).
struct Row {
    std::string name;
    std::string type; // filesystem | volume | snapshot | bookmark
    std::uint64_t guid = 0;
    std::uint64_t createtxg = 0;
    std::string origin = "-";
    std::string encryption = "off";
    std::uint64_t written = 0;
    std::int64_t creation = 0;
};

using Argv = std::vector<std::string>;

struct RunResult {
    int status = -1;    // exit status, 128 + signal, or -1 if the child had to be killed
    double seconds = 0; // wall time of the run
    std::string out;    // stdout: JSON lines, --dry-run commands
    std::string err;    // stderr
};

class World {
  public:
    World();
    ~World();
    World(const World&) = delete;
    World& operator=(const World&) = delete;

    const std::string& dir() const { return dir_; }
    std::string ssh() const { return dir_ + "/bin/ssh"; }
    std::string zfs() const { return dir_ + "/bin/zfs"; }

    // The models. A dataset row first, then its snapshots in createtxg order.
    void add_source(const Row& row);
    void add_source(const std::vector<Row>& rows);
    void add_target(const Row& row);
    void remove_source(const std::string& name);
    std::vector<Row> source() const;
    std::vector<Row> target() const;
    // Snapshot names (after '@') of one dataset, oldest first.
    std::vector<std::string> source_snapshots(const std::string& dataset) const;
    std::vector<std::string> target_snapshots(const std::string& dataset) const;
    // Locally set zfs-puller:received markers on the target: snapshot -> value.
    std::map<std::string, std::string> markers() const;
    void set_marker(const std::string& snapshot, const std::string& value);

    // Behaviour switches of the fake source and target (see fake_zfs_world.cpp for the list).
    void set(const std::string& key, const std::string& value);

    // What was asked: remote command lines in order, and local zfs argv in order.
    std::vector<std::string> remote_log() const;
    std::vector<Argv> local_log() const;

    // The common `pull SOURCE TARGET` arguments for this world (fake ssh and zfs, private
    // runtime and state directories); `extra` is appended.
    Argv pull_args(const std::string& source, const std::string& target,
                   const Argv& extra = {}) const;
    // Writes a configuration file (mode 0600) with [programs] and [defaults] for this world
    // and the given text (jobs), returns its path.
    std::string config(const std::string& jobs_text) const;

    // Runs zfs-puller's run_program(args) in a child; kills it after `limit` seconds. With
    // `term_after` > 0, sends SIGTERM that many seconds after the start.
    RunResult run(const Argv& args, double limit = 60, double term_after = 0) const;
    // The same in two halves, for runs side by side: start() returns at once.
    struct Started {
        int pid = -1;
        std::string out_path, err_path;
        double t0 = 0;
    };
    Started start(const Argv& args) const;
    RunResult finish(const Started& started, double limit = 60, double term_after = 0) const;

  private:
    std::string dir_;
};

// In main(): when this binary was started as the fake `ssh` or `zfs`, acts as it and returns
// the exit status; otherwise nothing (run the tests).
std::optional<int> dispatch(int argc, char** argv);

} // namespace fake_world

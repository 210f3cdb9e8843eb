// The job runner. Order: master up, one source listing, local target listing, plan, one atomic
// `zfs snapshot` for every changed dataset, then per dataset (parents and origins first) the
// sends, then one `zfs hold` of every new newest snapshot and one `zfs release` of the old
// ones, and finally retention on both sides. A failed dataset never stops the others, except
// its dependants.
#include "puller/job.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "puller/lines.hpp"
#include "puller/local_commands.hpp"
#include "puller/messages.hpp"
#include "puller/plan.hpp"
#include "puller/remote_commands.hpp"
#include "puller/retention.hpp"
#include "puller/ssh.hpp"
#include "puller/state_file.hpp"
#include "puller/target_lock.hpp"
#include "puller/transfer.hpp"

namespace puller {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::ordered_json;

double since(Clock::time_point t0) {
    return std::chrono::duration<double>(Clock::now() - t0).count();
}
double rounded(double s) {
    return static_cast<double>(static_cast<long long>(s * 1000)) / 1000;
}

void emit(const ordered_json& j) {
    std::fprintf(stdout, "%s\n",
                 j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    std::fflush(stdout);
}

// What became of one dataset in this run (the `status` of its JSON line).
enum class DatasetStatus { planned, transferred, unchanged, refused, failed, skipped };

const char* status_name(DatasetStatus s) {
    switch (s) {
    case DatasetStatus::planned:
        return "planned";
    case DatasetStatus::transferred:
        return "transferred";
    case DatasetStatus::unchanged:
        return "unchanged";
    case DatasetStatus::refused:
        return "refused";
    case DatasetStatus::failed:
        return "failed";
    case DatasetStatus::skipped:
        return "skipped";
    }
    return "failed";
}

struct DatasetResult {
    DatasetStatus status = DatasetStatus::planned;
    std::uint64_t bytes = 0;
    double seconds = 0;
    unsigned snapshots_sent = 0;
    bool full = false;
    std::string error;
    std::vector<std::string> warnings;
};

class Runner {
  public:
    Runner(const JobConfig& job, const RunOptions& opt, Progress& progress)
        : job_(job), opt_(opt), progress_(progress), master_(job) {}

    int run() {
        const auto t0 = Clock::now();
        const int code = run_inner();
        const auto t_stop = Clock::now();
        master_.stop();
        trace("ssh master stopped", t_stop, 0);
        ordered_json j;
        j["event"] = "job";
        j["job"] = job_.name;
        j["source"] = job_.user + "@" + job_.host + ":" + job_.source;
        j["target"] = job_.target;
        j["status"] = code == exit_ok               ? "ok"
                      : code == exit_refused        ? "refused"
                      : code == exit_dataset_failed ? "failed"
                                                    : "error";
        j["exit"] = code;
        j["dry_run"] = opt_.dry_run;
        std::map<DatasetStatus, unsigned> counts;
        std::uint64_t bytes = 0;
        for (const auto& [name, r] : results_) {
            ++counts[r.status];
            bytes += r.bytes;
        }
        j["datasets"] = results_.size();
        for (const DatasetStatus s :
             {DatasetStatus::transferred, DatasetStatus::unchanged, DatasetStatus::refused,
              DatasetStatus::failed, DatasetStatus::skipped})
            j[status_name(s)] = counts[s];
        j["bytes"] = bytes;
        j["seconds"] = rounded(since(t0));
        j["ssh_sessions"] = master_.sessions();
        if (!job_error_.empty()) j["error"] = job_error_;
        emit(j);
        std::string counted;
        for (const DatasetStatus s :
             {DatasetStatus::transferred, DatasetStatus::unchanged, DatasetStatus::refused,
              DatasetStatus::failed, DatasetStatus::skipped})
            if (counts[s] != 0)
                counted += (counted.empty() ? "" : ", ") + std::to_string(counts[s]) + " " +
                           status_name(s);
        log_info(job_.name + ": " + j["status"].get<std::string>() +
                 (opt_.dry_run ? " (dry run)" : "") + ": " + std::to_string(results_.size()) +
                 " dataset" + (results_.size() == 1 ? "" : "s") +
                 (counted.empty() ? "" : " (" + counted + ")") + ", " + human_bytes(bytes) +
                 " in " + human_duration(since(t0)));
        return code;
    }

  private:
    const JobConfig& job_;
    const RunOptions& opt_;
    Progress& progress_;
    SshMaster master_;
    TargetLock lock_;
    std::string job_error_;
    bool internal_ = false;
    std::map<std::string, DatasetResult> results_;

    Clock::time_point start_ = Clock::now();

    // The state file (state_file.hpp): read once the target's lock is held (so this run is its
    // only writer), written after each dataset, so a run that dies later still leaves it.
    bool locked_ = false;
    JobState state_;
    std::set<std::string> recorded_; // datasets this run has written a verdict for
    bool state_warned_ = false;

    void load_state() {
        std::string problem;
        if (load_state_file(job_.state_dir, job_.target, state_, problem) ==
            StateLoad::unreadable) {
            warning_line(problem + "; starting a new state file");
            state_ = JobState{};
        }
        state_.job = job_.name;
        state_.target = job_.target;
    }
    void save_state() {
        if (!locked_) return;
        const std::string e = save_state_file(job_.state_dir, state_);
        if (!e.empty() && !state_warned_) warning_line("state file not written: " + e);
        state_warned_ = state_warned_ || !e.empty();
    }
    static std::int64_t creation_of(const Inventory& inventory, const std::string& dataset,
                                    const std::string& snapshot) {
        const auto it = inventory.find(dataset);
        const Point* s = it == inventory.end() ? nullptr : it->second.snapshot_named(snapshot);
        return s == nullptr ? 0 : s->creation;
    }
    // One dataset's verdict. The creation of its newest snapshot comes from the target listing
    // taken before the run (a snapshot received now gets it from the listing after it).
    void record(const DatasetPlan& p, const DatasetResult& r, const Inventory& target) {
        if (!locked_) return;
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        DatasetState& d = state_.datasets[p.source];
        d.target = p.target;
        if (r.status == DatasetStatus::transferred || r.status == DatasetStatus::unchanged)
            record_success(d, now, p.newest, creation_of(target, p.target, p.newest), r.bytes);
        else
            record_failure(d, now, r.error.empty() ? status_name(r.status) : r.error);
        recorded_.insert(p.source);
        save_state();
    }
    // A failure of the whole job counts for every dataset not judged in this run (the source
    // root on a first run).
    void record_job_failure(const std::string& why) {
        if (!locked_) return;
        if (state_.datasets.empty()) state_.datasets[job_.source].target = job_.target;
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        for (auto& [name, d] : state_.datasets)
            if (!recorded_.contains(name)) record_failure(d, now, why);
        save_state();
    }

    // --verbose: one stderr line per step with its time since the start, duration and status.
    void trace(const std::string& what, Clock::time_point t0, int status) {
        if (!opt_.verbose) return;
        char head[64];
        std::snprintf(head, sizeof head, "[%7.3fs] %.3fs exit %d: ",
                      std::chrono::duration<double>(t0 - start_).count(), since(t0), status);
        log_debug(job_.name + ": " + head + what);
    }
    // A command stopped by a limit or a signal fails, and says why in its last stderr line
    // (which is what every caller reports).
    void explain_stop(Captured& c, const std::string& what, const CaptureLimits& limits) const {
        std::string why;
        switch (c.stopped) {
        case Captured::Stopped::no:
            return;
        case Captured::Stopped::output_limit:
            why = "its output passed " + std::to_string(limits.max_out) + " bytes";
            break;
        case Captured::Stopped::line_limit:
            why = "its output passed " + std::to_string(limits.max_lines) + " lines";
            break;
        case Captured::Stopped::stalled:
            why = "no answer for " + std::to_string(static_cast<long long>(limits.stall_seconds)) +
                  " s (stall_timeout)";
            break;
        case Captured::Stopped::signal:
            why = "interrupted";
            break;
        }
        c.err += "\n" + what + " stopped: " + why;
        if (c.status == 0) c.status = 128 + SIGTERM;
    }

    Captured timed_capture(const Argv& argv) {
        const CaptureLimits limits{0, 0, static_cast<double>(job_.stall_timeout)};
        const auto t0 = Clock::now();
        Captured c = run_capture(argv, limits);
        explain_stop(c, "local zfs " + (argv.size() > 1 ? argv[1] : std::string()), limits);
        trace("local: " + display(argv), t0, c.status);
        return c;
    }

    void error_line(const std::string& msg) { log_error(job_.name + ": " + msg); }
    void warning_line(const std::string& msg) { log_warning(job_.name + ": " + msg); }

    // Build-check-send one remote command. In a dry run, commands that change something are
    // printed instead (each one still went through the grammar check).
    std::optional<Captured> remote(const grammar::Invocation& inv, bool changes) {
        // Every answer is small except the listing, whose size the configuration bounds.
        const CaptureLimits small{1 << 20, 0, static_cast<double>(job_.stall_timeout)};
        return remote(inv, changes, small);
    }
    std::optional<Captured> remote(const grammar::Invocation& inv, bool changes,
                                   const CaptureLimits& limits) {
        const Rendered r = checked_render(inv);
        if (!r.ok()) {
            error_line("internal error: " + r.error);
            internal_ = true;
            return std::nullopt;
        }
        if (opt_.dry_run && changes) {
            std::fprintf(stdout, "remote: %s\n", r.text->c_str());
            return Captured{0, "", "", Captured::Stopped::no};
        }
        const auto t0 = Clock::now();
        Captured c = run_remote(master_, *r.text, limits);
        explain_stop(c, "the source's answer", limits);
        trace("remote: " + *r.text, t0, c.status);
        return c;
    }

    Captured local(const Argv& argv, bool changes) {
        if (opt_.dry_run && changes) {
            std::fprintf(stdout, "local: %s\n", display(argv).c_str());
            return Captured{0, "", "", Captured::Stopped::no};
        }
        return timed_capture(argv);
    }

    std::optional<Inventory> target_inventory() {
        Captured c = timed_capture(target_listing_argv(job_.zfs, job_.target));
        if (c.status != 0) {
            if (!says_missing(c.err)) {
                job_error_ = "cannot list target " + job_.target + ": " + last_line(c.err);
                return std::nullopt;
            }
            const auto slash = job_.target.rfind('/');
            if (slash != std::string::npos) {
                const std::string parent = job_.target.substr(0, slash);
                const Captured p = timed_capture(exists_argv(job_.zfs, parent));
                if (p.status != 0) {
                    job_error_ = "the parent of the target, " + parent + ", does not exist (" +
                                 last_line(p.err) + "); create it first";
                    return std::nullopt;
                }
            }
            return Inventory{};
        }
        return read_target(c.out);
    }

    // The target listing and the markers this host set on what it received.
    std::optional<Inventory> read_target(const std::string& listing) {
        InventoryResult parsed = parse_listing(listing, Listing::target);
        if (!parsed.ok()) {
            job_error_ = "cannot read the target listing: " + parsed.error;
            return std::nullopt;
        }
        const Captured m = timed_capture(markers_argv(job_.zfs, job_.target));
        if (m.status != 0) {
            job_error_ = "cannot read the " + std::string(received_property) + " markers below " +
                         job_.target + ": " + last_line(m.err);
            return std::nullopt;
        }
        apply_markers(*parsed.inventory, m.out);
        return parsed.inventory;
    }

    // The target as it is after the transfers, from its own listing.
    std::optional<Inventory> fresh_target() {
        const Captured c = timed_capture(target_listing_argv(job_.zfs, job_.target));
        if (c.status != 0) {
            job_error_ = "cannot list target " + job_.target + ": " + last_line(c.err);
            return std::nullopt;
        }
        return read_target(c.out);
    }

    // Marks every snapshot that arrived in this run (on the target now, not before) with the
    // time it arrived, so later runs know it came from the source: a forced rollback never
    // destroys it, and retention counts its age from here. A dataset whose marking failed gets
    // a warning (its new snapshots then count as made on the target, unless they carry the
    // prefix).
    void mark_received(const JobPlan& plan, const Inventory& before, Inventory& after,
                       const std::set<std::string>& done) {
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        std::vector<std::string> names;
        std::map<std::string, std::string> owner; // snapshot -> source dataset, for warnings
        for (const auto& p : plan.datasets) {
            if (!done.contains(p.source)) continue;
            const auto a = after.find(p.target);
            if (a == after.end()) continue;
            const auto b = before.find(p.target);
            std::set<std::uint64_t> had;
            if (b != before.end())
                for (const auto& s : b->second.snapshots)
                    had.insert(s.guid);
            for (auto& s : a->second.snapshots) {
                if (s.received_at != 0 || had.contains(s.guid)) continue;
                names.push_back(p.target + "@" + s.name);
                owner[names.back()] = p.source;
                s.received_at = now;
            }
        }
        for (const auto& batch : snapshot_batches(names)) {
            const Captured c = local(mark_argv(job_.zfs, now, batch), true);
            if (c.status == 0) continue;
            std::set<std::string> warned;
            for (const auto& n : batch)
                if (warned.insert(owner[n]).second)
                    results_[owner[n]].warnings.push_back(
                        "cannot set " + std::string(received_property) +
                        " on what arrived (a later forced rollback may count it as made on the "
                        "target): " +
                        last_line(c.err));
        }
    }

    // receive_resume_token of every target dataset the job maps to. A partially received new
    // dataset is hidden from `zfs list`, so the mapped names are asked for, not the listing.
    // In batches, so that no tree is too large for one argv. False (job_error_ set) when zfs
    // could not be asked at all.
    bool load_resume_tokens(const Inventory& source, Inventory& target, const PlanOptions& popt) {
        std::vector<std::string> names;
        for (const auto& name : job_datasets(source, popt))
            names.push_back(map_name(name, popt.source_root, popt.target_root));
        for (const auto& batch : snapshot_batches(names)) {
            const Captured c = timed_capture(resume_tokens_argv(job_.zfs, batch));
            // Missing datasets make zfs get exit 1 but it still prints the others.
            if (c.status < 0 || c.status > 1) {
                job_error_ = "cannot read receive_resume_token below " + job_.target + ": " +
                             last_line(c.err);
                return false;
            }
            Lines lines(c.out);
            for (std::string_view line; lines.next(line);) {
                const auto tab = line.find('\t');
                if (tab == std::string_view::npos) continue;
                const std::string name(line.substr(0, tab)), value(line.substr(tab + 1));
                if (value == "-" || value.empty()) continue;
                auto it = target.find(name);
                if (it == target.end()) { // partial first receive: the dataset itself is hidden
                    Dataset d;
                    d.name = name;
                    d.kind_known = false;
                    d.encryption = "off";
                    it = target.emplace(name, d).first;
                }
                it->second.resume_token = value;
            }
        }
        return true;
    }

    // A job-level failure: remembered for the summary line and reported once. A signal that
    // arrived meanwhile is the likelier cause, and the more severe status anyway.
    int job_failed(std::string why) {
        job_error_ = std::move(why);
        error_line(job_error_);
        record_job_failure(job_error_);
        return g_signal ? 128 + g_signal : exit_job_failed;
    }

    // The steps of a job, in order. Each returns the job's exit code when the job cannot go on.
    int run_inner() {
        if (g_signal) return 128 + g_signal;
        // One run per target; a dry run changes nothing and so takes no lock (it must never
        // make a real run fail).
        if (!opt_.dry_run) {
            if (const std::string e = lock_.acquire(job_.state_dir, job_.target); !e.empty())
                return job_failed(e);
            locked_ = true;
            load_state();
        }
        std::optional<Inventory> target;
        if (const int code = connect(target); code != exit_ok) return code;
        std::optional<Inventory> source;
        if (const int code = list_source(source); code != exit_ok) return code;
        const PlanOptions popt = plan_options();
        if (!load_resume_tokens(*source, *target, popt)) return job_failed(job_error_);
        const JobPlan plan = make_plan(*source, *target, popt);
        if (!plan.ok()) return job_failed(plan.error);
        // Datasets no longer in the job leave the state.
        std::erase_if(state_.datasets, [&](const auto& entry) {
            return std::none_of(plan.datasets.begin(), plan.datasets.end(),
                                [&](const DatasetPlan& p) { return p.source == entry.first; });
        });

        const auto snapshot_failed = take_sync_snapshots(plan, popt);
        if (!snapshot_failed) return exit_internal;
        std::set<std::string> done; // source datasets whose target is complete after this run
        std::vector<const DatasetPlan*> moved; // the ones that received snapshots in this run
        if (!transfer_all(plan, *snapshot_failed, *target, done, moved)) return exit_internal;
        // Holds before pruning can touch the snapshots they protect; retention once every clone
        // has its origin.
        if (job_.hold && !g_signal && !hold_and_release(moved)) return exit_internal;
        if (g_signal) return report(plan);
        // Retention reads the target as it is now, from its own listing (in a dry run: as the
        // plan would leave it).
        Inventory after = opt_.dry_run ? planned_target(plan, *source, *target) : *target;
        if (!opt_.dry_run && !moved.empty()) {
            std::optional<Inventory> fresh = fresh_target();
            if (!fresh) return job_failed(job_error_);
            after = std::move(*fresh);
            mark_received(plan, *target, after, done);
            record_creations(plan, after, done);
        }
        if (!prune(plan, *source, *target, after, popt, done)) return exit_internal;
        return report(plan);
    }

    // The master comes up while the local target listing runs (the connection takes longest).
    int connect(std::optional<Inventory>& target) {
        const auto t_master = Clock::now();
        std::string master_error = master_.begin();
        if (master_error.empty()) {
            target = target_inventory();
            if (!target) return job_failed(job_error_);
            master_error = master_.wait_ready();
        }
        trace("ssh master to " + job_.user + "@" + job_.host, t_master,
              master_error.empty() ? 0 : 1);
        if (!master_error.empty()) return job_failed(master_error);
        return exit_ok;
    }

    // One recursive listing of the source, bounded in lines and bytes.
    int list_source(std::optional<Inventory>& source) {
        const CaptureLimits limits{static_cast<std::size_t>(job_.max_listing_mib) << 20,
                                   job_.max_listing_lines, static_cast<double>(job_.stall_timeout)};
        const auto listing = remote(list_inventory(job_.source), false, limits);
        if (!listing) return exit_internal;
        if (listing->status != 0)
            return job_failed("listing " + job_.source + " on " + job_.host +
                              " failed: " + last_line(listing->err));
        InventoryResult parsed = parse_listing(listing->out);
        if (!parsed.ok()) return job_failed("cannot read the source listing: " + parsed.error);
        source = std::move(parsed.inventory);
        return exit_ok;
    }

    PlanOptions plan_options() const {
        PlanOptions popt;
        popt.source_root = job_.source;
        popt.target_root = job_.target;
        popt.recursive = job_.recursive;
        popt.raw = job_.raw;
        popt.force_rollback = job_.force_rollback;
        popt.always_snapshot = job_.always_snapshot;
        popt.prefix = job_.prefix;
        popt.sync_snapshot =
            sync_snapshot_name(job_.prefix, static_cast<long long>(std::time(nullptr)));
        return popt;
    }

    // One atomic `zfs snapshot` of every changed dataset (batched only past the grammar's
    // limits). Returns the datasets whose snapshot failed, or nothing on an internal error.
    std::optional<std::set<std::string>> take_sync_snapshots(const JobPlan& plan,
                                                             const PlanOptions& popt) {
        std::vector<std::string> snap_names;
        for (const auto& p : plan.datasets)
            if (p.action == Action::transfer && p.sync_snapshot)
                snap_names.push_back(p.source + "@" + popt.sync_snapshot);
        std::set<std::string> failed;
        for (const auto& batch : snapshot_batches(snap_names)) {
            const auto c = remote(snapshot_all(batch), true);
            if (!c) return std::nullopt;
            if (c->status != 0) {
                error_line("zfs snapshot failed: " + last_line(c->err));
                for (const auto& n : batch)
                    failed.insert(n.substr(0, n.find('@')));
            }
        }
        return failed;
    }

    // Per dataset, in dependency order; stops early only on a signal. False on an internal
    // error.
    bool transfer_all(const JobPlan& plan, const std::set<std::string>& snapshot_failed,
                      const Inventory& target, std::set<std::string>& done,
                      std::vector<const DatasetPlan*>& moved) {
        for (const auto& p : plan.datasets) {
            if (g_signal) break;
            DatasetResult& r = results_[p.source];
            switch (p.action) {
            case Action::skip:
                r.status = DatasetStatus::unchanged;
                done.insert(p.source);
                break;
            case Action::refuse:
                r.status = DatasetStatus::refused;
                r.error = p.reason;
                error_line(p.reason);
                break;
            case Action::fail:
                r.status = DatasetStatus::failed;
                r.error = p.reason;
                error_line(p.reason);
                break;
            case Action::transfer:
                if (snapshot_failed.contains(p.source)) {
                    r.status = DatasetStatus::failed;
                    r.error = "the sync snapshot could not be created";
                    break;
                }
                if (!transfer(p, r, done)) {
                    if (internal_) return false;
                    if (r.status != DatasetStatus::skipped) r.status = DatasetStatus::failed;
                    if (!r.error.empty()) error_line(p.source + ": " + r.error);
                } else {
                    r.status = opt_.dry_run ? DatasetStatus::planned : DatasetStatus::transferred;
                    done.insert(p.source);
                    moved.push_back(&p);
                }
                break;
            }
            if (internal_) return false;
            record(p, r, target);
        }
        return true;
    }

    // The creation of each newest snapshot that arrived in this run, from the target's listing
    // after it (it carries the source's creation time).
    void record_creations(const JobPlan& plan, const Inventory& after,
                          const std::set<std::string>& done) {
        if (!locked_) return;
        for (const auto& p : plan.datasets) {
            const auto it = state_.datasets.find(p.source);
            if (!done.contains(p.source) || it == state_.datasets.end()) continue;
            if (const auto c = creation_of(after, p.target, p.newest); c != 0)
                it->second.newest_snapshot_creation = c;
        }
        save_state();
    }

    // --dry-run: the target as the plan would leave it, each planned snapshot received now.
    static Inventory planned_target(const JobPlan& plan, const Inventory& source,
                                    const Inventory& target) {
        Inventory after = target;
        const auto now = static_cast<std::int64_t>(std::time(nullptr));
        std::uint64_t fake_guid = ~std::uint64_t{0};
        for (const auto& p : plan.datasets) {
            if (p.sends.empty()) continue;
            Dataset& d = after[p.target];
            d.name = p.target;
            if (!p.rollback_to.empty())
                std::erase_if(d.snapshots, [&](const Point& s) {
                    return std::count(p.would_lose.begin(), p.would_lose.end(), s.name);
                });
            const auto src = source.find(p.source);
            for (const auto& send : p.sends)
                for (const auto& name : send.brings) {
                    const Point* listed =
                        src == source.end() ? nullptr : src->second.snapshot_named(name);
                    const std::uint64_t txg =
                        d.snapshots.empty() ? 1 : d.snapshots.back().createtxg + 1;
                    d.snapshots.push_back(
                        Point{name, listed ? listed->guid : fake_guid--, txg, 0, now, now});
                }
        }
        return after;
    }

    // Retention on both sides for every dataset that is complete: the source's own snapshots
    // beyond keep_source; on the target what target_prune allows (retention.hpp), from the
    // target's state after the run. False on an internal error.
    bool prune(const JobPlan& plan, const Inventory& source, const Inventory& before,
               const Inventory& after, const PlanOptions& popt, const std::set<std::string>& done) {
        const Origins source_origins = clone_origins(source), target_origins = clone_origins(after);
        TargetRules rules;
        rules.prefix = job_.prefix;
        rules.keep = job_.keep_target;
        rules.min_age_days = job_.prune_min_age_days;
        rules.max_percent = job_.prune_max_percent;
        rules.now = static_cast<std::int64_t>(std::time(nullptr));
        for (const auto& p : plan.datasets) {
            if (!done.contains(p.source)) continue;
            const Dataset& src = source.at(p.source);
            for (const auto& chain :
                 destroy_chains(source_prune(p, src, popt, job_.keep_source, source_origins))) {
                const auto c = remote(destroy_chain(p.source, chain), true);
                if (!c) return false;
                if (c->status != 0)
                    results_[p.source].warnings.push_back("pruning on the source failed: " +
                                                          last_line(c->err));
            }
            const auto now_there = after.find(p.target);
            if (now_there == after.end()) continue;
            std::set<std::uint64_t> source_guids;
            for (const auto* points : {&src.snapshots, &src.bookmarks})
                for (const auto& pt : *points)
                    source_guids.insert(pt.guid);
            const auto was = before.find(p.target);
            const TargetPrune tp =
                target_prune(now_there->second, was == before.end() ? nullptr : &was->second,
                             source_guids, target_origins, rules);
            if (!tp.refused.empty()) results_[p.source].warnings.push_back(tp.refused);
            for (const auto& name : tp.destroy) {
                const Captured c = local(destroy_argv(job_.zfs, p.target + "@" + name), true);
                if (c.status != 0)
                    results_[p.source].warnings.push_back("pruning " + p.target + "@" + name +
                                                          " failed: " + last_line(c.err));
            }
        }
        return true;
    }

    // One JSON line per dataset; the job's exit code from what happened to each.
    int report(const JobPlan& plan) {
        int code = exit_ok;
        for (const auto& p : plan.datasets) {
            DatasetResult& r = results_[p.source];
            if (r.status == DatasetStatus::planned && !opt_.dry_run) { // stopped by a signal
                r.status = DatasetStatus::skipped;
                r.error = "not attempted: interrupted";
            }
            ordered_json j;
            j["event"] = "dataset";
            j["job"] = job_.name;
            j["dataset"] = p.source;
            j["target"] = p.target;
            j["status"] = status_name(r.status);
            j["bytes"] = r.bytes;
            j["seconds"] = rounded(r.seconds);
            j["snapshots_sent"] = r.snapshots_sent;
            j["newest"] = p.newest;
            j["resumed"] = p.resumed;
            j["full"] = r.full;
            j["raw"] = p.raw;
            if (!r.error.empty()) j["error"] = r.error;
            const bool forced = !p.would_lose.empty() || p.discards_bytes != 0;
            if (forced && (opt_.dry_run || r.status == DatasetStatus::transferred))
                j[opt_.dry_run ? "would_discard" : "discarded"] = {{"snapshots", p.would_lose},
                                                                   {"bytes", p.discards_bytes}};
            for (const auto& w : r.warnings)
                warning_line(p.source + ": warning: " + w);
            if (!r.warnings.empty()) j["warnings"] = r.warnings;
            emit(j);
            if (r.status == DatasetStatus::transferred)
                log_info(job_.name + ": " + p.source + ": " + human_bytes(r.bytes) + ", " +
                         std::to_string(r.snapshots_sent) + " snapshot" +
                         (r.snapshots_sent == 1 ? "" : "s") + " received into " + p.target +
                         " (newest @" + p.newest + ")");
            else if (r.status == DatasetStatus::unchanged)
                log_debug(job_.name + ": " + p.source + ": unchanged (newest @" + p.newest + ")");
            if (r.status == DatasetStatus::failed || r.status == DatasetStatus::skipped)
                code = worse(code, exit_dataset_failed);
            if (r.status == DatasetStatus::refused) code = worse(code, exit_refused);
        }
        if (g_signal) code = worse(code, 128 + g_signal);
        return code;
    }

    // The estimate comes from the source too, so the cap bounds a broken or naive source, not a
    // determined one (the pool's space and any quota above the target do that).
    StreamLimits stream_limits(std::uint64_t estimate) const {
        constexpr std::uint64_t floor = 64ULL << 20;
        StreamLimits l;
        l.estimate = estimate;
        l.max_bytes = job_.stream_cap_factor * std::max(estimate, floor);
        l.stall_seconds = job_.stall_timeout;
        return l;
    }

    // One dataset: its dependencies, the rollback a forced run asked for, each send, and the
    // bookmark. False when the dataset did not arrive (r says why).
    bool transfer(const DatasetPlan& p, DatasetResult& r, const std::set<std::string>& done) {
        for (const auto& dep : p.depends_on) {
            if (!done.contains(dep)) {
                r.status = DatasetStatus::skipped;
                r.error = "not attempted: " + dep + " did not arrive on the target";
                return false;
            }
        }
        if (opt_.dry_run) say_what_is_lost(p);
        if (!p.rollback_to.empty() && !roll_back(p, r)) return false;
        // The receive options follow the target's own type; a new dataset takes the type of its
        // first stream, and every later stream must match it.
        std::optional<DatasetKind> kind = p.target_kind;
        for (std::size_t i = 0; i < p.sends.size(); ++i) {
            if (g_signal) {
                r.error = "interrupted";
                return false;
            }
            const Send& step = p.sends[i];
            const bool force = p.force_receive && i == 0 && step.kind != Send::Kind::resume;
            if (!send_one(p, step, force, kind, r)) return false;
        }
        if (job_.bookmark && !p.newest.empty()) {
            const auto b =
                remote(bookmark(p.source + "@" + p.newest, p.source + "#" + p.newest), true);
            if (!b) return false;
            if (b->status != 0)
                r.warnings.push_back("bookmark of @" + p.newest + " failed: " + last_line(b->err));
        }
        return true;
    }

    // --dry-run: what --force-rollback would give up on the target, on stdout after the
    // commands.
    void say_what_is_lost(const DatasetPlan& p) {
        std::string lost;
        for (const auto& s : p.would_lose)
            lost += (lost.empty() ? "" : ", ") + p.target + "@" + s;
        if (!lost.empty()) lost += " (made on the target)";
        if (p.discards_bytes != 0)
            lost += (lost.empty() ? "" : "; ") + std::to_string(p.discards_bytes) +
                    " bytes written to " + p.target + " after its newest snapshot";
        if (!lost.empty()) std::fprintf(stdout, "loses: %s\n", lost.c_str());
    }

    // `zfs rollback -r` to the common snapshot, after checking with the target's own listing,
    // taken right now, that it destroys exactly what the plan says (snapshots made on the
    // target), nothing that appeared since.
    bool roll_back(const DatasetPlan& p, DatasetResult& r) {
        const std::string to = p.target + "@" + p.rollback_to;
        if (!opt_.dry_run) {
            const Captured list = timed_capture(snapshots_argv(job_.zfs, p.target));
            std::uint64_t from_txg = 0;
            std::vector<std::pair<std::uint64_t, std::string>> snaps; // createtxg, name
            Lines lines(list.out);
            for (std::string_view line; lines.next(line);) {
                const auto cols = split_tabs(line);
                if (cols.size() != 3) continue;
                const std::string name(cols[0].substr(cols[0].find('@') + 1));
                const std::uint64_t txg = std::strtoull(std::string(cols[2]).c_str(), nullptr, 10);
                if (name == p.rollback_to) from_txg = txg;
                snaps.emplace_back(txg, name);
            }
            std::set<std::string> newer;
            for (const auto& [txg, name] : snaps)
                if (from_txg != 0 && txg > from_txg) newer.insert(name);
            if (list.status != 0 || from_txg == 0 ||
                newer != std::set<std::string>(p.would_lose.begin(), p.would_lose.end())) {
                r.error = "not rolled back: " + p.target + " changed since it was listed (" +
                          (list.status != 0 ? last_line(list.err)
                                            : "other snapshots after @" + p.rollback_to) +
                          ")";
                return false;
            }
        }
        const Captured c = local(rollback_argv(job_.zfs, to), true);
        if (c.status != 0) {
            r.error = "zfs rollback -r " + to + " failed: " + last_line(c.err);
            return false;
        }
        return true;
    }

    // The size a send announces: `zfs send -nvP` for full and resumed sends (newer zfs prints it
    // on stdout, older on stderr), the planner's sum of `written` otherwise.
    std::optional<std::uint64_t> estimate_of(const Send& step) {
        // A dry run shows no sizes: it asks the source nothing it does not print.
        if (!step.remote_estimate || opt_.dry_run) return step.estimate;
        const auto c = remote(send(step, true), false);
        if (!c) return std::nullopt;
        if (c->status == 0)
            if (const auto e = parse_estimate(c->out + "\n" + c->err)) return *e;
        return std::uint64_t{0};
    }

    // One stream into zfs receive, checked record by record. False on failure (r.error) or an
    // internal error.
    bool send_one(const DatasetPlan& p, const Send& step, bool force,
                  std::optional<DatasetKind>& kind, DatasetResult& r) {
        const std::optional<std::uint64_t> estimate = estimate_of(step);
        if (!estimate) return false;
        const Rendered rendered = checked_render(send(step, false));
        if (!rendered.ok()) {
            error_line("internal error: " + rendered.error);
            internal_ = true;
            return false;
        }
        const ReceiveArgv recv{receive_argv(job_.zfs, p.target, DatasetKind::filesystem, force),
                               receive_argv(job_.zfs, p.target, DatasetKind::volume, force)};
        if (step.kind == Send::Kind::full) r.full = true;
        if (opt_.dry_run) {
            // A new dataset's type is known only from its stream: shown as the listing says.
            const DatasetKind shown = kind.value_or(p.kind);
            std::fprintf(
                stdout, "remote: %s | local: %s%s\n", rendered.text->c_str(),
                display(shown == DatasetKind::volume ? recv.volume : recv.filesystem).c_str(),
                kind ? "" : "  (new dataset: options for the type its stream carries)");
            r.snapshots_sent += static_cast<unsigned>(step.brings.size());
            return true;
        }
        const StreamExpect expect{p.source, kind, step.from_guid};
        progress_.begin(job_.name, p.source, *estimate);
        const auto t_send = Clock::now();
        const TransferResult t = relay(master_.session(*rendered.text), recv, expect, progress_,
                                       stream_limits(*estimate));
        const Argv& used = t.kind == DatasetKind::volume ? recv.volume : recv.filesystem;
        trace("stream " + std::to_string(t.bytes) + " bytes: " + *rendered.text + " | " +
                  display(used),
              t_send, t.ok ? 0 : (t.receive_status != 0 ? t.receive_status : t.send_status));
        r.bytes += t.bytes;
        r.seconds += t.seconds;
        if (!t.ok) {
            r.error = t.error;
            return false;
        }
        kind = t.kind;
        r.snapshots_sent += static_cast<unsigned>(step.brings.size());
        return true;
    }

    // The new newest common snapshot of every dataset that moved is held, so pruning on the
    // source can never take away the base of the next increment; then the old ones are let
    // go. One command each for the whole job (batched only past the grammar's limits). A
    // dataset whose new hold failed keeps its old one. False only on an internal error.
    bool hold_and_release(const std::vector<const DatasetPlan*>& moved) {
        const std::string tag = hold_tag(job_.prefix);
        std::vector<std::string> to_hold;
        for (const auto* p : moved)
            if (p->newest.starts_with(job_.prefix)) to_hold.push_back(p->source + "@" + p->newest);
        const auto not_held = run_batches(hold, tag, to_hold, "hold on");
        if (!not_held) return false;

        std::vector<std::string> to_release;
        for (const auto* p : moved) {
            if (!p->newest.starts_with(job_.prefix) ||
                not_held->contains(p->source + "@" + p->newest))
                continue;
            if (!p->previous_common.empty() && p->previous_common != p->newest &&
                p->previous_common.starts_with(job_.prefix))
                to_release.push_back(p->source + "@" + p->previous_common);
        }
        return run_batches(release, tag, to_release, "release of").has_value();
    }

    // Runs `command(tag, batch)` over the names in batches. Returns the names that failed (each
    // also goes into its dataset's warnings), or nothing on an internal error.
    std::optional<std::set<std::string>>
    run_batches(grammar::Invocation (*command)(const std::string&, const std::vector<std::string>&),
                const std::string& tag, const std::vector<std::string>& names, const char* what) {
        std::set<std::string> failed;
        for (const auto& batch : snapshot_batches(names)) {
            const auto c = remote(command(tag, batch), true);
            if (!c) return std::nullopt;
            if (c->status == 0) continue;
            for (const auto& f : failed_operands(c->err, batch)) {
                failed.insert(f.name);
                const auto at = f.name.find('@');
                results_[f.name.substr(0, at)].warnings.push_back(
                    std::string(what) + " " + f.name.substr(at) + " failed: " + f.message);
            }
        }
        return failed;
    }
};

int rank(int code) {
    switch (code) {
    case exit_ok:
        return 0;
    case exit_refused:
        return 1;
    case exit_dataset_failed:
        return 2;
    case exit_job_failed:
        return 3;
    case exit_usage:
        return 4;
    case exit_internal:
        return 6;
    default:
        return 5; // 128 + signal
    }
}

} // namespace

int worse(int a, int b) {
    return rank(b) > rank(a) ? b : a;
}

int run_job(const JobConfig& job, const RunOptions& options, Progress& progress) {
    Runner runner(job, options, progress);
    return runner.run();
}

} // namespace puller

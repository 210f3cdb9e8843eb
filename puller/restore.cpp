// The restore: names, probe, plan, then one stream from the local `zfs send` through the relay
// into the source's `zfs receive` (an ssh session whose stdin is the stream). The plan and the
// put-in-place text are pure; run_restore() runs only zfs list and zfs send locally, never
// anything that changes the backup host, and never the put-in-place commands.
#include "puller/restore.hpp"

#include <cctype>
#include <chrono>
#include <cstdio>

#include "grammar/canonical.hpp"
#include "policy/resume_token.hpp"
#include "puller/job.hpp"
#include "puller/lines.hpp"
#include "puller/local_commands.hpp"
#include "puller/messages.hpp"
#include "puller/remote_commands.hpp"
#include "puller/ssh.hpp"
#include "puller/target_lock.hpp"
#include "puller/transfer.hpp"

namespace puller {

std::string check_restore_name(std::string_view name) {
    if (name.empty()) return "the restore name is empty";
    if (name.size() > 200) return "the restore name is longer than 200 bytes";
    if (name == "." || name == "..") return "the restore name must not be . or ..";
    if (name.front() == '-') return "the restore name must not start with -";
    for (const char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
              c == '-'))
            return "the restore name must be one dataset name component of [A-Za-z0-9_.:-] "
                   "(no /, @, # or spaces)";
    return "";
}

RestoreNames restore_names(const JobConfig& job, const RestoreRequest& request) {
    RestoreNames n;
    const std::string in = "job " + job.name + ": ";
    if (job.restore_root.empty() || job.restore_ssh_key.empty()) {
        n.error = in + "restore needs restore_root (the source's restore root) and " +
                  "restore_ssh_key (the key of its restore identity) in [job." + job.name + "]";
        return n;
    }
    if (!valid_dataset_name(request.dataset) || !dataset_within(request.dataset, job.target)) {
        n.error = in + "'" + request.dataset + "' is not " + job.target +
                  " or a dataset below it (the job's local backup)";
        return n;
    }
    if (!request.snapshot.empty() &&
        !grammar::is_valid_snapshot_name(request.dataset + "@" + request.snapshot)) {
        n.error = in + "'" + request.snapshot + "' is not a valid snapshot name";
        return n;
    }
    const std::string name =
        request.as.empty() ? request.dataset.substr(request.dataset.rfind('/') + 1) : request.as;
    if (const std::string why = check_restore_name(name); !why.empty()) {
        n.error = in + why + (request.as.empty() ? " (choose one with --as NAME)" : "");
        return n;
    }
    n.dataset = request.dataset;
    n.remote = job.restore_root + "/" + name;
    n.original = map_name(request.dataset, job.target, job.source);
    if (!valid_dataset_name(n.remote) || !valid_dataset_name(n.original)) {
        n.error = in + "'" + n.remote + "' or '" + n.original + "' is too long for a dataset name";
        n.remote.clear();
    }
    return n;
}

grammar::Invocation restore_probe(const std::string& remote) {
    grammar::Invocation inv;
    inv.pipelines.push_back(grammar::Pipeline{
        {grammar::ZfsGet{grammar::GetQuery::receive_resume_token, {remote}}}, false});
    return inv;
}

grammar::Invocation restore_receive(const std::string& remote) {
    grammar::Invocation inv;
    inv.pipelines.push_back(grammar::Pipeline{{grammar::ZfsReceive{remote}}, false});
    return inv;
}

ProbeAnswer read_probe(int status, const std::string& out, const std::string& err,
                       const std::string& remote) {
    ProbeAnswer a;
    if (status != 0) {
        if (status == 1 && says_missing(err)) {
            a.state = ProbeAnswer::State::absent;
            return a;
        }
        a.error = "the source's answer to the restore probe failed (status " +
                  std::to_string(status) + ")" + (err.empty() ? "" : ": " + last_line(err)) +
                  (status == 126 ? " (is the key's identity preset \"restore\", with the job's "
                                   "restore_root as its restore_root?)"
                                 : "");
        return a;
    }
    Lines lines(out);
    for (std::string_view line; lines.next(line);) {
        const auto cols = split_tabs(line);
        if (cols.size() != 2 || cols[0] != remote) continue;
        if (cols[1] == "-" || cols[1].empty()) {
            a.state = ProbeAnswer::State::complete;
        } else {
            a.state = ProbeAnswer::State::partial;
            a.token = std::string(cols[1]);
        }
        return a;
    }
    a.error = "the source's answer to the restore probe does not name " + remote;
    return a;
}

namespace {

RestorePlan refuse(int code, std::string why) {
    RestorePlan p;
    p.exit_code = code;
    p.error = std::move(why);
    return p;
}

// The interrupted restore's token, checked against what this restore is: the token must name a
// snapshot of the local dataset that is still here with the token's guid (zfs send -t finds the
// snapshot by guid), from a full send (a restore never sends increments).
RestorePlan plan_resume(const JobConfig& job, const RestoreRequest& request,
                        const RestoreNames& names, const Dataset& local, const std::string& token) {
    const policy::TokenResult decoded = policy::decode_resume_token(token);
    if (!decoded.ok())
        return refuse(exit_job_failed, "the source's receive_resume_token for " + names.remote +
                                           " does not decode (" +
                                           std::string(policy::to_string(decoded.error)) + ")");
    const policy::ResumeToken& t = *decoded.token;
    const auto at = t.toname.find('@');
    const std::string ds = t.toname.substr(0, at),
                      snap = at == std::string::npos ? "" : t.toname.substr(at + 1);
    const std::string start_over =
        "; or destroy it on the source (zfs destroy " + names.remote + ") and restore again";
    if (ds != names.dataset || snap.empty())
        return refuse(exit_refused, names.remote + " on the source is an unfinished restore of " +
                                        t.toname + ", not of " + names.dataset + start_over);
    if (!request.snapshot.empty() && request.snapshot != snap)
        return refuse(exit_refused, names.remote + " on the source is an unfinished restore of @" +
                                        snap + ", not of @" + request.snapshot +
                                        ": resume it with zfs-puller restore " + job.name + " " +
                                        names.dataset + "@" + snap + start_over);
    if (t.fromguid)
        return refuse(exit_refused, names.remote +
                                        " on the source is an unfinished incremental "
                                        "receive, which zfs-puller restore never "
                                        "starts" +
                                        start_over);
    const Point* p = local.snapshot_named(snap);
    if (p == nullptr || !t.toguid || p->guid != *t.toguid)
        return refuse(exit_refused, names.remote + " on the source is an unfinished restore of " +
                                        names.dataset + "@" + snap +
                                        ", which is no longer on the backup host" + start_over);
    RestorePlan plan;
    plan.snapshot = names.dataset + "@" + snap;
    plan.resume = true;
    plan.raw = t.rawok;
    plan.send = {job.zfs, "send", "-t", token};
    plan.estimate = {job.zfs, "send", "-n", "-v", "-P", "-t", token};
    plan.note = "resuming the interrupted restore of " + plan.snapshot + " into " + names.remote +
                (t.bytes ? " (" + std::to_string(*t.bytes) + " bytes already there)" : "");
    return plan;
}

} // namespace

RestorePlan plan_restore(const JobConfig& job, const RestoreRequest& request,
                         const RestoreNames& names, const Dataset& local,
                         const ProbeAnswer& probe) {
    if (local.kind != DatasetKind::filesystem)
        return refuse(exit_usage, names.dataset + " is a volume: a restore receives filesystems "
                                                  "only");
    switch (probe.state) {
    case ProbeAnswer::State::failed:
        return refuse(exit_job_failed, probe.error);
    case ProbeAnswer::State::complete:
        return refuse(exit_refused,
                      names.remote + " already exists on the source (an earlier restore?): put it "
                                     "in place or destroy it there first, or restore --as "
                                     "another name; nothing was sent");
    case ProbeAnswer::State::partial:
        return plan_resume(job, request, names, local, probe.token);
    case ProbeAnswer::State::absent:
        break;
    }
    const Point* snap =
        request.snapshot.empty() ? local.newest_snapshot() : local.snapshot_named(request.snapshot);
    if (snap == nullptr)
        return refuse(exit_usage, request.snapshot.empty()
                                      ? names.dataset + " has no snapshots on the backup host"
                                      : "no snapshot " + names.dataset + "@" + request.snapshot +
                                            " on the backup host");
    RestorePlan plan;
    plan.snapshot = names.dataset + "@" + snap->name;
    // Raw for an encrypted backup: the source decrypts with its own key, the backup host never
    // needs it. Otherwise as the pulls send: large blocks kept, blocks compressed as on disk,
    // embedded blocks embedded. Never -p or -R: no property of the backup (its readonly,
    // canmount, markers) reaches the source, and no other dataset.
    plan.raw = local.encrypted();
    const Argv flags = plan.raw ? Argv{"-w"} : Argv{"-L", "-c", "-e"};
    plan.send = {job.zfs, "send"};
    plan.send.insert(plan.send.end(), flags.begin(), flags.end());
    plan.send.insert(plan.send.end(), {"--", plan.snapshot});
    plan.estimate = {job.zfs, "send", "-n", "-v", "-P"};
    plan.estimate.insert(plan.estimate.end(), flags.begin(), flags.end());
    plan.estimate.insert(plan.estimate.end(), {"--", plan.snapshot});
    return plan;
}

std::string put_in_place_text(const RestoreNames& names, const RestorePlan& plan,
                              const std::string& host) {
    const std::string& r = names.remote;
    const std::string& o = names.original;
    auto cmd = [](const Argv& words) { return display(words) + "\n"; };
    std::string t;
    t += "# " + plan.snapshot + " is on " + host + " as " + r + ": read-only, not mounted,\n";
    t += "# canmount=noauto, setuid, exec and devices off, its mountpoint inherited from " +
         r.substr(0, r.rfind('/')) + ".\n";
    t += "# To put it in place of " + o + ", run these as root on " + host +
         " (zfs-puller runs none of them).\n";
    t += "# If " + o + " still exists, move it aside first (and destroy it once the restore is\n";
    t += "# checked; its children are not part of this restore):\n";
    t += "#   " + cmd({"zfs", "rename", o, o + ".before-restore"});
    if (plan.raw) {
        t += "# The stream was raw: " + r +
             " is encrypted with the source's key. Load it (asks for\n";
        t += "# the passphrase; with a key file: zfs load-key -L file:///PATH " + r + "):\n";
        t += cmd({"zfs", "load-key", r});
    }
    t += cmd({"zfs", "rename", r, o});
    for (const char* p : {"readonly", "setuid", "exec", "devices"})
        t += cmd({"zfs", "inherit", p, o});
    // canmount is not inheritable (zfs inherit refuses it): on is its default.
    t += cmd({"zfs", "set", "canmount=on", o});
    t += "# The mountpoint is inherited from " + o.substr(0, o.rfind('/')) + "; if " + o +
         " had its own, set it again:\n";
    t += "#   " + cmd({"zfs", "set", "mountpoint=/PATH", o});
    if (plan.raw)
        t += "#   and its key location: " + cmd({"zfs", "set", "keylocation=file:///PATH", o});
    t += "# (with mountpoint=legacy: mount -t zfs " + o + " /PATH instead of zfs mount)\n";
    t += cmd({"zfs", "mount", o});
    return t;
}

namespace {

class Restorer {
  public:
    Restorer(const JobConfig& job, const RestoreRequest& request, const RunOptions& opt,
             Progress& progress)
        : job_(job), request_(request), opt_(opt), progress_(progress),
          master_(remote_job_init(job)) {}

    int run() {
        const int code = run_inner();
        master_.stop();
        return code;
    }

  private:
    const JobConfig& job_;
    const RestoreRequest& request_;
    const RunOptions& opt_;
    Progress& progress_;
    SshMaster master_;
    TargetLock lock_;

    // The same source host, port and known_hosts; the restore identity's key and user.
    static JobConfig remote_job_init(const JobConfig& job) {
        JobConfig j = job;
        j.ssh_key = job.restore_ssh_key;
        if (!job.restore_user.empty()) j.user = job.restore_user;
        return j;
    }
    std::string host() const {
        return (job_.restore_user.empty() ? job_.user : job_.restore_user) + "@" + job_.host;
    }

    // Messages on stderr (messages.hpp), each naming the job and the restore.
    int fail(int code, const std::string& why) {
        log_error(job_.name + ": restore: " + why);
        return g_signal ? 128 + g_signal : code;
    }
    void info(const std::string& what) { log_info(job_.name + ": restore: " + what); }
    void trace(const std::string& what, int status) {
        log_debug(job_.name + ": restore: exit " + std::to_string(status) + ": " + what);
    }
    Captured local(const Argv& argv) {
        const CaptureLimits limits{16 << 20, 0, static_cast<double>(job_.stall_timeout)};
        Captured c = run_capture(argv, limits);
        trace("local: " + display(argv), c.status);
        return c;
    }
    std::optional<ProbeAnswer> probe(const std::string& remote) {
        const Rendered r = checked_render(restore_probe(remote));
        if (!r.ok()) return std::nullopt;
        const CaptureLimits limits{1 << 20, 0, static_cast<double>(job_.stall_timeout)};
        const Captured c = run_remote(master_, *r.text, limits);
        trace("remote: " + *r.text, c.status);
        return read_probe(c.status, c.out, c.err, remote);
    }

    int run_inner() {
        const RestoreNames names = restore_names(job_, request_);
        if (!names.error.empty()) return fail(exit_usage, names.error);
        // A pull of the same job must not prune the snapshot while it is being sent.
        if (!opt_.dry_run)
            if (const std::string e = lock_.acquire(job_.state_dir, job_.target); !e.empty())
                return fail(exit_job_failed, e);
        const Captured l = local(dataset_listing_argv(job_.zfs, names.dataset));
        if (l.status != 0)
            return says_missing(l.err)
                       ? fail(exit_usage, names.dataset + " does not exist on the backup host")
                       : fail(exit_job_failed,
                              "cannot list " + names.dataset + ": " + last_line(l.err));
        const InventoryResult inv = parse_listing(l.out, Listing::target);
        if (!inv.ok() || !inv.inventory->contains(names.dataset))
            return fail(exit_job_failed, "cannot read the listing of " + names.dataset + ": " +
                                             (inv.ok() ? "it is not in it" : inv.error));
        const Dataset& local_ds = inv.inventory->at(names.dataset);

        if (const std::string e = master_.start(); !e.empty()) return fail(exit_job_failed, e);
        const Rendered receive = checked_render(restore_receive(names.remote));
        const auto answer = probe(names.remote);
        if (!answer || !receive.ok())
            return fail(exit_internal, "internal error: the gatekeeper grammar rejects a restore "
                                       "command the puller built (" +
                                           receive.error + ")");
        const RestorePlan plan = plan_restore(job_, request_, names, local_ds, *answer);
        if (plan.exit_code != 0) return fail(plan.exit_code, plan.error);
        if (!plan.note.empty()) info(plan.note);

        if (opt_.dry_run) {
            std::printf("local: %s | remote: %s\n", display(plan.send).c_str(),
                        receive.text->c_str());
            std::fputs(put_in_place_text(names, plan, job_.host).c_str(), stdout);
            std::fflush(stdout);
            return exit_ok;
        }

        const Captured e = local(plan.estimate);
        const std::uint64_t estimate =
            e.status == 0 ? parse_estimate(e.out + "\n" + e.err).value_or(0) : 0;
        const Argv session = master_.session(*receive.text, true);
        const ReceiveArgv recv{session, session};
        StreamLimits limits;
        limits.stall_seconds = job_.stall_timeout;
        progress_.begin(job_.name, plan.snapshot, estimate);
        // The relay's sides, the other way round from a pull.
        const RelaySides sides{"local zfs send", "the source's zfs receive", "local zfs send"};
        const TransferResult t =
            relay(plan.send, recv, StreamExpect{names.dataset, DatasetKind::filesystem, 0},
                  progress_, limits, sides);
        trace("stream " + std::to_string(t.bytes) + " bytes: " + display(plan.send) + " | " +
                  *receive.text,
              t.ok ? 0 : (t.receive_status != 0 ? t.receive_status : t.send_status));
        if (!t.ok)
            return fail(
                exit_dataset_failed,
                "restore of " + plan.snapshot + " into " + host() + ":" + names.remote +
                    " failed: " + t.error +
                    (g_signal || t.interrupted ? "; run the same command again to resume it" : ""));
        // The source must now list it complete: no token left.
        const auto after = probe(names.remote);
        if (!after || after->state != ProbeAnswer::State::complete)
            return fail(exit_dataset_failed,
                        "after the stream, the source does not list " + names.remote +
                            " as a complete dataset" +
                            (after && !after->error.empty() ? ": " + after->error : ""));
        char summary[96];
        std::snprintf(summary, sizeof summary, " (%s in %.1f s)", human_bytes(t.bytes).c_str(),
                      t.seconds);
        info(std::string(plan.resume ? "resumed and completed " : "") + plan.snapshot + " -> " +
             host() + ":" + names.remote + summary);
        std::fputs(put_in_place_text(names, plan, job_.host).c_str(), stdout);
        std::fflush(stdout);
        return exit_ok;
    }
};

} // namespace

int run_restore(const JobConfig& job, const RestoreRequest& request, const RunOptions& options,
                Progress& progress) {
    return Restorer(job, request, options, progress).run();
}

} // namespace puller

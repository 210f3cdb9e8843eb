// `zfs-puller restore JOB DATASET[@SNAPSHOT] [--as NAME]`: one snapshot of the local backup back
// to the source, through the gatekeeper's restore identity, into RESTORE_ROOT/NAME (read-only,
// unmounted, a quarantine the source's administrator then puts in place by hand). The plan is
// pure (names, the probe's answer, the commands and the put-in-place text); run_restore() only
// carries it out. Nothing on the backup host is changed: its only local commands are zfs list
// and zfs send.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "grammar/invocation.hpp"
#include "puller/config.hpp"
#include "puller/inventory.hpp"
#include "puller/progress.hpp"
#include "puller/spawn.hpp"

namespace puller {

struct RestoreRequest {
    std::string job;
    std::string dataset;  // a dataset of the job's target side (the local backup)
    std::string snapshot; // "" = the newest on the local backup
    std::string as;       // "" = the last component of `dataset`
    bool operator==(const RestoreRequest&) const = default;
};

// "DS" or "DS@SNAP" from the command line into request.dataset / .snapshot; "" or an error.
std::string parse_restore_operand(std::string_view text, RestoreRequest& request);

// NAME of RESTORE_ROOT/NAME: one dataset name component, none of `/ @ #`, not `.` or `..`, not
// starting with `-`, the characters zfs allows. "" or why not.
std::string check_restore_name(std::string_view name);

// The names a restore works with, from the job and the request alone. `error` set (with
// exit_usage) when a name is wrong or the job has no restore settings.
struct RestoreNames {
    std::string dataset;  // local, below the job's target
    std::string remote;   // RESTORE_ROOT/NAME on the source
    std::string original; // where `dataset` came from on the source (the job's mapping)
    std::string error;
};
RestoreNames restore_names(const JobConfig& job, const RestoreRequest& request);

// The two remote commands of a restore (the gatekeeper's preset "restore" accepts exactly
// these): the probe for an unfinished restore, and the receive, which reads our stdin.
grammar::Invocation restore_probe(const std::string& remote);
grammar::Invocation restore_receive(const std::string& remote);

// The probe's answer: the dataset is absent, complete, or an unfinished receive with its token.
struct ProbeAnswer {
    enum class State { absent, complete, partial, failed };
    State state = State::failed;
    std::string token;
    std::string error; // State::failed: why, one line
};
// status/out/err of `zfs get -H -p -o name,value receive_resume_token -- REMOTE`.
ProbeAnswer read_probe(int status, const std::string& out, const std::string& err,
                       const std::string& remote);

// What run_restore does, decided from the local listing of the dataset (`zfs list -H -p -d 1 -t
// all -o <target_listing_columns> -- DS`, parsed) and the probe's answer.
struct RestorePlan {
    int exit_code = 0;    // job.hpp's ExitCode; not 0: `error` says why, nothing is sent
    std::string error;    // one line
    std::string snapshot; // DS@SNAP that is sent (or whose interrupted send is resumed)
    bool resume = false;  // zfs send -t TOKEN, the token from the source's probe
    bool raw = false;     // -w: the local backup is encrypted (or the resumed send was raw)
    Argv send;            // local zfs send
    Argv estimate;        // the same with -nvP
    std::string note;     // a remark for stderr ("" if none)
};
RestorePlan plan_restore(const JobConfig& job, const RestoreRequest& request,
                         const RestoreNames& names, const Dataset& local, const ProbeAnswer& probe);

// The commands a person runs as root on the source to put RESTORE_ROOT/NAME in place of the
// original (zfs-puller never runs them), with `#` comment lines around them: every line that
// does not start with `#` is one command.
std::string put_in_place_text(const RestoreNames& names, const RestorePlan& plan,
                              const std::string& host);

struct RunOptions;
// Runs the restore; exit status as job.hpp's ExitCode (or 128 + signal).
int run_restore(const JobConfig& job, const RestoreRequest& request, const RunOptions& options,
                Progress& progress);

} // namespace puller

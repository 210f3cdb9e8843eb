// Running one job: connect, list, plan, snapshot, send/receive, hold, prune, report. All the
// decisions are in plan.cpp and retention.cpp; this file only carries them out in order.
#pragma once

#include "puller/config.hpp"
#include "puller/progress.hpp"

namespace puller {

// Exit codes (documented in README.md and --help); a run exits with the most severe one.
enum ExitCode : int {
    exit_ok = 0,
    exit_dataset_failed = 1,
    exit_usage = 2,
    exit_refused = 3,
    exit_job_failed = 4,
    exit_internal = 5,
};

struct RunOptions {
    bool dry_run = false;
    bool verbose = false; // one stderr line per command with timings
};

// Runs the job; JSON summary lines go to stdout, errors and progress to stderr.
int run_job(const JobConfig& job, const RunOptions& options, Progress& progress);

// The more severe of two exit codes (internal > signal > job > dataset > refused > ok).
int worse(int a, int b);

} // namespace puller

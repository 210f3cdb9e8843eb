// `zfs-puller status`: from each job's state (state.hpp) to a verdict per dataset (ok, stale,
// failing, never) with the exit status monitoring plugins expect (0 ok, 1 warning, 2 critical),
// and its three renderings: a table, JSON, Prometheus text. Pure: "now" is a parameter.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ops/prometheus.hpp"
#include "puller/state.hpp"

namespace puller {

enum class Health { ok, stale, failing, never };
const char* health_name(Health h);

struct Thresholds {
    double warn_seconds = 26 * 3600; // a daily timer with some slack: one missed night warns
    double crit_seconds = 50 * 3600; // two missed nights are critical
};

// One job as the configuration names it and the state its last runs left (nullopt: no state
// file, or one that could not be read: `problem` says why).
struct JobStatusInput {
    std::string job;
    std::string source; // the job's source root dataset
    std::string target; // its target root
    std::optional<JobState> state;
    std::string problem;
};

struct StatusRow {
    std::string job, dataset;
    DatasetState state;
    Health health = Health::never;
    int severity = 2; // 0 ok, 1 warning, 2 critical
    std::string note; // why there is no state, when there is none
};

// One row per dataset of each job (its source root when it has no state yet), in job order,
// datasets by name.
std::vector<StatusRow> evaluate_status(const std::vector<JobStatusInput>& jobs,
                                       const Thresholds& limits, std::int64_t now);
// The most severe row's severity; 0 for no rows.
int status_exit_code(const std::vector<StatusRow>& rows);

std::string status_table(const std::vector<StatusRow>& rows, std::int64_t now);
std::string status_json(const std::vector<StatusRow>& rows, const Thresholds& limits,
                        std::int64_t now);
std::vector<ops::MetricFamily> status_metrics(const std::vector<StatusRow>& rows, std::int64_t now);

} // namespace puller

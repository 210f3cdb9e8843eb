// Status verdicts and their renderings. The age that counts is the last success's: a dataset
// that does not change gets no new sync snapshot (unless always_snapshot), so the newest common
// snapshot may be old on a healthy backup; it is shown, not judged.
#include "puller/status.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ops/time_text.hpp"
#include "puller/messages.hpp"
#include "puller/progress.hpp"

namespace puller {
namespace {

using nlohmann::ordered_json;

StatusRow judge(const std::string& job, const std::string& dataset, const DatasetState& d,
                const Thresholds& limits, std::int64_t now) {
    StatusRow r;
    r.job = job;
    r.dataset = dataset;
    r.state = d;
    if (d.last_attempt != 0 && !d.last_attempt_ok) {
        r.health = Health::failing;
        r.severity = 2;
    } else if (d.last_success == 0) {
        r.health = Health::never;
        r.severity = 2;
    } else {
        const auto age = static_cast<double>(now - d.last_success);
        r.health = age > limits.warn_seconds ? Health::stale : Health::ok;
        r.severity = age > limits.crit_seconds ? 2 : age > limits.warn_seconds ? 1 : 0;
    }
    return r;
}

std::string time_or_dash(std::int64_t t) {
    return t == 0 ? "-" : ops::format_rfc3339(static_cast<double>(t));
}
std::string age_or_dash(std::int64_t t, std::int64_t now) {
    return t == 0 ? "-" : ops::human_age(static_cast<double>(std::max<std::int64_t>(0, now - t)));
}

// What the last column says: the error of a failing dataset, why a job has no state.
std::string remark(const StatusRow& r) {
    if (!r.note.empty()) return r.note;
    if (r.health == Health::failing)
        return r.state.last_error + " (" + time_or_dash(r.state.last_error_time) + ")";
    return "-";
}

// Stored text is escaped already (state.cpp refuses a file with anything else), so it is shown
// as is; anything that is not printable after all is escaped here, for the terminal's sake.
std::string shown(const std::string& text) {
    const bool printable =
        std::all_of(text.begin(), text.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
    return printable ? text : escaped(text);
}

ordered_json time_json(std::int64_t t) {
    return t == 0 ? ordered_json(nullptr)
                  : ordered_json(ops::format_rfc3339(static_cast<double>(t)));
}

} // namespace

const char* health_name(Health h) {
    switch (h) {
    case Health::ok:
        return "ok";
    case Health::stale:
        return "stale";
    case Health::failing:
        return "failing";
    case Health::never:
        return "never";
    }
    return "never";
}

std::vector<StatusRow> evaluate_status(const std::vector<JobStatusInput>& jobs,
                                       const Thresholds& limits, std::int64_t now) {
    std::vector<StatusRow> rows;
    for (const auto& j : jobs) {
        if (!j.state || j.state->datasets.empty()) {
            StatusRow r = judge(j.job, j.source, DatasetState{}, limits, now);
            r.state.target = j.target;
            r.note = !j.problem.empty() ? j.problem : "no run has recorded a state yet";
            rows.push_back(std::move(r));
            continue;
        }
        for (const auto& [name, d] : j.state->datasets)
            rows.push_back(judge(j.job, name, d, limits, now));
    }
    return rows;
}

int status_exit_code(const std::vector<StatusRow>& rows) {
    int code = 0;
    for (const auto& r : rows)
        code = std::max(code, r.severity);
    return code;
}

std::string status_table(const std::vector<StatusRow>& rows, std::int64_t now) {
    std::vector<std::vector<std::string>> cells{{"JOB", "DATASET", "STATE", "LAST SUCCESS", "AGE",
                                                 "NEWEST SNAPSHOT", "ITS AGE", "LAST BYTES",
                                                 "LAST ERROR"}};
    for (const auto& r : rows) {
        const DatasetState& d = r.state;
        cells.push_back({r.job, r.dataset, health_name(r.health), time_or_dash(d.last_success),
                         age_or_dash(d.last_success, now),
                         d.newest_snapshot.empty() ? "-" : "@" + d.newest_snapshot,
                         age_or_dash(d.newest_snapshot_creation, now),
                         d.last_success == 0 ? "-" : human_bytes(d.last_transfer_bytes),
                         remark(r)});
    }
    std::vector<std::size_t> width(cells.front().size(), 0);
    for (auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i) {
            line[i] = shown(line[i]);
            width[i] = std::max(width[i], line[i].size());
        }
    std::string out;
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            text += line[i];
            if (i + 1 < line.size()) text += std::string(width[i] - line[i].size() + 2, ' ');
        }
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
        out += text + "\n";
    }
    return out;
}

std::string status_json(const std::vector<StatusRow>& rows, const Thresholds& limits,
                        std::int64_t now) {
    ordered_json j;
    j["time"] = ops::format_rfc3339(static_cast<double>(now));
    j["warn_seconds"] = limits.warn_seconds;
    j["crit_seconds"] = limits.crit_seconds;
    j["exit"] = status_exit_code(rows);
    ordered_json list = ordered_json::array();
    for (const auto& r : rows) {
        const DatasetState& d = r.state;
        ordered_json e;
        e["job"] = r.job;
        e["dataset"] = r.dataset;
        e["target"] = d.target;
        e["state"] = health_name(r.health);
        e["severity"] = r.severity;
        e["last_success"] = time_json(d.last_success);
        e["age_seconds"] =
            d.last_success == 0 ? ordered_json(nullptr) : ordered_json(now - d.last_success);
        e["last_attempt"] = time_json(d.last_attempt);
        e["newest_snapshot"] =
            d.newest_snapshot.empty() ? ordered_json(nullptr) : ordered_json(d.newest_snapshot);
        e["newest_snapshot_creation"] = time_json(d.newest_snapshot_creation);
        e["last_transfer_bytes"] = d.last_transfer_bytes;
        e["last_error"] = d.last_error.empty() ? ordered_json(nullptr) : ordered_json(d.last_error);
        e["last_error_time"] = time_json(d.last_error_time);
        if (!r.note.empty()) e["note"] = r.note;
        list.push_back(std::move(e));
    }
    j["datasets"] = std::move(list);
    return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace) + "\n";
}

std::vector<ops::MetricFamily> status_metrics(const std::vector<StatusRow>& rows,
                                              std::int64_t now) {
    auto family = [](const char* name, const char* help) {
        return ops::MetricFamily{name, help, "gauge", {}};
    };
    auto success = family("zfs_puller_last_success_timestamp_seconds",
                          "When the dataset last became up to date on the target (0: never).");
    auto attempt = family("zfs_puller_last_attempt_timestamp_seconds",
                          "When a run last tried to pull the dataset (0: never).");
    auto newest = family("zfs_puller_newest_common_snapshot_timestamp_seconds",
                         "Creation of the newest snapshot source and target share, on the "
                         "source's clock (0: unknown).");
    auto bytes = family("zfs_puller_last_transfer_bytes",
                        "Bytes received for the dataset by the last run that moved any.");
    auto failing = family("zfs_puller_failing", "1 when the last attempt for the dataset failed.");
    auto state = family("zfs_puller_state",
                        "The dataset's status (ok, stale, failing, never): 1 for the current one.");
    auto severity = family("zfs_puller_status_severity",
                           "What zfs-puller status exits with for the dataset: 0 ok, 1 warning, "
                           "2 critical.");
    for (const auto& r : rows) {
        const std::vector<std::pair<std::string, std::string>> labels{{"job", r.job},
                                                                      {"dataset", r.dataset}};
        const DatasetState& d = r.state;
        success.samples.push_back({labels, static_cast<double>(d.last_success)});
        attempt.samples.push_back({labels, static_cast<double>(d.last_attempt)});
        newest.samples.push_back({labels, static_cast<double>(d.newest_snapshot_creation)});
        bytes.samples.push_back({labels, static_cast<double>(d.last_transfer_bytes)});
        failing.samples.push_back({labels, r.health == Health::failing ? 1.0 : 0.0});
        for (const Health h : {Health::ok, Health::stale, Health::failing, Health::never}) {
            auto with_state = labels;
            with_state.emplace_back("state", health_name(h));
            state.samples.push_back({with_state, r.health == h ? 1.0 : 0.0});
        }
        severity.samples.push_back({labels, static_cast<double>(r.severity)});
    }
    auto written =
        family("zfs_puller_status_timestamp_seconds", "When zfs-puller wrote these metrics.");
    written.samples.push_back({{}, static_cast<double>(now)});
    return {success, attempt, newest, bytes, failing, state, severity, written};
}

} // namespace puller

// Prometheus text exposition format (version 0.0.4), as node-exporter's textfile collector
// reads it: one HELP and TYPE line per family, then its samples. Pure: values in, text out.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ops {

struct Sample {
    std::vector<std::pair<std::string, std::string>> labels; // name, value (any bytes)
    double value = 0;
};

struct MetricFamily {
    std::string name; // [a-zA-Z_:][a-zA-Z0-9_:]*, e.g. zfs_puller_last_success_timestamp_seconds
    std::string help;
    std::string type; // "gauge" or "counter"
    std::vector<Sample> samples;
};

// The exposition text of the families, in order. Label values are escaped (\\, \", \n) and
// values written as Prometheus reads them (integers without a fraction, NaN, +Inf, -Inf).
std::string render_exposition(const std::vector<MetricFamily>& families);

// A metric or label name Prometheus accepts.
bool is_metric_name(const std::string& name);
bool is_label_name(const std::string& name);

} // namespace ops

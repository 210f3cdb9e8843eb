// Prometheus text exposition: the escaping rules of the format (label values: backslash,
// double quote, line feed; HELP text: backslash, line feed) and its number spellings.
#include "ops/prometheus.hpp"

#include <cmath>
#include <cstdio>

namespace ops {
namespace {

std::string escaped(const std::string& text, bool quotes) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (c == '"' && quotes)
            out += "\\\"";
        else
            out += c;
    }
    return out;
}

std::string number(double v) {
    if (std::isnan(v)) return "NaN";
    if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
    char buf[40];
    // Whole numbers as integers (timestamps, counts); the cast is exact below 2^53.
    if (v > -1e15 && v < 1e15 && v == static_cast<double>(static_cast<long long>(v)))
        std::snprintf(buf, sizeof buf, "%.0f", v);
    else
        std::snprintf(buf, sizeof buf, "%.17g", v);
    return buf;
}

bool name_chars(const std::string& name, bool colon) {
    if (name.empty()) return false;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter =
            (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

} // namespace

bool is_metric_name(const std::string& name) {
    return name_chars(name, true);
}
bool is_label_name(const std::string& name) {
    return name_chars(name, false) && !name.starts_with("__");
}

std::string render_exposition(const std::vector<MetricFamily>& families) {
    std::string out;
    for (const auto& f : families) {
        out += "# HELP " + f.name + " " + escaped(f.help, false) + "\n";
        out += "# TYPE " + f.name + " " + f.type + "\n";
        for (const auto& s : f.samples) {
            out += f.name;
            if (!s.labels.empty()) {
                out += '{';
                for (std::size_t i = 0; i < s.labels.size(); ++i) {
                    if (i > 0) out += ',';
                    out += s.labels[i].first + "=\"" + escaped(s.labels[i].second, true) + '"';
                }
                out += '}';
            }
            out += ' ' + number(s.value) + '\n';
        }
    }
    return out;
}

} // namespace ops

// A small checker of the Prometheus text exposition format (0.0.4), written from the format's
// description, independent of ops/prometheus.cpp: what the tests parse our metrics back with.
// Returns "" when the text is valid, else the first problem with its line number.
#pragma once

#include <cstdlib>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace test_support {

struct ParsedSample {
    std::string name;
    std::map<std::string, std::string> labels; // unescaped values
    double value = 0;
};

inline bool exposition_name(const std::string& s, bool colon) {
    if (s.empty()) return false;
    for (std::size_t i = 0; i < s.size(); ++i) {
        const char c = s[i];
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
                        (colon && c == ':') || (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

inline std::string check_exposition(const std::string& text,
                                    std::vector<ParsedSample>* out = nullptr) {
    if (!text.empty() && text.back() != '\n') return "the text does not end with a newline";
    std::istringstream in(text);
    std::string line, current;
    std::set<std::string> seen;
    std::map<std::string, std::string> types;
    int n = 0;
    const auto fail = [&](const std::string& why) {
        return "line " + std::to_string(n) + ": " + why;
    };
    while (std::getline(in, line)) {
        ++n;
        if (line.empty()) continue;
        if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
            std::istringstream words(line.substr(7));
            std::string name, rest;
            words >> name;
            std::getline(words, rest);
            if (!exposition_name(name, true)) return fail("bad metric name '" + name + "'");
            if (line.starts_with("# TYPE ")) {
                const std::string type = rest.empty() ? "" : rest.substr(1);
                if (type != "counter" && type != "gauge" && type != "histogram" &&
                    type != "summary" && type != "untyped")
                    return fail("bad type '" + type + "'");
                if (types.count(name)) return fail("second TYPE for " + name);
                if (seen.count(name)) return fail("TYPE after samples of " + name);
                types[name] = type;
                current = name;
            } else {
                for (std::size_t i = 0; i < rest.size(); ++i) {
                    if (rest[i] != '\\') continue;
                    if (i + 1 >= rest.size() || (rest[i + 1] != '\\' && rest[i + 1] != 'n'))
                        return fail("bad escape in HELP");
                    ++i; // the escaped character
                }
            }
            continue;
        }
        if (line[0] == '#') continue;
        ParsedSample s;
        std::size_t i = 0;
        while (i < line.size() && line[i] != '{' && line[i] != ' ')
            ++i;
        s.name = line.substr(0, i);
        if (!exposition_name(s.name, true)) return fail("bad metric name '" + s.name + "'");
        if (!types.count(s.name)) return fail("sample of " + s.name + " without a TYPE");
        if (s.name != current) return fail("sample of " + s.name + " outside its family");
        if (i < line.size() && line[i] == '{') {
            ++i;
            while (i < line.size() && line[i] != '}') {
                const std::size_t eq = line.find('=', i);
                if (eq == std::string::npos) return fail("label without '='");
                const std::string label = line.substr(i, eq - i);
                if (!exposition_name(label, false) || label.starts_with("__"))
                    return fail("bad label name '" + label + "'");
                if (eq + 1 >= line.size() || line[eq + 1] != '"')
                    return fail("label value not quoted");
                std::string value;
                std::size_t j = eq + 2;
                for (; j < line.size() && line[j] != '"'; ++j) {
                    if (line[j] == '\\') {
                        if (j + 1 >= line.size()) return fail("dangling backslash");
                        const char e = line[++j];
                        if (e == 'n')
                            value += '\n';
                        else if (e == '\\' || e == '"')
                            value += e;
                        else
                            return fail("bad escape in a label value");
                    } else {
                        value += line[j];
                    }
                }
                if (j >= line.size()) return fail("unterminated label value");
                if (s.labels.count(label)) return fail("label " + label + " twice");
                s.labels[label] = value;
                i = j + 1;
                if (i < line.size() && line[i] == ',') ++i;
            }
            if (i >= line.size()) return fail("unterminated label set");
            ++i;
        }
        if (i >= line.size() || line[i] != ' ') return fail("no value");
        const std::string value = line.substr(i + 1);
        if (value != "NaN" && value != "+Inf" && value != "-Inf") {
            char* end = nullptr;
            s.value = std::strtod(value.c_str(), &end);
            if (value.empty() || *end != '\0') return fail("value '" + value + "' is not a number");
        }
        seen.insert(s.name);
        if (out != nullptr) out->push_back(s);
    }
    return "";
}

} // namespace test_support

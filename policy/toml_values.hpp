// Typed reads of toml++ nodes for the strict loaders (policy_file.cpp, puller/config.cpp): each
// either returns the value or throws load_error with "line N: <what> must be ...".
#pragma once

#include <cstdint>
#include <string>
#include <toml++/toml.h>
#include <vector>

namespace toml_values {

struct load_error {
    std::string message;
};

// "line N: msg" (the node's line, when toml++ knows it).
[[noreturn]] void fail(const toml::node& n, const std::string& msg);

// A string of printable ASCII only (values end up in argv, paths and ssh options).
std::string get_string(const toml::node& n, const std::string& what);
std::vector<std::string> get_strings(const toml::node& n, const std::string& what);
bool get_bool(const toml::node& n, const std::string& what);
std::int64_t get_int(const toml::node& n, const std::string& what, std::int64_t lo,
                     std::int64_t hi);

} // namespace toml_values

#include "policy/toml_values.hpp"

#include <algorithm>

namespace toml_values {

void fail(const toml::node& n, const std::string& msg) {
    const auto& src = n.source();
    throw load_error{(src.begin ? "line " + std::to_string(src.begin.line) + ": " : "") + msg};
}

std::string get_string(const toml::node& n, const std::string& what) {
    const auto* s = n.as_string();
    if (s == nullptr) fail(n, what + " must be a string");
    const auto printable = [](char c) { return c >= 0x20 && c <= 0x7e; };
    if (!std::all_of(s->get().begin(), s->get().end(), printable))
        fail(n, what + " must be printable ASCII");
    return s->get();
}

std::vector<std::string> get_strings(const toml::node& n, const std::string& what) {
    const auto* a = n.as_array();
    if (a == nullptr) fail(n, what + " must be a list of strings");
    std::vector<std::string> out;
    for (const auto& e : *a)
        out.push_back(get_string(e, what));
    return out;
}

bool get_bool(const toml::node& n, const std::string& what) {
    const auto* b = n.as_boolean();
    if (b == nullptr) fail(n, what + " must be true or false");
    return b->get();
}

std::int64_t get_int(const toml::node& n, const std::string& what, std::int64_t lo,
                     std::int64_t hi) {
    const auto* i = n.as_integer();
    if (i == nullptr) fail(n, what + " must be an integer");
    if (i->get() < lo || i->get() > hi)
        fail(n, what + " must be between " + std::to_string(lo) + " and " + std::to_string(hi));
    return i->get();
}

} // namespace toml_values

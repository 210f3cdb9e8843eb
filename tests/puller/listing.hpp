// Test helpers for the puller suites: listings written the way `zfs list -H -p` prints them.
#pragma once

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "puller/inventory.hpp"

namespace puller_test {

// One `name type guid createtxg origin encryption written` line.
inline std::string row(const std::string& name, const std::string& type, std::uint64_t guid,
                       std::uint64_t txg, const std::string& origin = "-",
                       const std::string& enc = "off", const std::string& written = "0") {
    return name + "\t" + type + "\t" + std::to_string(guid) + "\t" + std::to_string(txg) + "\t" +
           origin + "\t" + enc + "\t" + written + "\n";
}
inline std::string fs(const std::string& name, std::uint64_t guid, std::uint64_t txg,
                      std::uint64_t written = 0, const std::string& origin = "-",
                      const std::string& enc = "off") {
    return row(name, "filesystem", guid, txg, origin, enc, std::to_string(written));
}
inline std::string vol(const std::string& name, std::uint64_t guid, std::uint64_t txg,
                       std::uint64_t written = 0) {
    return row(name, "volume", guid, txg, "-", "off", std::to_string(written));
}
inline std::string snap(const std::string& name, std::uint64_t guid, std::uint64_t txg,
                        std::uint64_t written = 1000) {
    return row(name, "snapshot", guid, txg, "-", "off", std::to_string(written));
}
inline std::string bm(const std::string& name, std::uint64_t guid, std::uint64_t txg) {
    return row(name, "bookmark", guid, txg, "-", "off", "-");
}

inline puller::Inventory inventory(const std::string& text) {
    const auto r = puller::parse_listing(text);
    REQUIRE_MESSAGE(r.ok(), r.error);
    return *r.inventory;
}

} // namespace puller_test

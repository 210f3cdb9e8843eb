// A private temporary directory for a test, and what it holds: for the tests of atomic file
// replacement (no temporary file may be left beside the result). Test code only.
#pragma once

#include <cstdlib>
#include <dirent.h>
#include <string>
#include <vector>

#include <doctest/doctest.h>

namespace test_support {

// /tmp/<prefix>.XXXXXX, made with mkdtemp (mode 0700).
inline std::string make_temp_dir(const std::string& prefix) {
    std::string path = "/tmp/" + prefix + ".XXXXXX";
    REQUIRE(::mkdtemp(path.data()) != nullptr);
    return path;
}

// The names in `dir`, without . and ..
inline std::vector<std::string> directory_entries(const std::string& dir) {
    std::vector<std::string> out;
    DIR* d = ::opendir(dir.c_str());
    REQUIRE(d != nullptr);
    while (const dirent* e = ::readdir(d))
        if (std::string(e->d_name) != "." && std::string(e->d_name) != "..")
            out.push_back(e->d_name);
    ::closedir(d);
    return out;
}

} // namespace test_support

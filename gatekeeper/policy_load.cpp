// Policy file checks in the order doas and sshd use: open without following a final symlink,
// then fstat the open fd (no check-then-open race), then read at most max_policy_bytes.
#include "gatekeeper/policy_load.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace gatekeeper {
namespace {
constexpr off_t max_policy_bytes = 1 << 20;
}

policy::PolicyResult load_policy_file(const std::string& path, bool allow_own) {
    policy::PolicyResult r;
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        r.error = "cannot open policy " + path + ": " + std::strerror(errno);
        return r;
    }
    struct stat st {};
    std::string text;
    if (::fstat(fd, &st) != 0) {
        r.error = "cannot stat policy " + path + ": " + std::strerror(errno);
    } else if (!S_ISREG(st.st_mode)) {
        r.error = "policy " + path + " is not a regular file";
    } else if (st.st_uid != 0 && !(allow_own && st.st_uid == ::getuid())) {
        r.error = "policy " + path + " must be owned by root";
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
        r.error = "policy " + path + " must not be group or world writable";
    } else if (st.st_size > max_policy_bytes) {
        r.error = "policy " + path + " is larger than 1 MiB";
    } else {
        text.resize(static_cast<std::size_t>(st.st_size));
        std::size_t got = 0;
        while (got < text.size()) {
            const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) break;
            got += static_cast<std::size_t>(n);
        }
        if (got != text.size()) r.error = "cannot read policy " + path;
    }
    ::close(fd);
    if (!r.error.empty()) return r;
    r = policy::parse_policy(text);
    if (!r.ok()) r.error = path + ": " + r.error;
    return r;
}

} // namespace gatekeeper

// zfs-puller entry point: makes the process safe to run (fds 0-2 open, private umask), then runs
// the program (puller/app.cpp).
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "puller/app.hpp"
#include "puller/job.hpp"
#include "zg_config.hpp"

namespace {

// fds 0-2 must be open so that no file we open becomes "stdout" by accident.
bool sane_stdio() {
    for (int fd = 0; fd <= 2; ++fd) {
        if (::fcntl(fd, F_GETFD) == -1 && ::open("/dev/null", O_RDWR) != fd) return false;
    }
    return true;
}

} // namespace

int main(int argc, char** argv) {
    if (!sane_stdio()) return puller::exit_usage;
    ::umask(077);
    return puller::run_program(std::vector<std::string>(argv + 1, argv + argc), ZG_VERSION);
}

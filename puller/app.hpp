// The whole zfs-puller program behind main(): options, configuration, then each job in turn.
// A function of its own so that tests can run the real program in a child process against a
// fake ssh and zfs; main() only prepares the process (stdio, umask) and calls it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace puller {

// args without argv[0]; returns the exit status (job.hpp's ExitCode, or 128 + a signal).
int run_program(const std::vector<std::string>& args, std::string_view version);

} // namespace puller

// Live-check queries: at most a few per session (a resume send has one or two), so they run
// one after the other before the decision record is written.
#include "gatekeeper/live_checks_query.hpp"

#include "gatekeeper/supervisor.hpp"
#include "policy/live_checks.hpp"

namespace gatekeeper {
namespace {
// A fromguid search lists every guid below one identity dataset: one line of at most 21
// bytes per dataset, snapshot and bookmark. 64 MiB is millions of them; beyond that the
// answer is cut, and a cut answer denies.
constexpr std::size_t max_answer_bytes = 64u << 20;
} // namespace

std::vector<std::optional<std::string>> query_live_checks(const policy::Decision& decision,
                                                          const std::string& zfs_path,
                                                          const Sandbox& sandbox) {
    std::vector<std::optional<std::string>> answers;
    if (const policy::Run* run = decision.run())
        for (const auto& check : run->live_checks)
            answers.push_back(capture_output(policy::live_check_argv(check, zfs_path), sandbox,
                                             max_answer_bytes));
    return answers;
}

} // namespace gatekeeper

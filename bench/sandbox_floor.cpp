// The sandbox floor: what the gatekeeper's own sandbox and supervisor cost with nothing else.
// Linked like zfs-gatekeeper (libc shared, the rest static, PIE), it runs its arguments as the
// `zfs` program exactly as a served command runs: start-up hygiene, prepare_sandbox, then
// run_plan (supervisor filter, capability drop, Landlock fence, seccomp filter, execve, wait).
// No policy, no grammar, no decision, no audit record. bench/run-overhead places it between the
// static floor and the gatekeeper, so the gap splits into what linking and the mandated sandbox
// steps cost and what the gatekeeper's own work (policy, parse, decide, two records) costs.
#include <map>
#include <string>

#include "gatekeeper/process_hygiene.hpp"
#include "gatekeeper/sandbox.hpp"
#include "gatekeeper/supervisor.hpp"

int main(int argc, char** argv) {
    if (argc < 2 || !gatekeeper::sanitize_process()) return 2;
    gatekeeper::Sandbox sandbox = gatekeeper::prepare_sandbox({{"zfs", argv[1]}});
    if (!sandbox.error.empty()) return 126;
    const policy::ExecPlan plan{{.stages = {policy::Argv(argv + 1, argv + argc)}}};
    return gatekeeper::run_plan(plan, sandbox).exit_status;
}

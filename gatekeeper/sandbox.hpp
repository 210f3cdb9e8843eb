// The sandbox every started stage enters between fork and execve: capabilities dropped,
// no_new_privs, then the seccomp filter last (house-style decision 5). Prepared in the parent
// (allocation, filter compilation) so the child only makes a few syscalls.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace gatekeeper {

struct Sandbox {
    bool running_as_root = false;
    std::string error;        // preparation failed: every stage start fails closed
};

Sandbox prepare_sandbox();

// In the child. Any failure _exits (a partial drop is never recovered).
void enter_sandbox(const Sandbox& sandbox) noexcept;

// What the outcome record says about the sandbox that was applied.
nlohmann::json describe_sandbox(const Sandbox& sandbox);

}  // namespace gatekeeper

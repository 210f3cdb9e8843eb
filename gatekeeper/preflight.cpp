// Resume-token pre-flight: one read-only `zfs get -H -p -o value guid -- <toname>` per token,
// with argv built here from the decoded (and scope-checked) name.
#include "gatekeeper/preflight.hpp"

#include <charconv>

#include "policy/resume_token.hpp"

namespace gatekeeper {

std::string check_resume_tokens(const policy::Decision& decision, const std::string& zfs_path,
                                const ChildSetup& setup) {
    for (const auto& pipeline : decision.effective.pipelines) {
        for (const auto& stage : pipeline.stages) {
            const auto* send = std::get_if<grammar::ZfsSend>(&stage);
            if (send == nullptr) continue;
            const auto* resume = std::get_if<grammar::SendResume>(&send->source);
            if (resume == nullptr) continue;
            const auto token = policy::decode_resume_token(resume->token);
            if (!token.ok() || !token.token->toguid) return "resume token no longer decodes";
            std::string out;
            if (!capture_output(
                    {zfs_path, "get", "-H", "-p", "-o", "value", "guid", "--", token.token->toname},
                    setup, out))
                return "resume token names a snapshot that does not exist";
            while (!out.empty() && (out.back() == '\n' || out.back() == ' '))
                out.pop_back();
            std::uint64_t guid = 0;
            const auto [p, ec] = std::from_chars(out.data(), out.data() + out.size(), guid);
            if (ec != std::errc() || p != out.data() + out.size())
                return "cannot read the guid of the resume token's snapshot";
            if (guid != *token.token->toguid)
                return "resume token's toguid is not the guid of its toname";
        }
    }
    return "";
}

} // namespace gatekeeper

// Live checks. libzfs resolves a resume token's toguid and fromguid to names itself
// (guid_to_name in libzfs_sendrecv.c: the dataset of toname and its descendants first, then
// each parent's subtree in turn), so the names in the token prove nothing on their own. A
// restore's target must not exist, which only the live system knows.
#include "policy/live_checks.hpp"

#include <charconv>
#include <cstdint>
#include <type_traits>

namespace policy {
namespace {

std::optional<std::uint64_t> parse_guid(std::string_view text) {
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    std::uint64_t guid = 0;
    const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), guid);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size()) return std::nullopt;
    return guid;
}

// Whether one of the output's lines is exactly `word`.
bool has_line(std::string_view output, std::string_view word) {
    while (!output.empty()) {
        const auto nl = output.find('\n');
        if (output.substr(0, nl) == word) return true;
        output = nl == std::string_view::npos ? "" : output.substr(nl + 1);
    }
    return false;
}

// The rule a failing check denies under.
std::string rule_of(const LiveCheck& check) {
    return std::holds_alternative<RestoreTargetFree>(check) ? "restore-target-exists"
                                                            : "resume-token-preflight";
}

// "" when the check holds, else why not.
std::string judge(const LiveCheck& check, const std::optional<std::string>& output) {
    return std::visit(
        [&](const auto& c) -> std::string {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, RestoreTargetFree>) {
                // "NAME\tTOKEN" per dataset; "-" is no token: a complete dataset.
                if (!output) return "cannot list the datasets below " + c.root;
                if (has_line(*output, c.dataset + "\t-"))
                    return "restore target " + c.dataset +
                           " exists; a restore never receives into an existing dataset";
                return "";
            } else if constexpr (std::is_same_v<T, SnapshotHasGuid>) {
                if (!output) return "resume token names a snapshot that does not exist";
                const auto guid = parse_guid(*output);
                if (!guid) return "cannot read the guid of the resume token's snapshot";
                if (*guid != c.guid) return "resume token's toguid is not the guid of its toname";
                return "";
            } else {
                // One guid per line: every dataset, snapshot and bookmark below the root. A
                // match there is what libzfs finds before it ever leaves the root's subtree.
                if (!output) return "cannot list the guids below " + c.root;
                if (has_line(*output, std::to_string(c.guid))) return "";
                return "resume token's fromguid is no snapshot or bookmark below " + c.root;
            }
        },
        check);
}

} // namespace

Argv live_check_argv(const LiveCheck& check, const std::string& zfs_path) {
    return std::visit(
        [&](const auto& c) -> Argv {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, SnapshotHasGuid>)
                return {zfs_path, "get", "-H", "-p", "-o", "value", "guid", "--", c.snapshot};
            else if constexpr (std::is_same_v<T, RestoreTargetFree>)
                return {zfs_path, "list", "-H",
                        "-p",     "-o",   "name,receive_resume_token",
                        "-r",     "-t",   "filesystem,volume",
                        "--",     c.root};
            else
                return {zfs_path, "list", "-H",
                        "-p",     "-o",   "guid",
                        "-r",     "-t",   "filesystem,volume,snapshot,bookmark",
                        "--",     c.root};
        },
        check);
}

Decision confirm(Decision decision, const std::vector<std::optional<std::string>>& outputs) {
    const Run* run = decision.run();
    if (run == nullptr) return decision;
    std::string why, rule = "live-checks";
    if (outputs.size() != run->live_checks.size()) why = "live checks were not all answered";
    for (std::size_t i = 0; why.empty() && i < outputs.size(); ++i) {
        why = judge(run->live_checks[i], outputs[i]);
        rule = rule_of(run->live_checks[i]);
    }
    if (why.empty()) return decision;
    decision.rule = rule;
    decision.verdict = Denied{why};
    return decision;
}

} // namespace policy

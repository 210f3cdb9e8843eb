// Live checks of resume tokens. libzfs resolves a token's toguid and fromguid to names itself
// (guid_to_name in libzfs_sendrecv.c: the dataset of toname and its descendants first, then
// each parent's subtree in turn), so the names in the token prove nothing on their own.
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

// "" when the check holds, else why not.
std::string judge(const LiveCheck& check, const std::optional<std::string>& output) {
    return std::visit(
        [&](const auto& c) -> std::string {
            using T = std::decay_t<decltype(c)>;
            if constexpr (std::is_same_v<T, SnapshotHasGuid>) {
                if (!output) return "resume token names a snapshot that does not exist";
                const auto guid = parse_guid(*output);
                if (!guid) return "cannot read the guid of the resume token's snapshot";
                if (*guid != c.guid) return "resume token's toguid is not the guid of its toname";
                return "";
            } else {
                // One guid per line: every dataset, snapshot and bookmark below the root. A
                // match there is what libzfs finds before it ever leaves the root's subtree.
                if (!output) return "cannot list the guids below " + c.root;
                std::string_view rest = *output;
                while (!rest.empty()) {
                    const auto nl = rest.find('\n');
                    if (parse_guid(rest.substr(0, nl)) == c.guid) return "";
                    rest = nl == std::string_view::npos ? "" : rest.substr(nl + 1);
                }
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
    std::string why;
    if (outputs.size() != run->live_checks.size()) why = "live checks were not all answered";
    for (std::size_t i = 0; why.empty() && i < outputs.size(); ++i)
        why = judge(run->live_checks[i], outputs[i]);
    if (why.empty()) return decision;
    decision.rule = "resume-token-preflight";
    decision.verdict = Denied{why};
    return decision;
}

} // namespace policy

// libFuzzer harness for resume tokens. Every input is tried twice: as token text (what
// `zfs send -t` carries), and as a packed nvlist wrapped into an honest token (zlib, size,
// fletcher4, as the kernel makes them), so the fuzzer reaches the nvlist reader without
// having to forge checksums. A decoded token must re-encode to the same fields, and decide()
// may only allow `zfs send -t` for a token inside the identity's scope with none of the refused
// fields. Links the policy library (and zlib, for the test-only encoder) only.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz/fixed_policy.hpp"
#include "fuzz/fuzz_check.hpp"
#include "grammar/parse.hpp"
#include "policy/decide.hpp"
#include "policy/resume_token.hpp"
#include "tests/policy/nvlist_builder.hpp"

namespace {

using fuzz::require;

bool same_fields(const policy::ResumeToken& a, const policy::ResumeToken& b) {
    return a.version == b.version && a.toname == b.toname && a.fromguid == b.fromguid &&
           a.toguid == b.toguid && a.object == b.object && a.offset == b.offset &&
           a.bytes == b.bytes && a.embedok == b.embedok && a.largeblockok == b.largeblockok &&
           a.compressok == b.compressok && a.rawok == b.rawok && a.savedok == b.savedok &&
           a.redact_snaps == b.redact_snaps && a.book_redact_snaps == b.book_redact_snaps &&
           a.unknown_fields == b.unknown_fields;
}

void check_token(const std::string& text) {
    const policy::TokenResult r = policy::decode_resume_token(text);
    if (!r.ok()) {
        require(!r.message.empty() && policy::to_string(r.error) != "unknown",
                "token refused without a reason");
        return;
    }
    const policy::ResumeToken& t = *r.token;
    require(t.version == 1, "decoded token of another version");
    require(!t.toname.empty() && t.toname.size() <= 255 && t.toname.find('\0') == std::string::npos,
            "decoded toname empty, too long or with a NUL", t.toname);

    // The decoded fields are exactly what the token carries: encoding them again the kernel's
    // way decodes to the same fields (unknown fields have no value to re-encode).
    if (t.unknown_fields.empty()) {
        policy::test::TokenSpec spec;
        spec.toname = t.toname;
        spec.fromguid = t.fromguid;
        spec.toguid = t.toguid;
        spec.object = t.object;
        spec.offset = t.offset;
        spec.bytes = t.bytes;
        spec.embedok = t.embedok;
        spec.largeblockok = t.largeblockok;
        spec.compressok = t.compressok;
        spec.rawok = t.rawok;
        spec.savedok = t.savedok;
        spec.redact_snaps = t.redact_snaps;
        spec.book_redact_snaps = t.book_redact_snaps;
        const policy::TokenResult again =
            policy::decode_resume_token(policy::test::kernel_token(spec));
        require(again.ok() && same_fields(*again.token, t), "re-encoded token decodes differently",
                text);
    }

    // Validation: what decide() lets through for `zfs send -t`.
    const auto parsed = grammar::parse_command("zfs send -t " + text);
    if (!parsed.ok()) return;
    const policy::Policy& pol = fuzz::fixed_policy();
    for (const char* name : fuzz::identity_names) {
        const policy::IdentityPolicy& id = pol.identities.at(name);
        const policy::Decision d = policy::decide(*parsed.invocation, id, pol.programs);
        if (!d.allowed()) {
            require(d.argv().empty(), "denied token send carries an argv");
            continue;
        }
        const std::string dataset = t.toname.substr(0, t.toname.find('@'));
        require(t.toname.find('@') != std::string::npos && policy::in_scope(dataset, id),
                "token outside the identity's scope allowed", t.toname);
        require(t.toguid.has_value(), "token without toguid allowed", t.toname);
        require(!id.raw_only || t.rawok, "non-raw token allowed for a raw-only identity", t.toname);
        require(!t.savedok && !t.redact_snaps && !t.book_redact_snaps && t.unknown_fields.empty(),
                "token with a refused field allowed", t.toname);
        require(d.argv().size() == 1 && d.argv()[0].size() == 1 && d.argv()[0][0].back() == text,
                "allowed token send does not pass exactly the token", text);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_token(std::string(reinterpret_cast<const char*>(data), size));
    if (size <= policy::max_packed_size) {
        const policy::test::ByteVec packed(data, data + size);
        check_token(policy::test::token_from_packed(packed));
    }
    return 0;
}

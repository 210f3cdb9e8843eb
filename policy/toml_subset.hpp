// The small part of TOML a policy file is written in, checked before toml++ sees the text.
//
// toml++ 3.3 (Debian 12) trusts its own preconditions: fuzz/fuzz_policy found input on which it
// aborts on an assertion, or, built with NDEBUG, reaches __builtin_assume/unreachable
// (undefined behaviour): table headers starting with a character that cannot start a key
// (marzer/tomlplusplus#301), a `}` in an array's value position, many non-ASCII code points
// (#295). Refusing each such finding one by one leaves the next one to the fuzzer, so the
// loader accepts only the subset below, which is all a policy needs, and toml++ parses
// nothing else:
//
//   file    = *( blank [ header / key-val ] blank [ comment ] newline )
//   header  = "[" blank key *( blank "." blank key ) blank "]"
//   key-val = key blank "=" blank value
//   key     = bare-key / string
//   value   = string / "true" / "false" / list / integer   (integer: only if allowed)
//   integer = 1*DIGIT                                      (zfs-puller's config: ports, counts)
//   list    = "[" *gap [ string *gap *( "," *gap string *gap ) [ "," *gap ] ] "]"
//   string  = DQUOTE *( printable / "\" DQUOTE / "\\" ) DQUOTE / "'" *printable "'"
//   gap     = blank / comment / newline
//
// Printable ASCII, tab and "\n" or "\r\n" line ends only; no inline tables, arrays of tables,
// signed, hex or float numbers, dates, multi-line strings or escapes other than \" and \\.
#pragma once

#include <string>
#include <string_view>

namespace policy {

enum class TomlIntegers { refused, allowed };

// "" when `text` is in the subset, else "line N: why". The policy file has no integers.
std::string toml_subset_violation(std::string_view text,
                                  TomlIntegers integers = TomlIntegers::refused);

} // namespace policy

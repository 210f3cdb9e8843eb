// Canonical words of a parsed Invocation: every argv word is rebuilt from typed fields and fixed
// tables (house-style decision 4), never copied from the client's tokens. Pure.
#pragma once

#include <string>
#include <vector>

#include "grammar/invocation.hpp"

namespace grammar {

using Words = std::vector<std::string>;

// Words of one stage; words[0] is the program name ("zfs", "lzop", ...), not a path.
// Builtins (exit, echo -n, command -v) have words too, for logging and round trips.
Words canonical_words(const Command& command);

// The program a stage runs ("zfs", "zpool", a tool name), or "" for builtins.
std::string program_of(const Command& command);

// The fixed option words of each query, in argv order between the subcommand and `--` (also
// read by the command fuzzer, which checks every other argv word against the typed fields).
Words get_query_words(GetQuery query);
Words list_query_words(ListQuery query);

// Render the whole invocation back to a command string that parse_command() reads back as an
// equal Invocation (the round-trip property the tests and fuzzers check).
std::string render_command(const Invocation& invocation);

// Whole-word name checks with the grammar's own rules (used by the policy loader and decide()).
bool is_valid_dataset_name(std::string_view name);
bool is_valid_snapshot_name(std::string_view name);

} // namespace grammar

// Every program the gatekeeper may start, as data: its key in the policy's [programs] table,
// the kind of program it is (which decides its sandbox profile) and, for pipeline tools, the
// grammar's Tool. The one table of program and tool names; zfs_grammar.hpp spells the tool
// words once more as grammar, and tests/grammar/grammar_test.cpp keeps the two equal.
#pragma once

#include <optional>
#include <string_view>

#include "grammar/invocation.hpp"

namespace grammar {

enum class ProgramKind {
    zfs,    // talks to /dev/zfs (zfs, zpool)
    stream, // reads its stdin, writes its stdout (compressors, mbuffer)
    network // connects to a host (socat, syncoid 2.2.0+ --insecure-direct-connection)
};

struct ProgramEntry {
    std::string_view key; // [programs] key, and the word the client names it by
    ProgramKind kind;
    std::optional<Tool> tool; // pipeline stage / `command -v` name; none for zfs and zpool
};

inline constexpr ProgramEntry program_table[] = {
    {"zfs", ProgramKind::zfs, std::nullopt},       {"zpool", ProgramKind::zfs, std::nullopt},
    {"lzop", ProgramKind::stream, Tool::lzop},     {"gzip", ProgramKind::stream, Tool::gzip},
    {"pigz", ProgramKind::stream, Tool::pigz},     {"zstd", ProgramKind::stream, Tool::zstd},
    {"zstdmt", ProgramKind::stream, Tool::zstdmt}, {"xz", ProgramKind::stream, Tool::xz},
    {"lz4", ProgramKind::stream, Tool::lz4},       {"mbuffer", ProgramKind::stream, Tool::mbuffer},
    {"socat", ProgramKind::network, Tool::socat},
};

// The entry of a [programs] key, or nullptr for a key no program has.
const ProgramEntry* find_program_entry(std::string_view key);

std::string_view tool_name(Tool);
std::optional<Tool> tool_from_name(std::string_view);

} // namespace grammar

// Lookups in program_table.
#include "grammar/programs.hpp"

namespace grammar {

const ProgramEntry* find_program_entry(std::string_view key) {
    for (const auto& entry : program_table)
        if (entry.key == key) return &entry;
    return nullptr;
}

std::string_view tool_name(Tool t) {
    for (const auto& entry : program_table)
        if (entry.tool == t) return entry.key;
    return "?";
}

std::optional<Tool> tool_from_name(std::string_view name) {
    const ProgramEntry* entry = find_program_entry(name);
    return entry != nullptr ? entry->tool : std::nullopt;
}

} // namespace grammar

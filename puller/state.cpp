// The state file's JSON. Decoding checks every field's type and range, so a torn, edited or
// foreign file is refused as a whole instead of half believed.
#include "puller/state.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "puller/messages.hpp"

namespace puller {
namespace {

using nlohmann::json;
using nlohmann::ordered_json;

constexpr const char* format_name = "zfs-puller-state";
constexpr int format_version = 1;

bool printable(const std::string& s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

struct Bad {
    std::string why;
};

std::int64_t time_field(const json& o, const char* key) {
    if (!o.contains(key)) return 0;
    const json& v = o.at(key);
    if (!v.is_number_integer() || v.get<std::int64_t>() < 0)
        throw Bad{std::string(key) + " is not a time"};
    return v.get<std::int64_t>();
}

std::string text_field(const json& o, const char* key) {
    if (!o.contains(key)) return "";
    const json& v = o.at(key);
    if (!v.is_string() || !printable(v.get<std::string>()))
        throw Bad{std::string(key) + " is not printable text"};
    return v.get<std::string>();
}

} // namespace

std::string state_file_name(const std::string& target) {
    std::string name = target;
    std::replace(name.begin(), name.end(), '/', '%');
    return name + ".state.json";
}

std::string encode_state(const JobState& state) {
    ordered_json j;
    j["format"] = format_name;
    j["version"] = format_version;
    j["job"] = state.job;
    j["target"] = state.target;
    ordered_json datasets = ordered_json::object();
    for (const auto& [name, d] : state.datasets) {
        ordered_json e;
        e["target"] = d.target;
        e["last_attempt"] = d.last_attempt;
        e["last_attempt_ok"] = d.last_attempt_ok;
        e["last_success"] = d.last_success;
        e["newest_snapshot"] = d.newest_snapshot;
        e["newest_snapshot_creation"] = d.newest_snapshot_creation;
        e["last_transfer_bytes"] = d.last_transfer_bytes;
        e["last_error"] = d.last_error;
        e["last_error_time"] = d.last_error_time;
        datasets[name] = std::move(e);
    }
    j["datasets"] = std::move(datasets);
    return j.dump(2, ' ', true, json::error_handler_t::replace) + "\n";
}

std::optional<JobState> decode_state(std::string_view text, std::string& error) {
    error.clear();
    const json j = json::parse(text, nullptr, false);
    if (j.is_discarded()) {
        error = "not valid JSON (torn or damaged)";
        return std::nullopt;
    }
    try {
        if (!j.is_object() || !j.contains("format") || j.at("format") != format_name)
            throw Bad{"not a zfs-puller state file"};
        if (!j.contains("version") || j.at("version") != format_version)
            throw Bad{"state format version is not " + std::to_string(format_version)};
        JobState s;
        s.job = text_field(j, "job");
        s.target = text_field(j, "target");
        if (!j.contains("datasets") || !j.at("datasets").is_object())
            throw Bad{"datasets is not an object"};
        for (const auto& [name, e] : j.at("datasets").items()) {
            if (!printable(name) || name.empty()) throw Bad{"a dataset name is not printable"};
            if (!e.is_object()) throw Bad{"the entry of " + name + " is not an object"};
            DatasetState d;
            d.target = text_field(e, "target");
            d.last_attempt = time_field(e, "last_attempt");
            if (e.contains("last_attempt_ok")) {
                if (!e.at("last_attempt_ok").is_boolean())
                    throw Bad{"last_attempt_ok of " + name + " is not a boolean"};
                d.last_attempt_ok = e.at("last_attempt_ok").get<bool>();
            }
            d.last_success = time_field(e, "last_success");
            d.newest_snapshot = text_field(e, "newest_snapshot");
            d.newest_snapshot_creation = time_field(e, "newest_snapshot_creation");
            if (e.contains("last_transfer_bytes")) {
                if (!e.at("last_transfer_bytes").is_number_unsigned())
                    throw Bad{"last_transfer_bytes of " + name + " is not a byte count"};
                d.last_transfer_bytes = e.at("last_transfer_bytes").get<std::uint64_t>();
            }
            d.last_error = text_field(e, "last_error");
            d.last_error_time = time_field(e, "last_error_time");
            s.datasets.emplace(name, std::move(d));
        }
        return s;
    } catch (const Bad& b) {
        error = b.why;
    } catch (const json::exception& e) {
        error = std::string("unexpected content: ") + e.what();
    }
    return std::nullopt;
}

void record_success(DatasetState& d, std::int64_t now, const std::string& newest,
                    std::int64_t newest_creation, std::uint64_t transferred_bytes) {
    d.last_attempt = now;
    d.last_attempt_ok = true;
    d.last_success = now;
    // The same snapshot as before keeps its creation unless this run learnt it.
    if (escaped(newest) != d.newest_snapshot || newest_creation != 0) {
        d.newest_snapshot = escaped(newest);
        d.newest_snapshot_creation = newest_creation;
    }
    if (transferred_bytes != 0) d.last_transfer_bytes = transferred_bytes;
}

void record_failure(DatasetState& d, std::int64_t now, std::string_view error) {
    d.last_attempt = now;
    d.last_attempt_ok = false;
    d.last_error = escaped(error);
    d.last_error_time = now;
}

} // namespace puller

// Local argv builders.
#include "puller/local_commands.hpp"

namespace puller {

Argv target_listing_argv(const std::string& zfs, const std::string& target_root) {
    return {
        zfs,  "list",     "-H", "-p", "-r", "-t", "all", "-o", std::string(target_listing_columns),
        "--", target_root};
}

Argv markers_argv(const std::string& zfs, const std::string& target_root) {
    return {zfs,        "get",      "-H",    "-p", "-r",         "-t",
            "snapshot", "-s",       "local", "-o", "name,value", std::string(received_property),
            "--",       target_root};
}

Argv mark_argv(const std::string& zfs, std::int64_t seconds,
               const std::vector<std::string>& snaps) {
    Argv a{zfs, "set", std::string(received_property) + "=" + std::to_string(seconds)};
    a.insert(a.end(), snaps.begin(), snaps.end());
    return a;
}

Argv snapshots_argv(const std::string& zfs, const std::string& dataset) {
    return {zfs,  "list", "-H", "-p", "-d", "1", "-t", "snapshot", "-o", "name,guid,createtxg",
            "--", dataset};
}

Argv resume_tokens_argv(const std::string& zfs, const std::vector<std::string>& datasets) {
    Argv a{zfs, "get", "-H", "-p", "-o", "name,value", "receive_resume_token", "--"};
    a.insert(a.end(), datasets.begin(), datasets.end());
    return a;
}

Argv exists_argv(const std::string& zfs, const std::string& dataset) {
    return {zfs, "list", "-H", "-o", "name", "--", dataset};
}

Argv dataset_listing_argv(const std::string& zfs, const std::string& dataset) {
    return {zfs,  "list", "-H",  "-p", "-d",
            "1",  "-t",   "all", "-o", std::string(target_listing_columns),
            "--", dataset};
}

Argv receive_argv(const std::string& zfs, const std::string& target, DatasetKind kind, bool force) {
    Argv a{zfs, "receive", "-s", "-u"};
    // Volumes have none of the filesystem properties (zfs warns about -x mountpoint and refuses
    // -o); volmode=none keeps their contents away from the host (no device node, so nothing
    // scans partition tables or filesystems the source wrote into them).
    if (kind == DatasetKind::filesystem)
        a.insert(a.end(), {"-x", "mountpoint", "-o", "readonly=on", "-o", "canmount=noauto", "-o",
                           "setuid=off", "-o", "exec=off", "-o", "devices=off", "-o",
                           "sharenfs=off", "-o", "sharesmb=off"});
    else
        a.insert(a.end(), {"-o", "volmode=none", "-o", "readonly=on"});
    if (force) a.push_back("-F");
    a.insert(a.end(), {"--", target});
    return a;
}

Argv rollback_argv(const std::string& zfs, const std::string& snapshot) {
    return {zfs, "rollback", "-r", "--", snapshot};
}

Argv destroy_argv(const std::string& zfs, const std::string& snapshot) {
    return {zfs, "destroy", "--", snapshot};
}

bool says_missing(const std::string& stderr_text) {
    return stderr_text.find("dataset does not exist") != std::string::npos;
}

} // namespace puller

// argv of every local zfs command (the target side). Local commands are not subject to the
// gatekeeper's grammar, but they are just as fixed: built from typed values, `--` before
// operands, started with execve of the configured absolute path. Pure.
#pragma once

#include <string>
#include <vector>

#include "puller/inventory.hpp"
#include "puller/spawn.hpp"

namespace puller {

Argv target_listing_argv(const std::string& zfs, const std::string& target_root);
// The zfs-puller:received markers set locally below the target (`-s local`: never a received
// value), and setting them: `zfs set` takes no options in zfs 2.1, not even `--`; snapshot
// names never start with `-`.
Argv markers_argv(const std::string& zfs, const std::string& target_root);
Argv mark_argv(const std::string& zfs, std::int64_t seconds, const std::vector<std::string>& snaps);
// `zfs list` of one dataset's snapshots (name, guid, createtxg), right before a rollback.
Argv snapshots_argv(const std::string& zfs, const std::string& dataset);
Argv resume_tokens_argv(const std::string& zfs, const std::vector<std::string>& datasets);
Argv exists_argv(const std::string& zfs, const std::string& dataset);
// One dataset with its snapshots and bookmarks (and its children's rows), in the target
// listing's columns: what a restore reads of the dataset it sends.
Argv dataset_listing_argv(const std::string& zfs, const std::string& dataset);

// The hardened receive: resumable (-s), never mounted (-u). Filesystems: the source's
// mountpoint ignored (-x mountpoint), read-only, not mounted at boot, never shared over NFS or
// SMB, and no setuid, exec or device nodes even if someone mounts it later. Volumes: read-only
// and volmode=none (no device node). `kind` is the target's own type, or for a new dataset the
// type in the stream's header, never the source's listing. -F only when a forced rollback asked
// for it.
Argv receive_argv(const std::string& zfs, const std::string& target, DatasetKind kind, bool force);

Argv rollback_argv(const std::string& zfs, const std::string& snapshot); // zfs rollback -r -- T@S
Argv destroy_argv(const std::string& zfs, const std::string& snapshot);  // zfs destroy -- T@S

// `zfs list` said the dataset does not exist (as opposed to failing for another reason).
bool says_missing(const std::string& stderr_text);

} // namespace puller

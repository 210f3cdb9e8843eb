# Configurations that evaluate but must warn, and some that must not: each row's warnings
# must be exactly `expect` (the golden files hold the examples' warnings, all empty but the
# corpus case's). tests/run prints one "PASS name" / "FAIL name: ..." line per row.
{ lib ? import ./minilib.nix }:

let
  inherit (builtins) concatStringsSep map toJSON tryEval;

  source = ../examples/source.nix;
  key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM root@backup";
  warningsOf = module: (import ./harness.nix { inherit lib; case = module; }).config.warnings;
  withSyncoid = settings: {
    imports = [ source ];
    services.zfs-gatekeeper.identities.syncoid = { publicKeys = [ key ]; datasets = [ "tank/data" ]; } // settings;
  };
  every = name: can: "services.zfs-gatekeeper.identities.${name}: snapshotPrefix = \"syncoid_\" admits every syncoid snapshot and hold on its datasets, those of other backup hosts (and of any syncoid run on this host) too, so this key may ${can} them. Set backupHost to the backup host's hostname: the prefix becomes syncoid_<backupHost>_.";

  rows = [
    {
      name = "warning: a syncoid identity without backupHost may touch every host's syncoid snapshots";
      module = withSyncoid { };
      expect = [ (every "syncoid" "destroy, hold or release") ];
    }
    {
      name = "warning: ... without destroy when it may not destroy";
      module = withSyncoid { allowDestroy = false; };
      expect = [ (every "syncoid" "hold or release") ];
    }
    {
      name = "warning: ... for preset read-only too (it may hold and release)";
      module = withSyncoid { preset = "read-only"; };
      expect = [ (every "syncoid" "hold or release") ];
    }
    {
      name = "warning: a prefix shorter than syncoid_ warns too";
      module = withSyncoid { snapshotPrefix = "syncoid"; };
      expect = [ "services.zfs-gatekeeper.identities.syncoid: snapshotPrefix = \"syncoid\" admits every syncoid snapshot and hold on its datasets, those of other backup hosts (and of any syncoid run on this host) too, so this key may destroy, hold or release them. Set backupHost to the backup host's hostname: the prefix becomes syncoid_<backupHost>_." ];
    }
    {
      name = "no warning: backupHost pins the prefix to that host";
      module = withSyncoid { backupHost = "backup"; };
      expect = [ ];
    }
    {
      name = "no warning: an explicit per-host prefix without backupHost";
      module = withSyncoid { snapshotPrefix = "syncoid_backup_"; };
      expect = [ ];
    }
    {
      name = "no warning: zfs-puller's identity (the source example)";
      module = source;
      expect = [ ];
    }
  ];

  show = row:
    let r = tryEval (warningsOf row.module); in
    if !r.success then "FAIL ${row.name}: evaluation error (run with --show-trace)"
    else if r.value == row.expect then "PASS ${row.name}"
    else "FAIL ${row.name}: expected ${toJSON row.expect}, got ${toJSON r.value}";
in
concatStringsSep "\n" (map show rows) + "\n"

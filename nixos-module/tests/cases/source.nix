# Golden case "source": the README's source examples (zfs-puller's identity, syncoid's, the
# audit report) plus a third identity that exercises the other branches (preset puller
# without destroy and with a prefix of its own, rawOnly, a dataset name with a space, several
# key types, and mkMerge/mkForce), a fourth (read-only, a syncoid backup host with an
# --identifier given as two words, a larger --mbuffer-size), an audit file, which the
# report then reads, and the restore identity (zfs-puller restore).
{ lib, ... }:
{
  imports = [ ../../examples/source.nix ../../examples/syncoid-source.nix ../../examples/audit-report.nix ];

  config = lib.mkMerge [
    {
      services.zfs-gatekeeper = {
        audit.file = "/var/log/zfs-gatekeeper/audit.jsonl";
        # The README's report (examples/audit-report.nix), from this audit file, daily.
        auditReport.startAt = "daily";
        identities.offsite = {
          publicKeys = [
            "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP75rX6yXHqszzU7dzsY4FQxHWQkSTdduhsD03zlnF/SaSXxqjhX2nSLObodz2u+wC/apnlx1eYY6GSi6CeI/3M= offsite key"
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABgQCrRvnJGDX55AzdOjy65dccKWnQsHNZ9sXN8iZTuDMtyFQxEs5yTCxNMTOr6FcRINXmzXDGCUGS+f2tJbZL7aYeMFVFodfX9hEeV2XX0rk08oYx3gkR5t5hkNw4B0ciLBokoKJU5W/AzrW78gvn0TzBuH5n8M2y2O2z6oZhjCvtQRnO0MVfjfSSJk5gCYR/xx6xcQzvWi64Spu1+I9kFNLmKDFBYBHOT2lT0+j/+hKvPlypR5fxZ3+8Nt00mKumAQuuAVRT1P7YAqOiTf46yRPR/6fGiofMxGf6ikZWVInncI0Wc1VXK669irmu1URVs6xT+rauZd2D/xaDJmwtojocJ/xqeOltuLFoBCljM2goQXA8QXWHWF2VfnhuIAA/XrNg62rR2+3N2OyqJbjOS8lWwBLqXxh13LnKmnHlE7vxXX/o+UYJ601aBTBF51kIcxEwWsObrUBU6sHKx+FSfrBOPXTHhH5s9D8xef61kbsmJB6J1vBRzIONp2zmWOQFs+0= legacy@offsite"
          ];
          datasets = [ "tank/my data" "tank/offsite" ];
          preset = "puller";
          # A second zfs-puller backup host: a prefix of its own (the target case's job
          # offsite-data has it), so neither host's key reaches the other's sync snapshots.
          snapshotPrefix = "zfs-puller_offsite_";
          allowDestroy = false;
          rawOnly = true;
          tools = [ "lzop" ];
        };
        identities.vault = {
          publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM root@vault" ];
          datasets = [ "tank/my data" ];
          preset = "read-only";
          allowDestroy = false; # read-only never destroys; said here too, for the policy's reader
          # snapshotPrefix syncoid_site2_vault_, mbufferMaxMemory 1G.
          backupHost = "vault";
          syncoidArgs = [ "--identifier" "site2" "--no-sync-snap" "--mbuffer-size=1G" ];
          tools = [ "lzop" "mbuffer" ];
        };
        # zfs-puller restore's identity: its own key, receives below tank/restore only.
        restore = {
          enable = true;
          restoreRoot = "tank/restore";
          publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMbQL8Xsx5+yCwPhYHNZHl047Y3n8NtcYgCqikOGdqJP restore@backuphost" ];
        };
      };
    }
    # Priority handling: the forced value wins over the plain definition above.
    { services.zfs-gatekeeper.identities.offsite.tools = lib.mkForce [ "zstd" "mbuffer" ]; }
  ];
}

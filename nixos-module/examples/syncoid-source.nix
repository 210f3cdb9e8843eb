# Source host "optinix", for upstream syncoid on the backup host (examples/syncoid-target.nix):
# an identity for syncoid's key beside the one for zfs-puller. Import the module first.
{
  services.zfs-gatekeeper.identities.optinix-home-syncoid = {
    # The public half of the target's services.syncoid.sshKey.
    publicKeys = [
      "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGWM78Hy6VcljUoic94y3oWmFrcUJ6Cer8KSElycXOVB syncoid@backup"
    ];
    datasets = [ "NIXROOT/home" ];
    preset = "syncoid-pull";
    # syncoid --identifier=backup names its sync snapshots syncoid_backup_<target host>_<date>
    # and its hold tag syncoid_backup_<target host>.
    snapshotPrefix = "syncoid_backup_";
    allowDestroy = true; # syncoid prunes its own old sync snapshots
    tools = [ "lzop" "mbuffer" ]; # syncoid's default compression and buffer
  };
}

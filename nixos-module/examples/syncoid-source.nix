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
    # The backup host's hostname: syncoid there names its sync snapshots syncoid_backup_<date>
    # and its hold tag syncoid_backup, so the prefix is syncoid_backup_ and this key cannot
    # touch another backup host's snapshots.
    backupHost = "backup";
    # Its services.syncoid.commands.optinix-home.extraArgs: mbufferMaxMemory follows them.
    syncoidArgs = [ "--mbuffer-size=128M" ];
    allowDestroy = true; # syncoid prunes its own old sync snapshots
    tools = [ "lzop" "mbuffer" ]; # syncoid's default compression and buffer
  };
}

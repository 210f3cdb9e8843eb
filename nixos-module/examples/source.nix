# Source host "optinix": lets the backup host pull NIXROOT/home through zfs-gatekeeper.
# Import the module first (flake: zfs-gatekeeper.nixosModules.default).
{
  services.openssh.enable = true;

  services.zfs-gatekeeper = {
    enable = true;
    # user = "zfs-backup";   # the default
    identities.optinix-home = {
      # The backup host's key: the private half is the target's jobs.<name>.sshKey
      # (or services.syncoid.sshKey).
      publicKeys = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOeIGG+MO417KRPo/b0DtuaC3WuNbXc/s5JcJNOQxUI zfs-puller@backup"
      ];
      datasets = [ "NIXROOT/home" ];
      # syncoid-pull serves both target examples (zfs-puller and upstream syncoid); use
      # "puller", with zfs-puller's snapshot prefix, once only zfs-puller pulls.
      preset = "syncoid-pull";
      snapshotPrefix = "syncoid_";
      allowDestroy = true; # syncoid prunes its own old syncoid_* snapshots
      tools = [ "lzop" "mbuffer" ];
    };
  };

  # The periodic snapshots the target keeps (daily/weekly/monthly) are taken here.
  services.sanoid = {
    enable = true;
    templates.home = {
      hourly = 24;
      daily = 14;
      weekly = 4;
      monthly = 3;
      autosnap = true;
      autoprune = true;
    };
    datasets."NIXROOT/home".use_template = [ "home" ];
  };
}

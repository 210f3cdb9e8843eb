# Source host "optinix": lets the backup host pull NIXROOT/home through zfs-gatekeeper.
# Import the module first (flake: zfs-gatekeeper.nixosModules.default).
{
  services.openssh.enable = true;

  services.zfs-gatekeeper = {
    enable = true;
    # user = "zfs-backup";   # the default
    identities.optinix-home = {
      # The backup host's key: the private half is the target's jobs.<name>.sshKey.
      publicKeys = [
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOeIGG+MO417KRPo/b0DtuaC3WuNbXc/s5JcJNOQxUI zfs-puller@backup"
      ];
      datasets = [ "NIXROOT/home" ];
      # Exactly what zfs-puller sends, and only snapshots named like its own: the target
      # job's prefix (zfs-puller's default) is this prefix.
      preset = "puller";
      snapshotPrefix = "zfs-puller_";
      allowDestroy = true; # the puller prunes its old zfs-puller_* snapshots (keepSource)
      tools = [ ]; # zfs-puller sends plain zfs streams, no pipeline stages
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

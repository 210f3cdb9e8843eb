# Backup host: pulls optinix's NIXROOT/home into b/optinix-home with zfs-puller and keeps
# 14 daily, 8 weekly and 12 monthly snapshots. Import the module first
# (flake: zfs-gatekeeper.nixosModules.default).
{
  services.zfs-puller = {
    enable = true;
    jobs.optinix-home = {
      source = "zfs-backup@optinix:NIXROOT/home";
      target = "b/optinix-home";
      # Created by hand: ssh-keygen -t ed25519 -N "" -f /var/lib/zfs-puller/id_ed25519
      # then chown zfs-puller /var/lib/zfs-puller/id_ed25519
      sshKey = "/var/lib/zfs-puller/id_ed25519";
      startAt = "daily";
      # The source identity's snapshotPrefix; the puller's own snapshots are kept
      # 3 on the source (its identity needs allowDestroy) and 30 here.
      prefix = "zfs-puller_";
      keepSource = 3;
      keepTarget = 30;
      # The source's sanoid snapshots kept here.
      retention = {
        daily = 14;
        weekly = 8;
        monthly = 12;
      };
    };
  };

  # Host key checking stays on: the source's host key, written to /etc/ssh/ssh_known_hosts
  # (the default of jobs.<name>.knownHosts).
  programs.ssh.knownHosts.optinix = {
    hostNames = [ "optinix" ];
    publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICPix6jYEZ3B2xa2wFGGdLMGZjuH6T6yxXVhWxnZzKRK";
  };
}

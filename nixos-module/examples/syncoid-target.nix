# Backup host, alternative: upstream services.syncoid pulls through the gatekeeper, upstream
# services.sanoid prunes. No zfs-gatekeeper module needed on this side; the source needs
# examples/syncoid-source.nix.
{
  # syncoid names its sync snapshots after this name (syncoid_backup_<date>): the source
  # identity's backupHost.
  networking.hostName = "backup";

  services.syncoid = {
    enable = true;
    interval = "daily";
    # Private key readable by the syncoid user; the source lists its public half.
    sshKey = "/var/lib/syncoid/id_ed25519";
    commands.optinix-home = {
      source = "zfs-backup@optinix:NIXROOT/home";
      target = "b/optinix-home";
      # The upstream unit already passes --no-privilege-elevation (no sudo on the source)
      # and --sshkey. Send options known to pass the gatekeeper: w (raw; required when the
      # identity has rawOnly = true), c, L, e. For example: sendOptions = "w";
      # syncoid's defaults (lzop compression, mbuffer) must be in the identity's tools.
      # Never add --sshoption=StrictHostKeyChecking=no: host keys are checked below.
      # The source identity's syncoidArgs are these: 128M is more than the gatekeeper's
      # default mbuffer bound (16M, syncoid's default).
      extraArgs = [ "--mbuffer-size=128M" ];
    };
  };

  programs.ssh.knownHosts.optinix = {
    hostNames = [ "optinix" ];
    publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICPix6jYEZ3B2xa2wFGGdLMGZjuH6T6yxXVhWxnZzKRK";
  };

  # Prune only: autosnap = false, or sanoid would snapshot the received dataset and the
  # next incremental receive would fail.
  services.sanoid = {
    enable = true;
    templates.backup = {
      daily = 14;
      weekly = 8;
      monthly = 12;
      autosnap = false;
      autoprune = true;
    };
    datasets."b/optinix-home".use_template = [ "backup" ];
  };
}

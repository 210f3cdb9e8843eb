# Golden case "seed-target": the backup host of the seed set-up: a daily raw pull of
# optinix's NIXROOT/home into b/optinix-home as the source's user `backup`
# (cases/seed-source.nix holds the identity).
{
  services.zfs-puller = {
    enable = true;
    jobs.optinix-home = {
      source = "backup@optinix:NIXROOT/home";
      target = "b/optinix-home";
      sshKey = "/var/lib/zfs-puller/id_ed25519";
      startAt = "daily";
      raw = true;
    };
  };

  programs.ssh.knownHosts.optinix.publicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICPix6jYEZ3B2xa2wFGGdLMGZjuH6T6yxXVhWxnZzKRK";
}

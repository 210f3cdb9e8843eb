# Golden case "seed-source": the set-up this project was started for, moved to the module.
# optinix had a hand-made account `backup` (a normal user with a shell, whose key line ran a
# forced command); it keeps that account definition, minus the old key line, and adds the
# module for it. The backup host's key now reaches only the gatekeeper; sends are raw.
{ pkgs, ... }:
{
  # As it was before the module (the old command= line removed: tests/negative.nix shows
  # the assertion when it stays).
  users.users.backup = {
    isNormalUser = true;
    description = "Backup pulls";
    shell = pkgs.bashInteractive;
  };

  services.openssh.enable = true;

  services.zfs-gatekeeper = {
    enable = true;
    user = "backup";
    # The records go to the journal only (audit.syslog, the default): the hourly report reads
    # them there, and a denial fails zfs-gatekeeper-audit-report.service.
    auditReport.enable = true;
    identities.optinix-home = {
      publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAWOt2JylfvonVA2PIiv4OhI8CGPILkTQ/zqKBVopxRu backup@target" ];
      datasets = [ "NIXROOT/home" ];
      preset = "puller";
      snapshotPrefix = "zfs-puller_";
      allowDestroy = true;
      rawOnly = true;
      tools = [ ];
    };
  };
}

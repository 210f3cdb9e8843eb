# Golden case "target": the README's zfs-puller example plus a raw, recursive, hourly job
# from an IPv6 source on another port into a dataset name with a space, without retention,
# for the source case's identity "offsite" (no destroy there: keepSource = 0), which can also
# be restored (restoreRoot, restoreSshKey, restoreUser); the status textfile and thresholds.
{
  imports = [ ../../examples/target.nix ];

  services.zfs-puller.jobs.offsite-data = {
    source = "zfs-backup@[2001:db8::7]:tank/my data";
    target = "b/offsite/my data";
    sshKey = "/var/lib/zfs-puller/offsite_ed25519";
    knownHosts = "/var/lib/zfs-puller/known_hosts";
    port = 2222;
    startAt = "hourly";
    recursive = true;
    raw = true;
    # The source identity's snapshotPrefix: another backup host pulls NIXROOT/home there.
    prefix = "zfs-puller_offsite_";
    keepSource = 0;
    # zfs-puller restore into the source's restore root, with a key and login of its own.
    restoreRoot = "tank/restore";
    restoreSshKey = "/var/lib/zfs-puller/restore_ed25519";
    restoreUser = "zfs-backup"; # the default (the source's user), said explicitly
  };

  # `zfs-puller status` thresholds and the textfile every run writes.
  services.zfs-puller.status = {
    prometheusFile = "/var/lib/prometheus-node-exporter/zfs-puller.prom";
    warn = "36h";
    crit = "3d";
  };
}

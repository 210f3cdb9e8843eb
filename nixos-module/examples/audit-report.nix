# Source host "optinix": the hourly audit report, as node-exporter metrics and a mail when it
# finds something (added to examples/source.nix, which writes no audit file: the report reads
# the journal).
{ pkgs, ... }:
{
  services.zfs-gatekeeper.auditReport = {
    enable = true;
    prometheusFile = "/var/lib/prometheus-node-exporter/zfs-gatekeeper/audit.prom";
    onDenial = "${pkgs.mailutils}/bin/mail -s 'zfs-gatekeeper: denied commands on optinix' root";
  };
  # A textfile directory of its own, which the report can write (node exporter's
  # --collector.textfile.directory takes a glob, and newer versions take it more than once).
  systemd.tmpfiles.rules = [ "d /var/lib/prometheus-node-exporter/zfs-gatekeeper 0755 zfs-backup zfs-backup -" ];
}

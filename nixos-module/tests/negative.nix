# Configurations that must be refused, each with a substring of the expected error.
# tests/run evaluates each through harness.nix (with `pkgs` in place of the stub package
# set where a case gives one) and checks it fails with that message.
let
  source = ../examples/source.nix;
  target = ../examples/target.nix;
  syncoid = ../examples/syncoid-target.nix;
  syncoidSource = ../examples/syncoid-source.nix;
  seed = ./cases/seed-source.nix;
  seedKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAWOt2JylfvonVA2PIiv4OhI8CGPILkTQ/zqKBVopxRu backup@target";
  key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM root@backup";

  # The source example with one identity setting changed (mkForce replaces the example's).
  withIdentity = settings: { lib, ... }: {
    imports = [ source ];
    services.zfs-gatekeeper.identities.optinix-home = builtins.mapAttrs (_: lib.mkForce) settings;
  };
  # A fresh identity with only what is given (so defaults and assertions show).
  newIdentity = name: settings: {
    imports = [ source ];
    services.zfs-gatekeeper.identities.${name} = settings;
  };
  withSyncoid = settings: { lib, ... }: {
    imports = [ source syncoidSource ];
    services.zfs-gatekeeper.identities.optinix-home-syncoid = builtins.mapAttrs (_: lib.mkForce) settings;
  };
  withReport = settings: {
    imports = [ source ];
    services.zfs-gatekeeper.auditReport = { enable = true; } // settings;
  };
  restoreKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMbQL8Xsx5+yCwPhYHNZHl047Y3n8NtcYgCqikOGdqJP restore@backuphost";
  # The source example with the restore identity (a good one, then `settings` over it).
  withRestore = settings: {
    imports = [ source ];
    services.zfs-gatekeeper.restore = { enable = true; restoreRoot = "NIXROOT/restore"; publicKeys = [ restoreKey ]; } // settings;
  };
  withJob = settings: { lib, ... }: {
    imports = [ target ];
    services.zfs-puller.jobs.optinix-home = builtins.mapAttrs (_: lib.mkForce) settings;
  };
  newJob = name: settings: {
    imports = [ target ];
    services.zfs-puller.jobs.${name} = { sshKey = "/var/lib/zfs-puller/k"; } // settings;
  };
in
{
  # ---- the module system: unknown options and wrong types
  misspelled-identity-option = {
    expect = "The option `services.zfs-gatekeeper.identities.optinix-home.datasetz' does not exist.";
    module = withIdentity { datasetz = [ "NIXROOT/home" ]; };
  };
  misspelled-top-option = {
    expect = "The option `services.zfs-gatekeeper.identity' does not exist.";
    module = { imports = [ source ]; services.zfs-gatekeeper.identity = { }; };
  };
  misspelled-job-option = {
    expect = "The option `services.zfs-puller.jobs.optinix-home.sshkey' does not exist.";
    module = withJob { sshkey = "/k"; };
  };
  misspelled-nixos-option = {
    expect = "The option `users.user' does not exist.";
    module = { imports = [ source ]; users.user.x = { }; };
  };
  wrong-type-public-keys = {
    expect = "A definition for option `services.zfs-gatekeeper.identities.optinix-home.publicKeys' is not of type `list of (optionally newline-terminated) single-line string'.";
    module = withIdentity { publicKeys = key; };
  };
  wrong-type-allow-destroy = {
    expect = "A definition for option `services.zfs-gatekeeper.identities.optinix-home.allowDestroy' is not of type `boolean'.";
    module = withIdentity { allowDestroy = "yes"; };
  };
  wrong-type-tool = {
    expect = "is not of type `one of \"gzip\", \"lz4\", \"lzop\", \"mbuffer\", \"pigz\", \"socat\", \"xz\", \"zstd\", \"zstdmt\"'.";
    module = withIdentity { tools = [ "bash" ]; };
  };
  wrong-type-retention = {
    expect = "A definition for option `services.zfs-puller.jobs.optinix-home.retention.daily' is not of type `unsigned integer, meaning >=0'.";
    module = withJob { retention.daily = -1; };
  };
  wrong-type-recursive = {
    expect = "A definition for option `services.zfs-puller.jobs.optinix-home.recursive' is not of type `boolean'.";
    module = withJob { recursive = "yes"; };
  };
  read-only-policy-file = {
    expect = "The option `services.zfs-gatekeeper.policyFile' is read-only, but it's set multiple times.";
    module = { imports = [ source ]; services.zfs-gatekeeper.policyFile = "/tmp/policy.toml"; };
  };
  undeclared-sanoid-template = {
    expect = "A definition for option `services.sanoid.datasets.\"b/optinix-home\".use_template.\"[definition 1-entry 1]\"' is not of type `configured template name'.";
    module = { imports = [ syncoid ]; services.sanoid.datasets."b/optinix-home".use_template = [ "bakcup" ]; };
  };

  # ---- source assertions
  identity-without-datasets = {
    expect = "services.zfs-gatekeeper.identities.offsite.datasets is empty: an identity must list at least one dataset it may pull.";
    module = newIdentity "offsite" { publicKeys = [ key ]; };
  };
  unknown-preset = {
    expect = "services.zfs-gatekeeper.identities.optinix-home.preset = \"syncoid-push\" is not a known preset; use one of: puller, read-only, syncoid-pull.";
    module = withIdentity { preset = "syncoid-push"; };
  };
  public-key-with-options = {
    expect = "does not parse as an OpenSSH public key: it has key type \"from=\"10.0.0.1\"\"";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "from=\"10.0.0.1\" ${key}" ]; };
  };
  public-key-truncated = {
    expect = "does not parse as an OpenSSH public key: it has a key blob that is not base64.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWf root@backup" ]; };
  };
  public-key-wrong-type = {
    expect = "does not parse as an OpenSSH public key: it has a key blob that does not encode a ssh-rsa key.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "ssh-rsa AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM" ]; };
  };
  public-key-two-lines = {
    expect = "A definition for option `services.zfs-gatekeeper.identities.offsite.publicKeys.\"[definition 1-entry 1]\"' is not of type `(optionally newline-terminated) single-line string'.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "${key}\n${key}" ]; };
  };
  public-key-control-character = {
    expect = "does not parse as an OpenSSH public key: it contains a newline or control character.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "${key}\tsecond comment" ]; };
  };
  no-public-keys = {
    expect = "services.zfs-gatekeeper.identities.offsite.publicKeys is empty: nobody could log in as this identity.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; };
  };
  dataset-snapshot = {
    expect = "services.zfs-gatekeeper.identities.optinix-home.datasets: \"NIXROOT/home@today\" is not a dataset name ZFS accepts: it names a snapshot or bookmark; give the dataset.";
    module = withIdentity { datasets = [ "NIXROOT/home@today" ]; };
  };
  dataset-leading-slash = {
    expect = "\"/home\" is not a dataset name ZFS accepts: it starts with \"/\" (a dataset name, not a mountpoint).";
    module = withIdentity { datasets = [ "/home" ]; };
  };
  dataset-bad-character = {
    expect = "\"tank/it's\" is not a dataset name ZFS accepts: it has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -].";
    module = withIdentity { datasets = [ "tank/it's" ]; };
  };
  dataset-reserved-pool = {
    expect = "\"mirror/data\" is not a dataset name ZFS accepts: it has a reserved pool name.";
    module = withIdentity { datasets = [ "mirror/data" ]; };
  };
  empty-snapshot-prefix = {
    expect = "services.zfs-gatekeeper.identities.optinix-home.snapshotPrefix = \"\" must be non-empty";
    module = withIdentity { snapshotPrefix = ""; };
  };
  identity-name = {
    expect = "services.zfs-gatekeeper.identities.\"a.b\": the identity name must match";
    module = newIdentity "a.b" { datasets = [ "tank/data" ]; publicKeys = [ key ]; };
  };
  no-audit-sink = {
    expect = "services.zfs-gatekeeper.audit: set audit.file or keep audit.syslog = true";
    module = { imports = [ source ]; services.zfs-gatekeeper.audit.syslog = false; };
  };
  root-user = {
    expect = "services.zfs-gatekeeper.user must not be root";
    module = { imports = [ source ]; services.zfs-gatekeeper.user = "root"; };
  };

  shared-public-key = {
    expect = "services.zfs-gatekeeper.identities: a public key may belong to one identity only (sshd uses the first line of a key, so the other identity could never log in): ssh-ed25519 ...NbXc/s5JcJNOQxUI in offsite, optinix-home.";
    module = newIdentity "offsite" {
      datasets = [ "tank/data" ];
      publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOeIGG+MO417KRPo/b0DtuaC3WuNbXc/s5JcJNOQxUI another comment" ];
    };
  };
  mbuffer-memory-too-large = {
    expect = "services.zfs-gatekeeper.identities.optinix-home.mbufferMaxMemory = \"17G\" is above 16G, the most the gatekeeper accepts.";
    module = withIdentity { mbufferMaxMemory = "17G"; };
  };
  mbuffer-memory-unit = {
    expect = "A definition for option `services.zfs-gatekeeper.identities.optinix-home.mbufferMaxMemory' is not of type `string matching the pattern [0-9]+[kKmMgG]?'.";
    module = withIdentity { mbufferMaxMemory = "1T"; };
  };
  mbuffer-memory-zero = {
    expect = "services.zfs-gatekeeper.identities.optinix-home.mbufferMaxMemory = \"00M\" is not a size such as \"16M\" or \"1G\".";
    module = withIdentity { mbufferMaxMemory = "00M"; };
  };

  # ---- syncoid on the backup host (examples/syncoid-source.nix: backupHost "backup",
  # --mbuffer-size=128M)
  syncoid-bare-prefix-with-host = {
    expect = "services.zfs-gatekeeper.identities.optinix-home-syncoid.snapshotPrefix = \"syncoid_\", but syncoid on backup names its sync snapshots syncoid_backup_<date> and its hold tag syncoid_backup: this prefix also admits other backup hosts' snapshots, which this key could then destroy, hold or release. Remove snapshotPrefix (backupHost sets it to \"syncoid_backup_\"), or remove backupHost to share one prefix between backup hosts knowingly.";
    module = withSyncoid { snapshotPrefix = "syncoid_"; };
  };
  syncoid-prefix-of-another-host = {
    expect = "services.zfs-gatekeeper.identities.optinix-home-syncoid.snapshotPrefix = \"syncoid_backup2_\", but syncoid on backup names its sync snapshots syncoid_backup_<date> and its hold tag syncoid_backup: the gatekeeper would deny them.";
    module = withSyncoid { snapshotPrefix = "syncoid_backup2_"; };
  };
  syncoid-identifier-not-in-prefix = {
    expect = "but syncoid on backup names its sync snapshots syncoid_site2_backup_<date> and its hold tag syncoid_site2_backup: this prefix also admits other backup hosts' snapshots";
    module = withSyncoid { syncoidArgs = [ "--identifier=site2" ]; snapshotPrefix = "syncoid_"; };
  };
  syncoid-host-name = {
    expect = "A definition for option `services.zfs-gatekeeper.identities.optinix-home-syncoid.backupHost' is not of type `null or string matching the pattern [A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?'.";
    module = withSyncoid { backupHost = "backup host"; };
  };
  backup-host-for-puller = {
    expect = "services.zfs-gatekeeper.identities.optinix-home: backupHost and syncoidArgs describe syncoid; preset puller is zfs-puller's, whose snapshot names come from the job's prefix: set snapshotPrefix to it instead.";
    module = withIdentity { backupHost = "backup"; };
  };
  syncoid-args-for-puller = {
    expect = "services.zfs-gatekeeper.identities.optinix-home: backupHost and syncoidArgs describe syncoid";
    module = withIdentity { syncoidArgs = [ "--mbuffer-size=1G" ]; };
  };
  syncoid-mbuffer-size-too-large = {
    expect = "services.zfs-gatekeeper.identities.optinix-home-syncoid.syncoidArgs: --mbuffer-size=32G is above 16G, the most the gatekeeper accepts; the gatekeeper would deny every send through mbuffer.";
    module = withSyncoid { syncoidArgs = [ "--mbuffer-size=32G" ]; };
  };
  syncoid-mbuffer-size-above-memory = {
    expect = "services.zfs-gatekeeper.identities.optinix-home-syncoid.mbufferMaxMemory = \"64M\" is less than the mbuffer -m 128M syncoid sends (its --mbuffer-size in syncoidArgs): the gatekeeper would deny every send through mbuffer. Raise mbufferMaxMemory, or remove it (it follows syncoidArgs).";
    module = withSyncoid { mbufferMaxMemory = "64M"; };
  };
  syncoid-default-mbuffer-size-above-memory = {
    expect = "services.zfs-gatekeeper.identities.optinix-home-syncoid.mbufferMaxMemory = \"8M\" is less than the mbuffer -m 16M syncoid sends (syncoid's default; put the backup host's --mbuffer-size in syncoidArgs if it sets one)";
    module = withSyncoid { syncoidArgs = [ ]; mbufferMaxMemory = "8M"; };
  };
  prefix-conflict = {
    expect = "services.zfs-gatekeeper.identities.optinix-home (snapshotPrefix \"zfs-puller_\") and second-puller (\"zfs-puller_b_\") reach the same snapshots on NIXROOT/home: one prefix starts with the other, so one key could destroy, hold or release the sync snapshots the other's backup host depends on.";
    module = newIdentity "second-puller" { publicKeys = [ key ]; datasets = [ "NIXROOT/home/sub" ]; preset = "puller"; snapshotPrefix = "zfs-puller_b_"; };
  };
  prefix-conflict-two-syncoid-hosts-sharing-syncoid_ = {
    expect = "services.zfs-gatekeeper.identities.a (snapshotPrefix \"syncoid_\") and b (\"syncoid_\") reach the same snapshots on tank/data";
    module = {
      imports = [ source ];
      services.zfs-gatekeeper.identities.a = { publicKeys = [ key ]; datasets = [ "tank/data" ]; };
      services.zfs-gatekeeper.identities.b = { publicKeys = [ seedKey ]; datasets = [ "tank" ]; };
    };
  };
  package-without-flake = {
    expect = "services.zfs-gatekeeper.package is not set and pkgs has no zfs-gatekeeper: import the flake's nixosModules.default (which sets it), apply the flake's overlays.default, or set services.zfs-gatekeeper.package to a build of this repository.";
    module = source;
    pkgs = removeAttrs (import ./stubs/pkgs.nix) [ "zfs-gatekeeper" ];
  };
  puller-package-without-flake = {
    expect = "services.zfs-puller.package is not set and pkgs has no zfs-gatekeeper";
    module = target;
    pkgs = removeAttrs (import ./stubs/pkgs.nix) [ "zfs-gatekeeper" ];
  };

  # ---- the audit report
  report-prometheus-relative = {
    expect = "services.zfs-gatekeeper.auditReport.prometheusFile = \"metrics/audit.prom\" must be an absolute path ending in .prom (node exporter reads only those), outside the Nix store, and not the audit file.";
    module = withReport { prometheusFile = "metrics/audit.prom"; };
  };
  report-prometheus-suffix = {
    expect = "services.zfs-gatekeeper.auditReport.prometheusFile = \"/var/lib/node-exporter/audit.txt\" must be an absolute path ending in .prom";
    module = withReport { prometheusFile = "/var/lib/node-exporter/audit.txt"; };
  };
  report-prometheus-directory = {
    expect = "services.zfs-gatekeeper.auditReport.prometheusFile = \"/var/lib/node-exporter/.prom\" must be an absolute path ending in .prom";
    module = withReport { prometheusFile = "/var/lib/node-exporter/.prom"; };
  };
  report-prometheus-in-store = {
    expect = "services.zfs-gatekeeper.auditReport.prometheusFile = \"/nix/store/x.prom\" must be an absolute path ending in .prom (node exporter reads only those), outside the Nix store";
    module = withReport { prometheusFile = "/nix/store/x.prom"; };
  };
  report-prometheus-audit-file = {
    expect = "services.zfs-gatekeeper.auditReport.prometheusFile = \"/var/log/zfs-gatekeeper/audit.prom\" must be an absolute path ending in .prom (node exporter reads only those), outside the Nix store, and not the audit file.";
    module = { imports = [ (withReport { prometheusFile = "/var/log/zfs-gatekeeper/audit.prom"; }) ]; services.zfs-gatekeeper.audit.file = "/var/log/zfs-gatekeeper/audit.prom"; };
  };
  report-misspelled = {
    expect = "The option `services.zfs-gatekeeper.auditReport.onDenail' does not exist.";
    module = withReport { onDenail = "mail root"; };
  };
  report-hook-type = {
    expect = "A definition for option `services.zfs-gatekeeper.auditReport.onDenial' is not of type `null or strings concatenated with";
    module = withReport { onDenial = [ "mail" "root" ]; };
  };
  report-start-type = {
    expect = "A definition for option `services.zfs-gatekeeper.auditReport.startAt' is not of type `string'.";
    module = withReport { startAt = 3600; };
  };

  # ---- moving a hand-made account to the module (cases/seed-source.nix)
  seed-old-key-kept = {
    expect = "users.users.backup.openssh.authorizedKeys.keys has a line services.zfs-gatekeeper did not generate: \"command=\"/usr/local/bin/zfs-backup-wrapper\",no-pty ${seedKey}\". sshd uses the first line that matches a key, so it could be used instead of the gatekeeper.";
    module = {
      imports = [ seed ];
      users.users.backup.openssh.authorizedKeys.keys = [ "command=\"/usr/local/bin/zfs-backup-wrapper\",no-pty ${seedKey}" ];
    };
  };
  seed-plain-key-kept = {
    expect = "users.users.backup.openssh.authorizedKeys.keys has a line services.zfs-gatekeeper did not generate: \"${seedKey}\".";
    module = { imports = [ seed ]; users.users.backup.openssh.authorizedKeys.keys = [ seedKey ]; };
  };
  seed-key-file-kept = {
    expect = "users.users.backup.openssh.authorizedKeys.keyFiles must be empty";
    module = { imports = [ seed ]; users.users.backup.openssh.authorizedKeys.keyFiles = [ "/etc/nixos/backup.pub" ]; };
  };
  seed-home-overridden = {
    expect = "users.users.backup: home must stay /var/empty (sshd reads %h/.ssh/authorized_keys before the module's keys)";
    module = { lib, ... }: { imports = [ seed ]; users.users.backup.home = lib.mkOverride 10 "/home/backup"; };
  };

  # ---- NixOS itself (the stubs' types and assertions), as a real system would refuse it
  nixos-passwd-colon = {
    expect = "A definition for option `users.users.alice.description' is not of type `string, not containing newlines or colons'.";
    module = { users.users.alice = { isNormalUser = true; description = "Alice: admin"; }; };
  };
  nixos-normal-and-system-user = {
    expect = "Exactly one of users.users.alice.isSystemUser and users.users.alice.isNormalUser must be set.";
    module = { users.users.alice = { isNormalUser = true; isSystemUser = true; }; };
  };
  nixos-user-group-undefined = {
    expect = "The following users have a primary group that is undefined: alice";
    module = { users.users.alice = { isSystemUser = true; group = "alice"; }; };
  };
  nixos-unit-name = {
    expect = "A definition for option `systemd.services.x.after.\"[definition 1-entry 1]\"' is not of type `string matching the pattern [a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)'.";
    module = { systemd.services.x.after = [ "zfs" ]; };
  };
  nixos-service-type = {
    expect = "A definition for option `systemd.services.x.serviceConfig' is not of type `attribute set of (systemd option)'.";
    module = { systemd.services.x.serviceConfig.Type = "oneshott"; };
  };
  nixos-service-value = {
    expect = "A definition for option `systemd.services.x.serviceConfig.ExecStart' is not of type `systemd option'.";
    module = { systemd.services.x.serviceConfig.ExecStart = { program = "/bin/true"; }; };
  };
  nixos-known-host-without-key = {
    expect = "knownHost optinix must contain either a publicKey or publicKeyFile";
    module = { programs.ssh.knownHosts.optinix.hostNames = [ "optinix" ]; };
  };

  # ---- target assertions
  job-source-without-user = {
    expect = "services.zfs-puller.jobs.optinix-home.source = \"optinix:NIXROOT/home\" is not of the form \"user@host:pool/dataset\".";
    module = withJob { source = "optinix:NIXROOT/home"; };
  };
  job-source-bad-dataset = {
    expect = "names dataset \"NIXROOT/home/\", which ends with \"/\".";
    module = withJob { source = "zfs-backup@optinix:NIXROOT/home/"; };
  };
  job-target-bad-dataset = {
    expect = "services.zfs-puller.jobs.optinix-home.target: \"b//optinix-home\" is not a dataset name ZFS accepts";
    module = withJob { target = "b//optinix-home"; };
  };
  job-key-in-store = {
    expect = "services.zfs-puller.jobs.optinix-home.sshKey must be an absolute path outside the Nix store";
    module = withJob { sshKey = "/nix/store/00000000000000000000000000000000-key"; };
  };
  job-known-hosts-relative = {
    expect = "services.zfs-puller.jobs.optinix-home.knownHosts must be an absolute path.";
    module = withJob { knownHosts = "known_hosts"; };
  };
  job-prefix = {
    expect = "services.zfs-puller.jobs.optinix-home.prefix = \"_x\" must start with a letter";
    module = withJob { prefix = "_x"; };
  };
  wrong-type-job-port = {
    expect = "A definition for option `services.zfs-puller.jobs.optinix-home.port' is not of type `16 bit unsigned integer; between 0 and 65535 (both inclusive)'.";
    module = withJob { port = 70000; };
  };
  job-name = {
    expect = "services.zfs-puller.jobs.\"a b\": the job name must match";
    module = newJob "a b" { source = "u@h:tank/data"; target = "b/data"; };
  };
  status-textfile-not-prom = {
    expect = "services.zfs-puller.status.prometheusFile = \"/var/lib/node-exporter/zfs-puller.txt\" must be an absolute path of [A-Za-z0-9._+@/-] ending in .prom";
    module = { imports = [ target ]; services.zfs-puller.status.prometheusFile = "/var/lib/node-exporter/zfs-puller.txt"; };
  };
  status-textfile-relative = {
    expect = "services.zfs-puller.status.prometheusFile = \"zfs-puller.prom\" must be an absolute path";
    module = { imports = [ target ]; services.zfs-puller.status.prometheusFile = "zfs-puller.prom"; };
  };
  status-warn-not-an-age = {
    expect = "services.zfs-puller.status: warn = \"a day\" and crit = \"50h\" must be ages such as";
    module = { imports = [ target ]; services.zfs-puller.status.warn = "a day"; };
  };
  status-warn-after-crit = {
    expect = "services.zfs-puller.status: warn = \"3d\" and crit = \"50h\" must be ages such as \"26h\" or \"2d\" (a whole number and one of s, m, h, d, w), warn not longer than crit.";
    module = { imports = [ target ]; services.zfs-puller.status.warn = "3d"; };
  };
  # ---- the restore identity and a job's restore settings
  restore-key-of-a-pulling-identity = {
    expect = "is also a pulling identity's key; a restore key must be a key of its own";
    module = withRestore { publicKeys = [ restoreKey "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJOeIGG+MO417KRPo/b0DtuaC3WuNbXc/s5JcJNOQxUI zfs-puller@backup" ]; };
  };
  restore-root-a-pulled-dataset = {
    expect = "services.zfs-gatekeeper.restore.restoreRoot = \"NIXROOT/home\" is a dataset a pulling identity lists";
    module = withRestore { restoreRoot = "NIXROOT/home"; };
  };
  restore-root-a-pool = {
    expect = "services.zfs-gatekeeper.restore.restoreRoot = \"NIXROOT\" must be a dataset below its pool";
    module = withRestore { restoreRoot = "NIXROOT"; };
  };
  restore-root-missing = {
    expect = "services.zfs-gatekeeper.restore.restoreRoot = \"\" must be a dataset below its pool";
    module = withRestore { restoreRoot = null; };
  };
  restore-without-keys = {
    expect = "services.zfs-gatekeeper.restore.publicKeys is empty: nobody could restore.";
    module = withRestore { publicKeys = [ ]; };
  };
  restore-identity-name-taken = {
    expect = "services.zfs-gatekeeper.restore.identity = \"optinix-home\" must match";
    module = withRestore { identity = "optinix-home"; };
  };
  restore-bad-key = {
    expect = "services.zfs-gatekeeper.restore.publicKeys: \"ssh-ed25519 nope\" does not parse as an OpenSSH public key";
    module = withRestore { publicKeys = [ "ssh-ed25519 nope" ]; };
  };
  job-restore-key-without-root = {
    expect = "services.zfs-puller.jobs.optinix-home: restoreRoot and restoreSshKey go together";
    module = withJob { restoreSshKey = "/var/lib/zfs-puller/id_restore"; };
  };
  job-restore-key-is-the-pull-key = {
    expect = "services.zfs-puller.jobs.optinix-home: restoreRoot and restoreSshKey go together";
    module = withJob { restoreRoot = "NIXROOT/restore"; restoreSshKey = "/var/lib/zfs-puller/id_ed25519"; };
  };
  job-without-target = {
    expect = "The option `services.zfs-puller.jobs.new.target' was accessed but has no value defined.";
    module = newJob "new" { source = "u@h:tank/data"; };
  };
}

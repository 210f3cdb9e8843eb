# Configurations that must be refused, each with a substring of the expected error.
# tests/run evaluates each through harness.nix and checks it fails with that message.
let
  source = ../examples/source.nix;
  target = ../examples/target.nix;
  syncoid = ../examples/syncoid-target.nix;
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
    expect = "A definition for option `services.zfs-gatekeeper.identities.optinix-home.publicKeys' is not of type `list of string'.";
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
    expect = "A definition for option `services.sanoid.datasets.\"b/optinix-home\".use_template.\"[definition 1-entry 1]\"' is not of type `value \"backup\" (singular enum)'.";
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
    expect = "does not parse as an OpenSSH public key: it contains a newline or control character.";
    module = newIdentity "offsite" { datasets = [ "tank/data" ]; publicKeys = [ "${key}\n${key}" ]; };
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
  job-name = {
    expect = "services.zfs-puller.jobs.\"a b\": the job name must match";
    module = newJob "a b" { source = "u@h:tank/data"; target = "b/data"; };
  };
  job-without-target = {
    expect = "The option `services.zfs-puller.jobs.new.target' was accessed but has no value defined.";
    module = newJob "new" { source = "u@h:tank/data"; };
  };
}

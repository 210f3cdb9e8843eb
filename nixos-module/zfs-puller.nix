# Target side: services.zfs-puller. One hardened systemd service + timer per job that pulls
# a dataset from a gatekeeper-protected source; optional retention through upstream sanoid.
# All text is rendered by ./lib.nix (pure, builtins only); this file only wires options.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf types literalExpression;
  zg = import ./lib.nix;
  cfg = config.services.zfs-puller;

  # The booted system's zfs: the userland must match the loaded kernel module
  # (same choice and reason as nixpkgs' syncoid module).
  zfs = "/run/booted-system/sw/bin/zfs";

  user = "zfs-puller";
  configFile = "/etc/zfs-puller/config.toml";

  configText = zg.renderPullerConfig {
    programs = {
      inherit zfs;
      ssh = "${pkgs.openssh}/bin/ssh";
    };
    jobs = cfg.jobs;
    inherit (cfg) status;
  };

  unitName = name: "zfs-puller-${zg.escapeUnitName name}";

  retentionWanted = r: r.hourly + r.daily + r.weekly + r.monthly + r.yearly > 0;
  jobsWithRetention = lib.filterAttrs (_: job: retentionWanted job.retention) cfg.jobs;

  jobService = name: job:
    let
      args = zg.targetGrant { inherit zfs user job; };
      allow = pkgs.writeShellScript "zfs-puller-allow-${zg.escapeUnitName name}" (zg.targetAllowScript args);
      unallow = pkgs.writeShellScript "zfs-puller-unallow-${zg.escapeUnitName name}" (zg.targetUnallowScript args);
    in
    {
      description = "zfs-puller: pull ${job.source} into ${job.target}";
      after = [ "network-online.target" "zfs.target" ];
      wants = [ "network-online.target" ];
      serviceConfig = zg.unprivilegedUnitHardening // {
        Type = "oneshot";
        ExecStart = zg.escapeShellArgs [ "${cfg.package}/bin/zfs-puller" "--config" configFile "--job" name ];
        # "+": only these two run as root, to delegate receive on the target for this run
        # and take it back afterwards; "-": a failed unallow does not mask the run's result.
        ExecStartPre = [ "+${allow}" ];
        ExecStopPost = [ "-+${unallow}" ];
        User = user;
        Group = user;
        # Private keys live here, readable by the puller only.
        StateDirectory = "zfs-puller";
        StateDirectoryMode = "0700";
        # The ControlMaster socket's directory is made in /tmp: a private one per run, so two
        # jobs never share SSH control sockets or temporary files.
        PrivateTmp = true;
        # Empty capability sets: everything ZFS-side comes from `zfs allow` delegation.
        AmbientCapabilities = "";
        CapabilityBoundingSet = "";
        # /dev/zfs and the standard pseudo devices only.
        DevicePolicy = "closed";
        DeviceAllow = [ "/dev/zfs rw" ];
        # No user namespace: with one, zfs >= 2.2 lists no datasets (nixpkgs turned it off in
        # its syncoid unit for the same reason).
        PrivateUsers = false;
        # ssh needs IP; zfs and nscd need AF_UNIX.
        RestrictAddressFamilies = [ "AF_UNIX" "AF_INET" "AF_INET6" ];
        # From the service set minus groups ssh and zfs do not use.
        SystemCallFilter = [
          "@system-service"
          # The groups nixpkgs' syncoid unit drops after measuring zfs send/receive over ssh
          # (recipe in nixos/modules/services/backup/syncoid.nix). Re-measure for zfs-puller.
          "~@aio"
          "~@chown"
          "~@keyring"
          "~@memlock"
          "~@privileged"
          "~@resources"
          "~@setuid"
          "~@timer"
        ];
      } // lib.optionalAttrs (cfg.status.prometheusFile != null) {
        # Every run writes the status textfile, replaced through a temporary file beside it.
        # "-": a missing directory is the run's error message, not a failed unit set-up.
        ReadWritePaths = [ "-${builtins.dirOf cfg.status.prometheusFile}" ];
      };
    };
in
{

  # Interface

  options.services.zfs-puller = {
    enable = mkEnableOption "zfs-puller, which pulls ZFS datasets from gatekeeper-protected sources";

    package = mkOption {
      type = types.package;
      default = zg.defaultPackage pkgs "services.zfs-puller.package";
      defaultText = literalExpression "pkgs.zfs-gatekeeper";
      description = ''
        Package providing `bin/zfs-puller` (the same meson project builds both programs;
        the flake's `nixosModules.default` sets it). Without the flake, set it, or apply the
        flake's `overlays.default` so that `pkgs.zfs-gatekeeper` exists.
      '';
    };

    status = {
      prometheusFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/var/lib/prometheus-node-exporter/zfs-puller.prom";
        description = ''
          Node-exporter textfile every run writes at its end (`[status] prometheus_textfile`):
          per job and dataset the last success, the newest common snapshot's creation, the
          bytes of the last transfer, whether it is failing and its state, replaced
          atomically. The directory must exist and be writable by the `zfs-puller` user;
          point node exporter's `--collector.textfile.directory` at it.
          `zfs-puller status` shows the same on a terminal.
        '';
      };

      warn = mkOption {
        type = types.str;
        default = "26h";
        example = "36h";
        description = ''
          A dataset whose last success is older than this is stale: `zfs-puller status`
          exits 1 (`[status] warn`). A whole number and one of s, m, h, d, w.
        '';
      };

      crit = mkOption {
        type = types.str;
        default = "50h";
        example = "3d";
        description = ''
          Older than this it is critical: `zfs-puller status` exits 2, as it does for a
          failing dataset or one never pulled (`[status] crit`). At least {option}`warn`.
        '';
      };
    };

    jobs = mkOption {
      default = { };
      description = ''
        Pull jobs. Each becomes `zfs-puller-<name>.service`, started by
        `zfs-puller-<name>.timer`, and a `[job.<name>]` section of
        `/etc/zfs-puller/config.toml`.
      '';
      example = literalExpression ''
        {
          optinix-home = {
            source = "zfs-backup@optinix:NIXROOT/home";
            target = "b/optinix-home";
            sshKey = "/var/lib/zfs-puller/id_ed25519";
            retention = { daily = 14; weekly = 8; monthly = 12; };
          };
        }
      '';
      type = types.attrsOf (types.submodule {
        options = {
          source = mkOption {
            type = types.str;
            example = "zfs-backup@optinix:NIXROOT/home";
            description = "Remote dataset, `user@host:pool/dataset`; the user is the gatekeeper user.";
          };

          target = mkOption {
            type = types.str;
            example = "b/optinix-home";
            description = "Local dataset to receive into. Created by the first (full) pull.";
          };

          sshKey = mkOption {
            type = types.str;
            example = "/var/lib/zfs-puller/id_ed25519";
            description = ''
              Private key file, readable by the `zfs-puller` user. A string, so the key is
              never copied into the world-readable Nix store.
            '';
          };

          knownHosts = mkOption {
            type = types.str;
            default = "/etc/ssh/ssh_known_hosts";
            description = ''
              known_hosts file the source's host key is checked against (host key checking
              is always on). The default is the file NixOS writes from
              {option}`programs.ssh.knownHosts`.
            '';
          };

          port = mkOption {
            type = types.port;
            default = 22;
            description = "SSH port of the source.";
          };

          prefix = mkOption {
            type = types.str;
            default = "zfs-puller_";
            example = "zfs-puller_backup_";
            description = ''
              Name prefix of the puller's sync snapshots (`<prefix><UTC time>`) and of its hold
              tag (`<prefix>keep`). Must equal the `snapshotPrefix` of the source's identity
              for this key: the gatekeeper lets the key create, hold, release and destroy only
              snapshots with that prefix. Two backup hosts pulling the same dataset need
              different prefixes.
            '';
          };

          keepSource = mkOption {
            type = types.ints.unsigned;
            default = 3;
            description = ''
              How many of its own sync snapshots the puller keeps on the source; older ones it
              destroys there. `0`: it never destroys anything on the source, the only setting
              that works with an identity that has `allowDestroy = false`.
            '';
          };

          keepTarget = mkOption {
            type = types.ints.unsigned;
            default = 30;
            description = ''
              How many of its own sync snapshots the puller keeps on the target (the source's
              other snapshots are pruned by {option}`retention`). `0`: it never destroys
              anything on the target, and is not granted `destroy` there.
            '';
          };

          startAt = mkOption {
            type = types.str;
            default = "daily";
            example = "*-*-* 02:30:00";
            description = "When to pull, as a systemd calendar event (systemd.time(7)).";
          };

          recursive = mkOption {
            type = types.bool;
            default = false;
            description = "Also pull the child datasets of the source.";
          };

          raw = mkOption {
            type = types.bool;
            default = false;
            description = ''
              Raw sends (`zfs send -w`): encrypted datasets arrive encrypted and the target
              never holds their keys. Required when the identity has `rawOnly = true`.
            '';
          };

          retention = mkOption {
            default = { };
            example = { daily = 14; weekly = 8; monthly = 12; };
            description = ''
              How many of the source's periodic (sanoid `autosnap_*`) snapshots to keep on
              the target. When any count is non-zero, upstream `services.sanoid` prunes the
              target with `autosnap = false` (it never takes snapshots of received data, which
              would break incremental receives). All zero: nothing is pruned here.
            '';
            type = types.submodule {
              options = {
                hourly = mkOption { type = types.ints.unsigned; default = 0; description = "Hourly snapshots to keep."; };
                daily = mkOption { type = types.ints.unsigned; default = 0; description = "Daily snapshots to keep."; };
                weekly = mkOption { type = types.ints.unsigned; default = 0; description = "Weekly snapshots to keep."; };
                monthly = mkOption { type = types.ints.unsigned; default = 0; description = "Monthly snapshots to keep."; };
                yearly = mkOption { type = types.ints.unsigned; default = 0; description = "Yearly snapshots to keep."; };
              };
            };
          };

          restoreRoot = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "NIXROOT/restore";
            description = ''
              For `zfs-puller restore JOB DATASET` (run by hand, as root): the source's restore
              root, {option}`services.zfs-gatekeeper.restore.restoreRoot` there. null: this job
              has no restore.
            '';
          };

          restoreSshKey = mkOption {
            type = types.nullOr types.str;
            default = null;
            example = "/var/lib/zfs-puller/id_restore";
            description = ''
              Private key of the source's restore identity: a key of its own, never
              {option}`sshKey`. Required with {option}`restoreRoot`; a string, outside the store.
            '';
          };

          restoreUser = mkOption {
            type = types.nullOr types.str;
            default = null;
            description = "The account the restore key logs in as; null: the user of {option}`source`.";
          };
        };
      });
    };
  };

  # Implementation

  config = mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.status.prometheusFile == null
          || (builtins.match "/.*[^/][.]prom" cfg.status.prometheusFile != null
          && builtins.substring 0 11 cfg.status.prometheusFile != "/nix/store/"
          && builtins.match "[A-Za-z0-9._+@/-]*" cfg.status.prometheusFile != null);
        message = "services.zfs-puller.status.prometheusFile = \"${toString cfg.status.prometheusFile}\" must be an absolute path of [A-Za-z0-9._+@/-] ending in .prom (node exporter reads only those), outside the Nix store.";
      }
      {
        assertion = zg.ageSeconds cfg.status.warn != null && zg.ageSeconds cfg.status.crit != null
          && zg.ageSeconds cfg.status.warn <= zg.ageSeconds cfg.status.crit;
        message = "services.zfs-puller.status: warn = \"${cfg.status.warn}\" and crit = \"${cfg.status.crit}\" must be ages such as \"26h\" or \"2d\" (a whole number and one of s, m, h, d, w), warn not longer than crit.";
      }
    ] ++ builtins.concatLists (lib.mapAttrsToList
      (name: job: [
        {
          assertion = zg.isValidName name;
          message = "services.zfs-puller.jobs.\"${name}\": the job name must match ${zg.namePattern} (it names a systemd unit and a TOML key).";
        }
        {
          assertion = zg.remoteProblem job.source == null;
          message = "services.zfs-puller.jobs.${name}.source = \"${job.source}\" ${toString (zg.remoteProblem job.source)}.";
        }
        {
          assertion = zg.isValidDatasetName job.target;
          message = "services.zfs-puller.jobs.${name}.target: \"${job.target}\" is not a dataset name ZFS accepts: it ${toString (zg.datasetNameProblem job.target)}.";
        }
        {
          assertion = builtins.substring 0 1 job.sshKey == "/" && builtins.substring 0 11 job.sshKey != "/nix/store/";
          message = "services.zfs-puller.jobs.${name}.sshKey must be an absolute path outside the Nix store (the store is world-readable).";
        }
        {
          assertion = builtins.substring 0 1 job.knownHosts == "/";
          message = "services.zfs-puller.jobs.${name}.knownHosts must be an absolute path.";
        }
        {
          assertion = (job.restoreRoot == null && job.restoreSshKey == null)
            || (job.restoreRoot != null && zg.isValidDatasetName job.restoreRoot
            && builtins.match ".*/.*" job.restoreRoot != null
            && job.restoreSshKey != null && builtins.substring 0 1 job.restoreSshKey == "/"
            && builtins.substring 0 11 job.restoreSshKey != "/nix/store/"
            && job.restoreSshKey != job.sshKey);
          message = "services.zfs-puller.jobs.${name}: restoreRoot and restoreSshKey go together: restoreRoot a dataset below its pool on the source, restoreSshKey an absolute path outside the Nix store and not sshKey (the restore key is a key of its own).";
        }
        {
          assertion = zg.isValidSnapshotPrefix job.prefix;
          message = "services.zfs-puller.jobs.${name}.prefix = \"${job.prefix}\" must start with a letter and use [A-Za-z0-9_.:-], at most 64 characters (zfs-puller's rule, and the gatekeeper's for snapshotPrefix).";
        }
      ])
      cfg.jobs);

    users.users.${user} = {
      isSystemUser = true;
      group = user;
      # A passwd field: no colon.
      description = "zfs-puller pull account (ZFS backups over SSH)";
      # Holds the SSH private keys (StateDirectory, mode 0700).
      home = "/var/lib/zfs-puller";
      createHome = false;
    };

    users.groups.${user} = { };

    environment.etc."zfs-puller/config.toml".text = configText;

    systemd.services = lib.mapAttrs' (name: job: lib.nameValuePair (unitName name) (jobService name job)) cfg.jobs;

    systemd.timers = lib.mapAttrs'
      (name: job: lib.nameValuePair (unitName name) {
        description = "zfs-puller: pull ${job.source} (${job.startAt})";
        wantedBy = [ "timers.target" ];
        timerConfig = {
          OnCalendar = job.startAt;
          # A pull missed while the host was off runs at the next boot.
          Persistent = true;
          # Many targets on the same schedule do not all hit the source at once.
          RandomizedDelaySec = "10min";
        };
      })
      cfg.jobs;

    services.sanoid = mkIf (jobsWithRetention != { }) {
      enable = true;
      templates = lib.mapAttrs'
        (name: job: lib.nameValuePair "zfs-puller-${name}" {
          inherit (job.retention) hourly daily weekly monthly yearly;
          # Never snapshot received data (it would break the next incremental receive);
          # only prune what the source's sanoid created.
          autosnap = false;
          autoprune = true;
        })
        jobsWithRetention;
      datasets = lib.mapAttrs'
        (name: job: lib.nameValuePair job.target {
          use_template = [ "zfs-puller-${name}" ];
          recursive = job.recursive;
        })
        jobsWithRetention;
    };
  };
}

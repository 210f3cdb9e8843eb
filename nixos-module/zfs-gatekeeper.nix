# Source side: services.zfs-gatekeeper. A system user whose only way in is the gatekeeper,
# the policy file, one authorized_keys line per key, and the `zfs allow` delegation.
# All text is rendered by ./lib.nix (pure, builtins only); this file only wires options.
{ config, lib, pkgs, ... }:

let
  inherit (lib) mkOption mkEnableOption mkIf mkForce types literalExpression;
  zg = import ./lib.nix;
  cfg = config.services.zfs-gatekeeper;

  # The booted system's zfs, as nixpkgs' syncoid module does: the userland must match the
  # loaded kernel module, which the booted system guarantees and pkgs.zfs does not.
  zfs = "/run/booted-system/sw/bin/zfs";
  zpool = "/run/booted-system/sw/bin/zpool";

  gatekeeper = "${cfg.package}/bin/zfs-gatekeeper";

  programPath = tool:
    let t = zg.toolPackages.${tool}; in "${pkgs.${t.package}}/bin/${t.program}";

  policyText = zg.renderPolicy {
    programs = zg.policyPrograms { inherit zfs zpool programPath; identities = cfg.identities; };
    audit = cfg.audit;
    identities = cfg.identities;
    restore = if restore.enable then { inherit (restore) identity restoreRoot; } else null;
  };

  # The restore identity (zfs-puller restore): off unless enabled; its keys are its own.
  restore = cfg.restore;
  restoreKeys = lib.optionals restore.enable (map
    (key: zg.authorizedKeyLine {
      inherit gatekeeper key;
      policyFile = cfg.policyFile;
      identity = restore.identity;
    })
    restore.publicKeys);
  # Keys a pulling identity has too: sshd would use the first line of such a key.
  restoreSharedKeys = builtins.filter
    (key: builtins.any (i: builtins.elem key i.publicKeys) (builtins.attrValues cfg.identities))
    restore.publicKeys;

  authorizedKeys = builtins.concatLists (lib.mapAttrsToList
    (name: identity: map
      (key: zg.authorizedKeyLine {
        inherit gatekeeper key;
        policyFile = cfg.policyFile;
        identity = name;
      })
      identity.publicKeys)
    cfg.identities) ++ restoreKeys;

  # What sshd reads for this user, besides the lines above: a line the module did not write
  # (a hand-made `command=` key of an older set-up) could be the one sshd picks.
  account = config.users.users.${cfg.user};
  foreignKeys = builtins.filter (line: !(builtins.elem line authorizedKeys)) (account.openssh.authorizedKeys.keys or [ ]);
  sharedKeys = zg.sharedPublicKeys cfg.identities;

  report = cfg.auditReport;
  # Where the report reads the records: the audit file when there is one (complete, and
  # readable as the gatekeeper user), else the journal.
  reportFromJournal = cfg.audit.file == null;
  reportStateDirectory = "zfs-gatekeeper-audit-report";
  reportScript = pkgs.writeShellScript "zfs-gatekeeper-audit-report" (zg.auditReportScript {
    inherit gatekeeper;
    coreutils = "${pkgs.coreutils}/bin";
    journalctl = "${config.systemd.package}/bin/journalctl";
    auditFile = cfg.audit.file;
    prometheusFile = report.prometheusFile;
  });
  denialScript = pkgs.writeShellScript "zfs-gatekeeper-audit-denial" (zg.auditDenialScript {
    report = "/var/lib/${reportStateDirectory}/report.txt";
    hook = "${pkgs.writeShellScript "zfs-gatekeeper-on-denial" report.onDenial}";
  });

  allowScript = pkgs.writeShellScript "zfs-gatekeeper-allow" (zg.allowScript {
    inherit zfs;
    stateFile = "/var/lib/zfs-gatekeeper/zfs-allow.state";
    grants = zg.sourceGrants cfg.user cfg.identities
      ++ lib.optional restore.enable (zg.restoreGrant cfg.user restore.restoreRoot);
  });

  identityAssertions = name: identity:
    [
      {
        assertion = zg.isValidName name;
        message = "services.zfs-gatekeeper.identities.\"${name}\": the identity name must match ${zg.namePattern}, at most 64 characters (it becomes a TOML key and a word in the forced command).";
      }
      {
        assertion = identity.datasets != [ ];
        message = "services.zfs-gatekeeper.identities.${name}.datasets is empty: an identity must list at least one dataset it may pull.";
      }
      {
        assertion = builtins.elem identity.preset zg.presets;
        message = "services.zfs-gatekeeper.identities.${name}.preset = \"${identity.preset}\" is not a known preset; use one of: ${builtins.concatStringsSep ", " zg.presets}.";
      }
      {
        assertion = zg.isValidSnapshotPrefix identity.snapshotPrefix;
        message = "services.zfs-gatekeeper.identities.${name}.snapshotPrefix = \"${identity.snapshotPrefix}\" must be non-empty, start with a letter and use [A-Za-z0-9_.:-], at most 64 characters (an empty prefix would cover every snapshot).";
      }
      {
        assertion = identity.publicKeys != [ ];
        message = "services.zfs-gatekeeper.identities.${name}.publicKeys is empty: nobody could log in as this identity.";
      }
    ]
    ++ map
      (ds: {
        assertion = zg.isValidDatasetName ds;
        message = "services.zfs-gatekeeper.identities.${name}.datasets: \"${ds}\" is not a dataset name ZFS accepts: it ${toString (zg.datasetNameProblem ds)}.";
      })
      identity.datasets
    ++ [{
      assertion = zg.mbufferSizeProblem identity.mbufferMaxMemory == null;
      message = "services.zfs-gatekeeper.identities.${name}.mbufferMaxMemory = \"${identity.mbufferMaxMemory}\" ${toString (zg.mbufferSizeProblem identity.mbufferMaxMemory)}.";
    }]
    ++ syncoidAssertions name identity
    ++ map
      (key: {
        assertion = zg.isValidPublicKey key;
        message = "services.zfs-gatekeeper.identities.${name}.publicKeys: \"${key}\" does not parse as an OpenSSH public key: it ${toString (zg.publicKeyProblem key)}.";
      })
      identity.publicKeys;

  # What the identity says about syncoid on its backup host must match what that syncoid sends.
  syncoidAssertions = name: identity:
    let
      option = "services.zfs-gatekeeper.identities.${name}";
      derived = zg.syncoidSnapshotPrefix { host = identity.backupHost; args = identity.syncoidArgs; };
      mbufferArg = zg.syncoidOption "mbuffer-size" identity.syncoidArgs;
      sent = zg.syncoidMbufferSize identity.syncoidArgs;
      allowed = zg.mbufferBytes identity.mbufferMaxMemory;
    in
    if identity.preset == "puller" then [
      {
        assertion = identity.backupHost == null && identity.syncoidArgs == [ ];
        message = "${option}: backupHost and syncoidArgs describe syncoid; preset ${identity.preset} is zfs-puller's, whose snapshot names come from the job's prefix: set snapshotPrefix to it instead.";
      }
    ] else lib.optionals (builtins.elem identity.preset zg.syncoidPresets) [
      {
        # The host is known, so anything but syncoid's own names for it is a mistake: a
        # shorter prefix also admits other backup hosts' snapshots, another one none of these.
        assertion = identity.backupHost == null || identity.snapshotPrefix == derived;
        message = "${option}.snapshotPrefix = \"${identity.snapshotPrefix}\", but syncoid on ${toString identity.backupHost} names its sync snapshots ${derived}<date> and its hold tag ${builtins.substring 0 (builtins.stringLength derived - 1) derived}: "
          + (if zg.hasPrefix identity.snapshotPrefix derived
          then "this prefix also admits other backup hosts' snapshots, which this key could then destroy, hold or release."
          else "the gatekeeper would deny them.")
          + " Remove snapshotPrefix (backupHost sets it to \"${derived}\"), or remove backupHost to share one prefix between backup hosts knowingly.";
      }
      {
        assertion = zg.mbufferSizeProblem sent == null;
        message = "${option}.syncoidArgs: --mbuffer-size=${sent} ${toString (zg.mbufferSizeProblem sent)}; the gatekeeper would deny every send through mbuffer.";
      }
      {
        assertion = !(builtins.elem "mbuffer" identity.tools) || allowed == null || zg.mbufferBytes sent == null || allowed >= zg.mbufferBytes sent;
        message = "${option}.mbufferMaxMemory = \"${identity.mbufferMaxMemory}\" is less than the mbuffer -m ${sent} syncoid sends ("
          + (if mbufferArg != null then "its --mbuffer-size in syncoidArgs" else "syncoid's default; put the backup host's --mbuffer-size in syncoidArgs if it sets one")
          + "): the gatekeeper would deny every send through mbuffer. Raise mbufferMaxMemory, or remove it (it follows syncoidArgs).";
      }
    ];
in
{

  # Interface

  options.services.zfs-gatekeeper = {
    enable = mkEnableOption "zfs-gatekeeper, the SSH forced command that lets backup hosts pull ZFS snapshots without a shell";

    package = mkOption {
      type = types.package;
      default = zg.defaultPackage pkgs "services.zfs-gatekeeper.package";
      defaultText = literalExpression "pkgs.zfs-gatekeeper";
      description = ''
        The zfs-gatekeeper package (the flake's `packages.<system>.default`; the flake's
        `nixosModules.default` sets it). Its `bin/zfs-gatekeeper` is the forced command and
        the login shell of {option}`services.zfs-gatekeeper.user`. Without the flake, set it,
        or apply the flake's `overlays.default` so that `pkgs.zfs-gatekeeper` exists.
      '';
    };

    user = mkOption {
      type = types.str;
      default = "zfs-backup";
      example = "backup";
      description = ''
        System user the pulling hosts log in as. It is created with the gatekeeper as its
        login shell, receives the authorized_keys lines of every identity, and is granted
        exactly the `zfs allow` permissions the identities' presets need.
      '';
    };

    policyFile = mkOption {
      type = types.str;
      default = "/etc/zfs-gatekeeper/policy.toml";
      readOnly = true;
      description = ''
        Where the generated policy is written: a root-owned copy (not a symlink, the
        gatekeeper opens it with O_NOFOLLOW), mode 0444. Read only; validate it with
        `zfs-gatekeeper --policy /etc/zfs-gatekeeper/policy.toml --check`.
      '';
    };

    audit = {
      file = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/var/log/zfs-gatekeeper/audit.jsonl";
        description = ''
          JSON-lines audit log, one record per request. Its directory is created owned by
          {option}`services.zfs-gatekeeper.user`, mode 0750. `null`: no file, only syslog.
        '';
      };

      syslog = mkOption {
        type = types.bool;
        default = true;
        description = ''
          Send audit records to syslog (the journal on NixOS). The policy marks auditing as
          required: a request whose record cannot be written is denied.
        '';
      };
    };

    auditReport = {
      enable = mkEnableOption ''
        a periodic audit report (`zfs-gatekeeper audit-report`) over the records written since
        its previous run, from the audit file or, without one, from the journal. A run that finds
        denials, sessions the sandbox killed or lines that are no valid record fails
        `zfs-gatekeeper-audit-report.service` (and starts {option}`onDenial`); one that cannot
        read the records fails it too'';

      startAt = mkOption {
        type = types.str;
        default = "hourly";
        example = "daily";
        description = ''
          When to report, as a systemd calendar event (systemd.time(7)). Each run covers the
          time since the previous one, whatever the interval (a run missed while the host was
          off catches up at boot).
        '';
      };

      prometheusFile = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "/var/lib/prometheus-node-exporter/zfs-gatekeeper/audit.prom";
        description = ''
          Also write node-exporter textfile metrics of each run here (`--prometheus`), replaced
          atomically: decisions per identity and client, sandbox kills, bad records, an alarm
          flag and the time of the report (alert when it grows old: the report broke). The
          directory must exist and be writable by {option}`services.zfs-gatekeeper.user`;
          point node exporter's `--collector.textfile.directory` at it.
        '';
      };

      onDenial = mkOption {
        type = types.nullOr types.lines;
        default = null;
        example = literalExpression "\"\${pkgs.mailutils}/bin/mail -s 'zfs-gatekeeper: denied commands on optinix' root\"";
        description = ''
          Shell commands run (as root, by `zfs-gatekeeper-audit-denial.service`) when a report
          finds something: denials, sandbox kills or bad records. The report text is on
          standard input, and its path in `$ZFS_GATEKEEPER_REPORT`. Not run when no report
          could be made; the failed report unit shows that. `null`: no hook; the failed unit
          is the alert.
        '';
      };
    };

    identities = mkOption {
      default = { };
      description = ''
        One entry per pulling key (or group of keys): what it may reach and do. The
        attribute name is the identity name of the policy (`[identity.<name>]`).
      '';
      example = literalExpression ''
        {
          optinix-home = {
            publicKeys = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... root@backup" ];
            datasets = [ "NIXROOT/home" ];
            preset = "syncoid-pull";
            tools = [ "lzop" "mbuffer" ];
          };
        }
      '';
      type = types.attrsOf (types.submodule ({ config, ... }: {
        options = {
          publicKeys = mkOption {
            # One line each, as users.users.<name>.openssh.authorizedKeys.keys takes them.
            type = types.listOf types.singleLineStr;
            # An empty list is caught by an assertion with a clearer message than
            # "used but not defined".
            default = [ ];
            example = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... root@backup" ];
            description = ''
              OpenSSH public keys, bare (`TYPE BASE64 [COMMENT]`, no options). Each gets one
              authorized_keys line `restrict,command="... --identity <name>" <key>`.
            '';
          };

          datasets = mkOption {
            type = types.listOf types.str;
            default = [ ];
            example = [ "NIXROOT/home" ];
            description = ''
              Dataset subtrees this identity may read (and, per preset, snapshot, hold,
              bookmark and prune). Matched component by component: `tank/data` never
              matches `tank/database`.
            '';
          };

          preset = mkOption {
            type = types.str;
            default = "syncoid-pull";
            example = "puller";
            description = ''
              What the identity may run: `syncoid-pull` (what syncoid sends when it pulls),
              `puller` (exactly what zfs-puller sends) or `read-only` (sends of existing
              snapshots only).
            '';
          };

          backupHost = mkOption {
            # What `hostname` prints on the backup host (a NixOS host's networking.hostName).
            type = types.nullOr (types.strMatching "[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?");
            default = null;
            example = "backup";
            description = ''
              The backup host that pulls with this identity's keys, as `hostname` prints it
              there (on NixOS its {option}`networking.hostName`). syncoid names its sync
              snapshots `syncoid_[ID_]HOST_<date>` and its hold tag `syncoid_[ID_]HOST` after
              that host, so for presets `syncoid-pull` and `read-only` the
              {option}`snapshotPrefix` becomes `syncoid_<backupHost>_` (with syncoid's
              `--identifier` from {option}`syncoidArgs`: `syncoid_<ID>_<backupHost>_`) and this
              key can no longer destroy, hold or release another backup host's snapshots.
              Not for preset `puller`: zfs-puller's names come from the job's `prefix`.
            '';
          };

          syncoidArgs = mkOption {
            type = types.listOf types.str;
            default = [ ];
            example = [ "--identifier=offsite" "--mbuffer-size=128M" ];
            description = ''
              syncoid's options on the backup host for this key: what its
              `services.syncoid` passes (`commonArgs`, then the command's `extraArgs`). The
              module reads `--identifier` (for {option}`snapshotPrefix`) and
              `--mbuffer-size` (for {option}`mbufferMaxMemory`, which must allow it). In one
              flake for both hosts, take them from the backup host's configuration instead of
              copying them.
            '';
          };

          snapshotPrefix = mkOption {
            type = types.str;
            default = zg.defaultSnapshotPrefix config;
            defaultText = literalExpression ''
              if preset == "puller" then "zfs-puller_"
              else if backupHost != null then "syncoid_[<--identifier>_]''${backupHost}_"
              else "syncoid_"
            '';
            example = "zfs-puller_offsite_";
            description = ''
              Snapshots this identity may create, hold, release, bookmark and destroy must
              start with this prefix, and so must its hold tags (a prefix ending in `_` also
              admits the tag without that `_`, syncoid's `syncoid_[ID_]HOST`). For syncoid,
              set {option}`backupHost` instead: the prefix then covers that host's snapshots
              only. For zfs-puller it is the job's `prefix` (zfs-puller's default,
              `zfs-puller_`, is the default here); two backup hosts need two prefixes.
            '';
          };

          allowDestroy = mkOption {
            type = types.bool;
            default = true;
            description = ''
              Whether the identity may destroy its own (prefixed) snapshots; syncoid prunes
              its old sync snapshots this way. `false`: this key can never destroy anything,
              and the user is not granted the `destroy` permission for it.
            '';
          };

          rawOnly = mkOption {
            type = types.bool;
            default = false;
            description = ''
              Every send must be raw (`zfs send -w`): the target only ever sees the
              encrypted stream. With syncoid, pass `--sendoptions=w`.
            '';
          };

          mbufferMaxMemory = mkOption {
            # The policy loader's syntax; zero and sizes above 16G are caught by assertions.
            type = types.strMatching "[0-9]+[kKmMgG]?";
            default =
              let size = zg.syncoidMbufferSize config.syncoidArgs; in
              if zg.mbufferSizeProblem size == null then size else "16M";
            defaultText = literalExpression ''<the --mbuffer-size in syncoidArgs, else "16M">'';
            example = "128M";
            description = ''
              The largest buffer an mbuffer stage may allocate (`mbuffer -m`, memory it takes
              up front), at most `16G`; `k`, `M`, `G` are powers of 1024. The default is
              syncoid's own default, `16M`, or the `--mbuffer-size` in {option}`syncoidArgs`.
              A syncoid identity with `mbuffer` in its tools must allow what syncoid sends.
            '';
          };

          tools = mkOption {
            type = types.listOf (types.enum zg.tools);
            default = [ "lzop" "mbuffer" ];
            example = [ "zstd" "mbuffer" ];
            description = ''
              Pipeline stages the identity may start after `zfs send` (compressors, mbuffer,
              socat). Their absolute paths are written into the policy from pkgs.
            '';
          };
        };
      }));
    };

    restore = {
      enable = mkEnableOption ''
        the restore identity (preset `restore`): `zfs-puller restore` on a backup host sends a
        snapshot back into a new, read-only, unmounted child of {option}`restoreRoot`, and
        root on this host puts it in place with the commands zfs-puller prints. It can receive
        nothing else, and send nothing. The user is granted
        `receive,create,mount,readonly,canmount,setuid,exec,devices,mountpoint` on
        {option}`restoreRoot`, which must exist (`zfs create NIXROOT/restore`)'';

      identity = mkOption {
        type = types.str;
        default = "restore";
        description = "Name of the identity in the policy and the forced command.";
      };

      restoreRoot = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "NIXROOT/restore";
        description = ''
          Dataset below its pool that restores arrive in, as direct children; the backup
          host's job names it as `restoreRoot` too. Not a dataset a pulling identity lists.
        '';
      };

      publicKeys = mkOption {
        type = types.listOf types.singleLineStr;
        default = [ ];
        example = [ "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... restore@backuphost" ];
        description = ''
          OpenSSH public keys of the backup hosts' restore keys, bare as in
          {option}`identities.<name>.publicKeys`. Each must be a key of its own, never a
          pulling identity's: one key, one identity.
        '';
      };
    };
  };

  # Implementation

  config = mkIf cfg.enable {
    assertions =
      [
        {
          assertion = cfg.audit.file != null || cfg.audit.syslog;
          message = "services.zfs-gatekeeper.audit: set audit.file or keep audit.syslog = true; the policy requires an audit sink.";
        }
        {
          assertion = cfg.audit.file == null || builtins.substring 0 1 (toString cfg.audit.file) == "/";
          message = "services.zfs-gatekeeper.audit.file must be an absolute path.";
        }
        {
          assertion = report.prometheusFile == null
            || (builtins.match "/.*[^/][.]prom" report.prometheusFile != null
            && builtins.substring 0 11 report.prometheusFile != "/nix/store/"
            && report.prometheusFile != cfg.audit.file);
          message = "services.zfs-gatekeeper.auditReport.prometheusFile = \"${toString report.prometheusFile}\" must be an absolute path ending in .prom (node exporter reads only those), outside the Nix store, and not the audit file.";
        }
        {
          assertion = cfg.user != "root";
          message = "services.zfs-gatekeeper.user must not be root: the gatekeeper runs as an unprivileged user with zfs allow delegation.";
        }
        {
          assertion = sharedKeys == [ ];
          message = "services.zfs-gatekeeper.identities: a public key may belong to one identity only (sshd uses the first line of a key, so the other identity could never log in): ${builtins.concatStringsSep "; " sharedKeys}.";
        }
      ]
      # Migration from a hand-made account of the same name: sshd uses the first line that
      # matches the client's key, so an old line must not stay beside the gatekeeper's.
      ++ map
        (line: {
          assertion = false;
          message = "users.users.${cfg.user}.openssh.authorizedKeys.keys has a line services.zfs-gatekeeper did not generate: \"${line}\". sshd uses the first line that matches a key, so it could be used instead of the gatekeeper. Remove it (an old forced command, say); list the key in services.zfs-gatekeeper.identities.<name>.publicKeys instead.";
        })
        foreignKeys
      ++ [
        {
          assertion = (account.openssh.authorizedKeys.keyFiles or [ ]) == [ ];
          message = "users.users.${cfg.user}.openssh.authorizedKeys.keyFiles must be empty: its lines would stand beside the gatekeeper's, and sshd uses the first line that matches a key. List the keys in services.zfs-gatekeeper.identities.<name>.publicKeys instead.";
        }
        {
          assertion = account.home == "/var/empty" && account.shell == gatekeeper;
          message = "users.users.${cfg.user}: home must stay /var/empty (sshd reads %h/.ssh/authorized_keys before the module's keys) and the login shell the gatekeeper; something overrides the module's mkForce.";
        }
      ]
      ++ builtins.concatLists (lib.mapAttrsToList identityAssertions cfg.identities)
      ++ lib.optionals restore.enable ([
        {
          assertion = zg.isValidName restore.identity && !(cfg.identities ? ${restore.identity});
          message = "services.zfs-gatekeeper.restore.identity = \"${restore.identity}\" must match ${zg.namePattern}, at most 64 characters, and not be the name of an entry of services.zfs-gatekeeper.identities.";
        }
        {
          assertion = restore.restoreRoot != null && zg.isValidDatasetName restore.restoreRoot
            && builtins.match ".*/.*" restore.restoreRoot != null;
          message = "services.zfs-gatekeeper.restore.restoreRoot = \"${toString restore.restoreRoot}\" must be a dataset below its pool (the gatekeeper's rule for restore_root).";
        }
        {
          # zfs allow is per user and dataset: one grant line would replace the other.
          assertion = !(builtins.any (i: builtins.elem restore.restoreRoot i.datasets) (builtins.attrValues cfg.identities));
          message = "services.zfs-gatekeeper.restore.restoreRoot = \"${toString restore.restoreRoot}\" is a dataset a pulling identity lists; give restores a dataset of their own (e.g. POOL/restore).";
        }
        {
          assertion = restore.publicKeys != [ ];
          message = "services.zfs-gatekeeper.restore.publicKeys is empty: nobody could restore.";
        }
        {
          assertion = restoreSharedKeys == [ ];
          message = "services.zfs-gatekeeper.restore.publicKeys: ${builtins.concatStringsSep "; " restoreSharedKeys} is also a pulling identity's key; a restore key must be a key of its own (sshd uses the first line of a key).";
        }
      ] ++ map
        (key: {
          assertion = zg.isValidPublicKey key;
          message = "services.zfs-gatekeeper.restore.publicKeys: \"${key}\" does not parse as an OpenSSH public key: it ${toString (zg.publicKeyProblem key)}.";
        })
        restore.publicKeys)
      # Two keys of this host that could act on each other's snapshots: one backup host's key
      # could destroy another's sync snapshots (breaking its next incremental pull) or release
      # its holds. Both are configured here, so this is always a mistake.
      ++ map
        (c: {
          assertion = false;
          message = "services.zfs-gatekeeper.identities.${c.a} (snapshotPrefix \"${cfg.identities.${c.a}.snapshotPrefix}\") and ${c.b} (\"${cfg.identities.${c.b}.snapshotPrefix}\") reach the same snapshots on ${builtins.concatStringsSep ", " c.datasets}: one prefix starts with the other, so one key could destroy, hold or release the sync snapshots the other's backup host depends on. Give each backup host its own prefix (backupHost for syncoid; the job's prefix and snapshotPrefix for zfs-puller).";
        })
        (zg.prefixConflicts cfg.identities);

    warnings =
      # Not an assertion: with no identities the allow unit still revokes earlier grants.
      lib.optional (cfg.identities == { })
        "services.zfs-gatekeeper has no identities: the policy allows nothing and `zfs-gatekeeper --check` rejects it; zfs-gatekeeper-allow.service still revokes earlier grants."
      # Not an assertion: it is how every configuration before backupHost was written, and it
      # is safe while one backup host pulls these datasets with syncoid. With backupHost set,
      # a wider prefix is an assertion (syncoidAssertions).
      ++ lib.concatLists (lib.mapAttrsToList
        (name: identity: lib.optional
          (builtins.elem identity.preset zg.syncoidPresets && identity.backupHost == null
            && zg.hasPrefix identity.snapshotPrefix "syncoid_")
          "services.zfs-gatekeeper.identities.${name}: snapshotPrefix = \"${identity.snapshotPrefix}\" admits every syncoid snapshot and hold on its datasets, those of other backup hosts (and of any syncoid run on this host) too, so this key may ${if identity.allowDestroy && identity.preset == "syncoid-pull" then "destroy, " else ""}hold or release them. Set backupHost to the backup host's hostname: the prefix becomes syncoid_<backupHost>_.")
        cfg.identities);

    # mkForce: the account belongs to the module, also when the configuration still has a
    # hand-made user of this name (isNormalUser, a shell): switching needs no other change.
    users.users.${cfg.user} = {
      isSystemUser = mkForce true;
      isNormalUser = mkForce false;
      group = mkForce cfg.user;
      # A passwd field: no colon.
      description = lib.mkDefault "zfs-gatekeeper pull account (ZFS snapshots over SSH)";
      # No home to write to: nothing the client sends is ever stored, and sshd's
      # %h/.ssh/authorized_keys (read before the module's keys) is /var/empty/.ssh/authorized_keys.
      home = mkForce "/var/empty";
      createHome = mkForce false;
      # The login shell is the gatekeeper itself: sshd runs `<shell> -c '<forced command>'`,
      # so no shell binary ever parses client-controlled text (the Shellshock class).
      shell = mkForce gatekeeper;
      openssh.authorizedKeys.keys = authorizedKeys;
    };

    users.groups.${cfg.user} = { };

    environment.etc."zfs-gatekeeper/policy.toml" = {
      text = policyText;
      # A mode makes NixOS copy the file instead of linking it into the store: the
      # gatekeeper opens it with O_NOFOLLOW and requires root ownership, no group/world write.
      mode = "0444";
    };

    # The audit file's directory belongs to the gatekeeper user (it writes the records). With
    # the report, the file exists from boot, as the gatekeeper would create it: a report
    # before the first pull reads an empty log instead of failing on a missing one.
    systemd.tmpfiles.rules = lib.optionals (cfg.audit.file != null) (
      [ "d ${builtins.dirOf (toString cfg.audit.file)} 0750 ${cfg.user} ${cfg.user} - -" ]
      ++ lib.optional report.enable "f ${toString cfg.audit.file} 0600 ${cfg.user} ${cfg.user} - -"
    );

    systemd.services.zfs-gatekeeper-audit-report = mkIf report.enable {
      description = "zfs-gatekeeper: report denied commands since the last report";
      onFailure = lib.optional (report.onDenial != null) "zfs-gatekeeper-audit-denial.service";
      serviceConfig = zg.unprivilegedUnitHardening // {
        Type = "oneshot";
        ExecStart = "${reportScript}";
        # The gatekeeper writes the audit file as this user, mode 0600. Its zfs delegation is
        # of no use here: PrivateDevices leaves no /dev/zfs.
        User = cfg.user;
        Group = cfg.user;
        # Where the previous window ended, and the last report for the denial hook.
        StateDirectory = reportStateDirectory;
        StateDirectoryMode = "0700";
        # The textfile, replaced through a temporary file beside it. "-": a missing directory
        # fails the report (exit 2, with the reason) rather than the unit's set-up.
        ReadWritePaths = lib.optional (report.prometheusFile != null) "-${builtins.dirOf report.prometheusFile}";
        # No capability at all: it reads one file (or the journal) and writes two.
        CapabilityBoundingSet = "";
        AmbientCapabilities = "";
        # Writable: the StateDirectory and the textfile's directory, and a /tmp of its own.
        PrivateTmp = true;
        # No devices beyond the pseudo devices (none of /dev/zfs).
        PrivateDevices = true;
        # Nothing to say to the network; AF_UNIX for syslog (the gatekeeper's diagnostics)
        # and name lookups.
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
        # The service set, without the privileged and resource calls; one outside it fails
        # with EPERM rather than killing the report (journalctl raises its open-file limit when
        # it can, and reads on when it cannot).
        SystemCallFilter = [ "@system-service" "~@privileged" "~@resources" ];
        SystemCallErrorNumber = "EPERM";
      } // (if reportFromJournal then {
        # journald holds the records; group systemd-journal may read the system journal.
        SupplementaryGroups = [ "systemd-journal" ];
        # A user namespace would map that group to nobody (and systemd could not set it).
        PrivateUsers = false;
      } else {
        # Only the gatekeeper user and root exist inside; the audit file is that user's.
        PrivateUsers = true;
      });
    };

    systemd.timers.zfs-gatekeeper-audit-report = mkIf report.enable {
      description = "zfs-gatekeeper: audit report (${report.startAt})";
      wantedBy = [ "timers.target" ];
      timerConfig = {
        OnCalendar = report.startAt;
        # A run missed while the host was off runs at boot; its window reaches back to the
        # previous run, so nothing falls between two reports.
        Persistent = true;
      };
    };

    systemd.services.zfs-gatekeeper-audit-denial = mkIf (report.enable && report.onDenial != null) {
      description = "zfs-gatekeeper: pass an audit report of denials on";
      serviceConfig = {
        Type = "oneshot";
        ExecStart = "${denialScript}";
        # Not sandboxed: the hook is the administrator's own command (mail, a webhook), which
        # needs what it needs (the network, a setgid mail queue); it runs as root, like any
        # NixOS script, and reads the report, not the audit log.
      };
    };

    systemd.services.zfs-gatekeeper-allow = {
      description = "Delegate exactly the configured zfs permissions to ${cfg.user}";
      wantedBy = [ "multi-user.target" ];
      # Pools are imported and datasets exist only after zfs.target.
      after = [ "zfs.target" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
        ExecStart = "${allowScript}";
        # Remembers what was granted so a later run can revoke what is no longer configured.
        StateDirectory = "zfs-gatekeeper";
        StateDirectoryMode = "0700";
        # zfs allow needs root's CAP_SYS_ADMIN on /dev/zfs and nothing else.
        CapabilityBoundingSet = [ "CAP_SYS_ADMIN" ];
        # No setuid helper or file capability may raise privileges.
        NoNewPrivileges = true;
        # Only /dev/zfs and the standard pseudo devices.
        DevicePolicy = "closed";
        DeviceAllow = [ "/dev/zfs rw" ];
        # The script talks to the kernel and nscd only; no network.
        PrivateNetwork = true;
        RestrictAddressFamilies = [ "AF_UNIX" ];
        # Whole file system read-only except the StateDirectory.
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        # zfs allow never loads modules, reads kernel logs, sets the clock or the hostname.
        ProtectKernelModules = true;
        ProtectKernelLogs = true;
        ProtectClock = true;
        ProtectHostname = true;
        # No new namespaces, no realtime scheduling, no setuid/setgid files created.
        RestrictNamespaces = true;
        RestrictRealtime = true;
        RestrictSUIDSGID = true;
        # No personality changes, no W+X memory.
        LockPersonality = true;
        MemoryDenyWriteExecute = true;
        # Native system calls from the service set only (ioctl on /dev/zfs is in it).
        SystemCallArchitectures = "native";
        SystemCallFilter = [ "@system-service" ];
        # The state file is readable by root only.
        UMask = "0077";
      };
    };
  };
}

# Typed stand-ins for the NixOS options our module writes to (and the upstream syncoid and
# sanoid options the examples use), so that a typo such as `users.user` fails here as it
# would on NixOS. Declarations only, no implementation. Written against lib's public API so
# the same file evaluates under minilib and under nixpkgs' lib (flake check eval-nixpkgs).
{ lib, config, ... }:

let
  inherit (lib) mkOption types;
  opt = type: default: mkOption { inherit type default; };
  anyAttrs = opt (types.attrsOf types.anything) { };
  strList = opt (types.listOf types.str) [ ];

  unitOptions = {
    description = opt types.str "";
    documentation = strList;
    after = strList;
    before = strList;
    wants = strList;
    requires = strList;
    wantedBy = strList;
    unitConfig = anyAttrs;
  };

  # Common options of upstream sanoid templates and datasets (nixos/modules/services/backup/sanoid.nix).
  # Upstream takes `weekly` (and any other sanoid setting) through its freeform type; here it
  # is declared, as minilib has no freeform types.
  sanoidCommon = {
    hourly = opt (types.nullOr types.ints.unsigned) null;
    daily = opt (types.nullOr types.ints.unsigned) null;
    weekly = opt (types.nullOr types.ints.unsigned) null;
    monthly = opt (types.nullOr types.ints.unsigned) null;
    yearly = opt (types.nullOr types.ints.unsigned) null;
    autoprune = opt (types.nullOr types.bool) null;
    autosnap = opt (types.nullOr types.bool) null;
  };
in
{
  options = {
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = opt (types.listOf types.str) [ ];

    users.users = opt
      (types.attrsOf (types.submodule {
        options = {
          isSystemUser = opt types.bool false;
          isNormalUser = opt types.bool false;
          group = opt types.str "";
          description = opt types.str "";
          home = opt types.str "/var/empty";
          createHome = opt types.bool false;
          shell = opt (types.nullOr (types.either types.package types.path)) null;
          openssh.authorizedKeys.keys = strList;
          openssh.authorizedKeys.keyFiles = opt (types.listOf types.path) [ ];
        };
      }))
      { };

    users.groups = opt (types.attrsOf (types.submodule { options.gid = opt (types.nullOr types.int) null; })) { };

    environment.etc = opt
      (types.attrsOf (types.submodule {
        options = {
          text = opt (types.nullOr types.lines) null;
          source = opt (types.nullOr types.path) null;
          mode = opt types.str "symlink";
          user = opt types.str "+0";
          group = opt types.str "+0";
        };
      }))
      { };

    programs.ssh.knownHosts = opt
      (types.attrsOf (types.submodule {
        options = {
          hostNames = strList;
          publicKey = opt (types.nullOr types.str) null;
        };
      }))
      { };

    services.openssh.enable = opt types.bool false;

    systemd.tmpfiles.rules = strList;

    systemd.services = opt
      (types.attrsOf (types.submodule {
        options = unitOptions // {
          path = opt (types.listOf (types.either types.package types.str)) [ ];
          environment = opt (types.attrsOf types.str) { };
          serviceConfig = anyAttrs;
          script = opt types.lines "";
          startAt = opt (types.either types.str (types.listOf types.str)) [ ];
          restartTriggers = opt (types.listOf types.unspecified) [ ];
        };
      }))
      { };

    systemd.timers = opt
      (types.attrsOf (types.submodule {
        options = unitOptions // { timerConfig = anyAttrs; };
      }))
      { };

    # Upstream services.syncoid (subset).
    services.syncoid = {
      enable = opt types.bool false;
      user = opt types.str "syncoid";
      group = opt types.str "syncoid";
      interval = opt types.str "hourly";
      sshKey = mkOption { type = types.nullOr types.path; default = null; apply = x: if x == null then null else toString x; };
      commonArgs = strList;
      localSourceAllow = opt (types.listOf types.str) [ "bookmark" "hold" "send" "snapshot" "destroy" "mount" ];
      localTargetAllow = opt (types.listOf types.str) [ "change-key" "compression" "create" "mount" "mountpoint" "receive" "rollback" ];
      commands = opt
        (types.attrsOf (types.submodule ({ name, ... }: {
          options = {
            source = opt types.str name;
            target = mkOption { type = types.str; };
            recursive = opt types.bool false;
            sshKey = mkOption { type = types.nullOr types.path; default = config.services.syncoid.sshKey; apply = x: if x == null then null else toString x; };
            sendOptions = opt types.str "";
            recvOptions = opt types.str "";
            useCommonArgs = opt types.bool true;
            extraArgs = strList;
            localSourceAllow = opt (types.listOf types.str) config.services.syncoid.localSourceAllow;
            localTargetAllow = opt (types.listOf types.str) config.services.syncoid.localTargetAllow;
          };
        })))
        { };
    };

    # Upstream services.sanoid (subset).
    services.sanoid = {
      enable = opt types.bool false;
      interval = opt types.str "hourly";
      templates = opt (types.attrsOf (types.submodule { options = sanoidCommon; })) { };
      datasets = opt
        (types.attrsOf (types.submodule {
          options = sanoidCommon // {
            # Upstream checks template names against the declared templates.
            use_template = opt (types.listOf (types.enum (builtins.attrNames config.services.sanoid.templates))) [ ];
            recursive = opt (types.either types.bool (types.enum [ "zfs" ])) false;
            process_children_only = opt types.bool false;
          };
        }))
        { };
    };
  };
}

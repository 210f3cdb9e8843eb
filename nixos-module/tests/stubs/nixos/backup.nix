# services.sanoid and services.syncoid with the types of nixpkgs
# (nixos/modules/services/backup/sanoid.nix and syncoid.nix), written for these tests:
# declarations only (no units), the options the examples and the zfs-puller module use.
{ lib, config, ... }:

let
  inherit (lib) mkOption mkDefault types;
  opt = type: default: mkOption { inherit type default; };
  nullOpt = type: opt (types.nullOr type) null;

  # Upstream: any other sanoid setting (weekly, frequently, ...) through a freeform type.
  datasetSettingsType = types.attrsOf (types.nullOr (types.oneOf [ types.str types.int types.bool (types.listOf types.str) ]))
    // { description = "dataset/template options"; };

  commonOptions = {
    autoprune = nullOpt types.bool;
    autosnap = nullOpt types.bool;
    hourly = nullOpt types.ints.unsigned;
    daily = nullOpt types.ints.unsigned;
    monthly = nullOpt types.ints.unsigned;
    yearly = nullOpt types.ints.unsigned;
  };

  datasetOptions = {
    # Upstream: only names of declared templates.
    use_template = opt
      (types.listOf (types.str // {
        check = (types.enum (builtins.attrNames config.services.sanoid.templates)).check;
        description = "configured template name";
      }))
      [ ];
    recursive = opt (types.oneOf [ types.bool (types.enum [ "zfs" ]) ]) false;
    process_children_only = opt types.bool false;
  };

  permissions = default: opt (types.listOf types.str) default;
  sshKeyType = types.nullOr (types.coercedTo types.path toString types.str);
  cfg = config.services.syncoid;
in
{
  options.services.sanoid = {
    enable = opt types.bool false;
    interval = opt types.str "hourly";
    extraArgs = opt (types.listOf types.str) [ ];
    templates = opt
      (types.attrsOf (types.submodule { options = commonOptions; freeformType = datasetSettingsType; }))
      { };
    datasets = opt
      (types.attrsOf (types.submodule { options = commonOptions // datasetOptions; freeformType = datasetSettingsType; }))
      { };
  };

  options.services.syncoid = {
    enable = opt types.bool false;
    interval = opt (types.either types.str (types.listOf types.str)) "hourly";
    user = opt types.str "syncoid";
    group = opt types.str "syncoid";
    sshKey = opt sshKeyType null;
    localSourceAllow = permissions [ "bookmark" "hold" "send" "snapshot" "destroy" "mount" ];
    localTargetAllow = permissions [ "change-key" "compression" "create" "mount" "mountpoint" "receive" "rollback" ];
    commonArgs = opt (types.listOf types.str) [ ];
    service = opt types.attrs { };
    commands = opt
      (types.attrsOf (types.submodule ({ name, ... }: {
        options = {
          source = mkOption { type = types.str; };
          target = mkOption { type = types.str; };
          recursive = opt types.bool false;
          sshKey = mkOption { type = sshKeyType; };
          localSourceAllow = mkOption { type = types.listOf types.str; };
          localTargetAllow = mkOption { type = types.listOf types.str; };
          sendOptions = opt (types.separatedString " ") "";
          recvOptions = opt (types.separatedString " ") "";
          useCommonArgs = opt types.bool true;
          service = opt types.attrs { };
          extraArgs = opt (types.listOf types.str) [ ];
        };
        config = {
          source = mkDefault name;
          sshKey = mkDefault cfg.sshKey;
          localSourceAllow = mkDefault cfg.localSourceAllow;
          localTargetAllow = mkDefault cfg.localTargetAllow;
        };
      })))
      { };
  };
}

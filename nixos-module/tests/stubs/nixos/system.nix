# environment.etc, programs.ssh.knownHosts, services.openssh.enable, networking.hostName,
# assertions and warnings with the types of nixpkgs (nixos/modules/system/etc/etc.nix,
# programs/ssh.nix, services/networking/ssh/sshd.nix, tasks/network-interfaces.nix,
# misc/assertions.nix), written for these tests.
{ lib, config, pkgs, ... }:

let
  inherit (lib) mkOption mkIf mkDefault types;
  opt = type: default: mkOption { inherit type default; };
in
{
  options = {
    assertions = opt (types.listOf types.unspecified) [ ];
    warnings = opt (types.listOf types.str) [ ];

    environment.etc = opt
      (types.attrsOf (types.submodule ({ name, config, ... }: {
        options = {
          enable = opt types.bool true;
          target = mkOption { type = types.str; };
          text = opt (types.nullOr types.lines) null;
          source = mkOption { type = types.path; };
          mode = opt types.str "symlink";
          uid = opt types.int 0;
          gid = opt types.int 0;
          user = opt types.str "+${toString config.uid}";
          group = opt types.str "+${toString config.gid}";
        };
        config = {
          target = mkDefault name;
          # Upstream: mkDerivedConfig options.text (pkgs.writeText "etc-<name>").
          source = mkIf (config.text != null)
            (mkDefault (pkgs.writeText ("etc-" + builtins.replaceStrings [ "/" ] [ "-" ] name) config.text));
        };
      })))
      { };

    programs.ssh.knownHosts = opt
      (types.attrsOf (types.submodule ({ name, config, ... }: {
        options = {
          certAuthority = opt types.bool false;
          hostNames = opt (types.listOf types.str) ([ name ] ++ config.extraHostNames);
          extraHostNames = opt (types.listOf types.str) [ ];
          publicKey = opt (types.nullOr types.str) null;
          publicKeyFile = opt (types.nullOr types.path) null;
        };
      })))
      { };

    services.openssh.enable = opt types.bool false;

    # nixos/modules/tasks/network-interfaces.nix: a host name without the domain part (the
    # default is system.nixos.distroId).
    networking.hostName = opt (types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$") "nixos";
  };

  config.assertions = lib.mapAttrsToList
    (name: data: {
      assertion = (data.publicKey == null) != (data.publicKeyFile == null);
      message = "knownHost ${name} must contain either a publicKey or publicKeyFile";
    })
    config.programs.ssh.knownHosts;
}

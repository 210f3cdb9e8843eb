# users.users and users.groups with the types, defaults and behaviour of nixpkgs
# (nixos/modules/config/users-groups.nix; openssh.authorizedKeys from
# nixos/modules/services/networking/ssh/sshd.nix), written for these tests: only the options a
# configuration of this project can touch, and the assertions NixOS makes about them.
{ lib, config, pkgs, ... }:

let
  inherit (lib) mkOption mkIf mkMerge mkDefault types;
  inherit (builtins) attrNames attrValues concatLists elem filter match stringLength;
  opt = type: default: mkOption { inherit type default; };
  cfg = config.users;

  # Groups NixOS itself declares (users-groups.nix, implementation); a user's primary group
  # must be one of these or declared in users.groups.
  builtinGroups = [
    "root" "wheel" "disk" "kmem" "tty" "floppy" "uucp" "lp" "cdrom" "tape" "audio" "video"
    "dialout" "nogroup" "users" "nixbld" "utmp" "adm" "input" "kvm" "render" "sgx" "shadow" "clock"
  ];

  userOpts = { name, config, ... }: {
    options = {
      enable = opt types.bool true;
      name = mkOption {
        type = types.passwdEntry types.str;
        apply = x: assert (stringLength x < 32 || abort "Username '${x}' is longer than 31 characters which is not allowed!"); x;
      };
      description = opt (types.passwdEntry types.str) "";
      uid = opt (types.nullOr types.int) null;
      isSystemUser = opt types.bool false;
      isNormalUser = opt types.bool false;
      group = mkOption {
        type = types.str;
        default = "";
        apply = x: assert (stringLength x < 32 || abort "Group name '${x}' is longer than 31 characters which is not allowed!"); x;
      };
      extraGroups = opt (types.listOf types.str) [ ];
      home = opt (types.passwdEntry types.path) "/var/empty";
      homeMode = opt (types.strMatching "[0-7]{1,5}") "700";
      createHome = opt types.bool false;
      useDefaultShell = opt types.bool false;
      shell = opt (types.nullOr (types.either types.shellPackage (types.passwdEntry types.path))) pkgs.shadow;
      hashedPassword = opt (types.nullOr (types.passwdEntry types.str)) null;
      packages = opt (types.listOf types.package) [ ];
      openssh.authorizedKeys = {
        keys = opt (types.listOf types.singleLineStr) [ ];
        keyFiles = opt (types.listOf types.path) [ ];
      };
    };

    config = mkMerge [
      {
        name = mkDefault name;
        shell = mkIf config.useDefaultShell (mkDefault cfg.defaultUserShell);
      }
      # What isNormalUser implies, as upstream.
      (mkIf config.isNormalUser {
        group = mkDefault "users";
        createHome = mkDefault true;
        home = mkDefault "/home/${config.name}";
        homeMode = mkDefault "700";
        useDefaultShell = mkDefault true;
        isSystemUser = mkDefault false;
      })
    ];
  };

  groupOpts = { name, ... }: {
    options = {
      name = opt (types.passwdEntry types.str) name;
      gid = opt (types.nullOr types.int) null;
    };
  };

  users = filter (u: u.enable) (attrValues cfg.users);
  groupNames = builtinGroups ++ map (g: g.name) (attrValues cfg.groups);
  xor = a: b: (a || b) && !(a && b);
in
{
  options.users = {
    users = opt (types.attrsOf (types.submodule userOpts)) { };
    groups = opt (types.attrsOf (types.submodule groupOpts)) { };
    defaultUserShell = opt (types.either types.shellPackage (types.passwdEntry types.path)) pkgs.bashInteractive;
  };

  # The assertions upstream makes about every user.
  config.assertions = concatLists (map
    (user: [
      {
        assertion = match "[a-zA-Z0-9_.][a-zA-Z0-9_.-]*" user.name != null;
        message = "The username \"${user.name}\" is not valid, it does not match the regex \"[a-zA-Z0-9_.][a-zA-Z0-9_.-]*\".";
      }
      {
        assertion = xor (user.isSystemUser || (user.uid != null && user.uid < 1000 && !user.isNormalUser)) user.isNormalUser;
        message = "Exactly one of users.users.${user.name}.isSystemUser and users.users.${user.name}.isNormalUser must be set.";
      }
      {
        assertion = user.group != "";
        message = "users.users.${user.name}.group is unset. This used to default to nogroup, but this is unsafe.";
      }
      {
        assertion = user.group == "" || elem user.group groupNames;
        message = "The following users have a primary group that is undefined: ${user.name}";
      }
    ])
    users);
}

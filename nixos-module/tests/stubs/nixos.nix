# Stand-ins for the NixOS options this project's modules write to (and the upstream syncoid
# and sanoid options the examples use), with the types, defaults and assertions of nixpkgs,
# written for these tests from nixpkgs' declarations. A typo such as `users.user`, a value of
# the wrong type (a colon in a passwd field, a unit name without a suffix, a service Type
# systemd does not know) or a user NixOS would refuse fails here as on NixOS. Declarations
# and the few behaviours the modules depend on (isNormalUser's defaults, a user's default
# name and shell, a command's default source and key); no units are built. Written against
# lib's public API so the same files evaluate under minilib and under nixpkgs' lib.
{
  imports = [
    ./nixos/users.nix
    ./nixos/systemd.nix
    ./nixos/system.nix
    ./nixos/backup.nix
  ];
}

# zfs-gatekeeper NixOS module: both sides. Import this file (or the flake's
# nixosModules.default, which also sets the packages) on the source and on the target.
{
  imports = [
    ./zfs-gatekeeper.nix
    ./zfs-puller.nix
  ];
}

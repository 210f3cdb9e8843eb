# Stand-in for nixpkgs' nixos/tests/ssh-keys.nix (the VM test's "snakeoil" keys), so that
# tests/run can evaluate vm.nix. Public keys are real-shaped (the module validates them);
# the private keys are placeholders: nothing here can log in anywhere.
pkgs: {
  snakeOilPrivateKey = pkgs.writeText "privkey.snakeoil" "placeholder, not a key\n";
  snakeOilPublicKey = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBP75rX6yXHqszzU7dzsY4FQxHWQkSTdduhsD03zlnF/SaSXxqjhX2nSLObodz2u+wC/apnlx1eYY6GSi6CeI/3M= snakeoil";
  snakeOilEd25519PrivateKey = pkgs.writeText "privkey.snakeoil" "placeholder, not a key\n";
  snakeOilEd25519PublicKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM snakeoil";
}

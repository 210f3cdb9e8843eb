# The golden cases: name -> module. tests/run and the flake check eval-nixpkgs iterate this.
{
  source = ./source.nix;
  target = ./target.nix;
  syncoid-target = ./syncoid-target.nix;
  seed-source = ./seed-source.nix;
  seed-target = ./seed-target.nix;
  corpus = ./corpus.nix;
}

# Stand-in for the flake's nixpkgs input, so that tests/run can evaluate flake.nix's outputs
# without nixpkgs: minilib as lib, the fake package set plus what flake.nix and vm.nix use.
# runNixOSTest and nixosSystem return their arguments, for structure checks only.
let
  minilib = import ../minilib.nix;
  base = import ./pkgs.nix;
  inherit (builtins) hashString listToAttrs map substring;

  fake = name: { type = "derivation"; inherit name; outPath = "/nix/store/${substring 0 32 (hashString "sha256" name)}-${name}"; };
  named = names: listToAttrs (map (name: { inherit name; value = fake name; }) names);

  pkgs = base // named [
    "meson" "ninja" "pkg-config" "cmake" "pegtl" "libseccomp" "libcap" "spdlog" "doctest"
    "tomlplusplus" "nlohmann_json" "zlib"
  ] // {
    path = ./nixpkgs;
    stdenv = base.stdenv // {
      mkDerivation = args: fake "${args.pname}-${args.version}" // args;
    };
    runCommand = name: env: script: fake name // { inherit script; };
    testers.runNixOSTest = test: fake "vm-test-${test.name}" // test;
  };

  lib = minilib // {
    platforms.linux = [ "x86_64-linux" "aarch64-linux" ];
    nixosSystem = args: { inherit args; config.system.build.toplevel = fake "nixos-system" // { drvPath = "/nix/store/00000000000000000000000000000000-nixos-system.drv"; }; };
  };
in
{
  inherit lib;
  legacyPackages = { x86_64-linux = pkgs; aarch64-linux = pkgs // { stdenv = pkgs.stdenv // { hostPlatform.system = "aarch64-linux"; }; }; };
}

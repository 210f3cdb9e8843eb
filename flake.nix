{
  description = "zfs-gatekeeper: an SSH forced command that lets backup hosts pull ZFS snapshots without a shell; NixOS module for both sides";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The meson build of this repository: bin/zfs-gatekeeper (and bin/zfs-puller once
      # puller/ is built), with the doctest suites run in the check phase.
      mkPackage = pkgs: pkgs.stdenv.mkDerivation {
        pname = "zfs-gatekeeper";
        version = "0.1.0";
        src = self;
        nativeBuildInputs = [ pkgs.meson pkgs.ninja pkgs.pkg-config ];
        buildInputs = [
          pkgs.pegtl # tao-pegtl 3.x
          pkgs.libseccomp
          pkgs.libcap
          pkgs.spdlog
          pkgs.doctest
          pkgs.tomlplusplus
          pkgs.nlohmann_json
          pkgs.zlib
        ];
        mesonFlags = [ "-Dtests=true" ];
        doCheck = true;
        meta = {
          description = "SSH forced command that lets syncoid / zfs-puller pull ZFS backups without a shell";
          mainProgram = "zfs-gatekeeper";
          platforms = lib.platforms.linux;
        };
      };

      goldenCases = import ./nixos-module/tests/cases;
    in
    {
      packages = forAllSystems (pkgs: { default = mkPackage pkgs; });

      overlays.default = final: prev: { zfs-gatekeeper = mkPackage final; };

      # Both sides (services.zfs-gatekeeper and services.zfs-puller), with the packages of
      # this flake as defaults.
      nixosModules.default = { pkgs, lib, ... }:
        let package = self.packages.${pkgs.stdenv.hostPlatform.system}.default; in
        {
          imports = [ ./nixos-module ];
          services.zfs-gatekeeper.package = lib.mkDefault package;
          services.zfs-puller.package = lib.mkDefault package;
        };

      checks = forAllSystems (pkgs:
        let
          # Real NixOS evaluation of a README example (forces every assertion and unit),
          # without building the system.
          evalNixos = name: module:
            let
              system = nixpkgs.lib.nixosSystem {
                modules = [
                  self.nixosModules.default
                  module
                  {
                    nixpkgs.hostPlatform = pkgs.stdenv.hostPlatform.system;
                    boot.loader.grub.enable = false;
                    fileSystems."/" = { device = "none"; fsType = "tmpfs"; };
                    boot.supportedFilesystems = [ "zfs" ];
                    networking.hostId = "8425e349";
                    system.stateVersion = "25.05";
                  }
                ];
              };
            in
            pkgs.runCommand "zfs-gatekeeper-eval-nixos-${name}" { } ''
              echo ${builtins.unsafeDiscardStringContext system.config.system.build.toplevel.drvPath} > $out
            '';

          # The golden files again, evaluated with nixpkgs' lib instead of the tests' minilib.
          evalNixpkgs =
            let
              caseScript = name:
                let files = (import ./nixos-module/tests/harness.nix { inherit lib; case = goldenCases.${name}; }).files;
                in lib.concatMapStrings
                  (file: "diff -u ${./nixos-module/tests/golden + "/${name}/${file}"} ${pkgs.writeText "golden-${name}-${file}" files.${file}}\n")
                  (builtins.attrNames files);
            in
            pkgs.runCommand "zfs-gatekeeper-module-eval-nixpkgs" { } (
              lib.concatMapStrings caseScript (builtins.attrNames goldenCases) + "touch $out\n"
            );
        in
        {
          vm = import ./nixos-module/tests/vm.nix { inherit pkgs self; };
          eval-nixpkgs = evalNixpkgs;
          eval-nixos-source = evalNixos "source" ./nixos-module/examples/source.nix;
          eval-nixos-target = evalNixos "target" ./nixos-module/examples/target.nix;
          eval-nixos-syncoid-target = evalNixos "syncoid-target" ./nixos-module/examples/syncoid-target.nix;
        });
    };
}

{
  description = "zfs-gatekeeper: an SSH forced command that lets backup hosts pull ZFS snapshots without a shell; NixOS module for both sides";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      systems = [ "x86_64-linux" "aarch64-linux" ];
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});

      # The version meson.build declares, so the two never disagree.
      version = builtins.head (builtins.match ".*\n  version : '([^']+)',\n.*" (builtins.readFile ./meson.build));

      # The meson build of this repository: bin/zfs-gatekeeper, bin/zfs-puller and their man
      # pages (meson install), with the suites the Nix sandbox can run in the check phase.
      mkPackage = pkgs: pkgs.stdenv.mkDerivation {
        pname = "zfs-gatekeeper";
        inherit version;
        src = self;
        # cmake only for meson's dependency lookups (pegtl and doctest are found with
        # method 'cmake'); the build itself is meson's.
        nativeBuildInputs = [ pkgs.meson pkgs.ninja pkgs.pkg-config pkgs.cmake ];
        dontUseCmakeConfigure = true;
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
        # The configuration the project is tested in (-O2, assertions on; nixpkgs' default is
        # "plain", without -O, where the project's _FORTIFY_SOURCE=3 does nothing). No -Werror:
        # a newer compiler's new warnings must not break a user's build; CI keeps it.
        mesonBuildType = "debugoptimized";
        mesonFlags = [ "-Dtests=true" "-Dwerror=false" ];
        # What the sandbox can run: the unit and corpus suites (tests/meson.build labels them).
        # Not the sandbox and sshd-integration suites (root, a real sshd, /usr tools), the lint
        # suites (clang-format, the source tree's layout) nor the build suite (how Debian's
        # toolchain links the gatekeeper; Nix's linker wrapper links it its own way).
        doCheck = true;
        mesonCheckFlags = [ "--suite" "unit" "--suite" "corpus" ];
        # The installed programs start, and meson installed their four man pages (compressed
        # by the fixup phase).
        doInstallCheck = true;
        installCheckPhase = ''
          runHook preInstallCheck
          $out/bin/zfs-gatekeeper --version
          $out/bin/zfs-puller --version
          for page in man8/zfs-gatekeeper.8 man5/zfs-gatekeeper.toml.5 man8/zfs-puller.8 man5/zfs-puller.toml.5; do
            zcat -f $out/share/man/$page* | grep -c '^\.TH ' > /dev/null || { echo "no man page $page" >&2; exit 1; }
          done
          runHook postInstallCheck
        '';
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
          # Real NixOS evaluation of a configuration (forces every assertion and unit),
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
          eval-nixos-source = evalNixos "source" {
            imports = [ ./nixos-module/examples/source.nix ./nixos-module/examples/syncoid-source.nix ./nixos-module/examples/audit-report.nix ];
          };
          eval-nixos-target = evalNixos "target" ./nixos-module/examples/target.nix;
          eval-nixos-syncoid-target = evalNixos "syncoid-target" ./nixos-module/examples/syncoid-target.nix;
          # The seed set-up: a hand-made `backup` account moved to the module, and its target.
          eval-nixos-seed-source = evalNixos "seed-source" ./nixos-module/tests/cases/seed-source.nix;
          eval-nixos-seed-target = evalNixos "seed-target" ./nixos-module/tests/cases/seed-target.nix;
        });
    };
}

# Structure checks of flake.nix and tests/vm.nix, evaluated with a stand-in nixpkgs
# (stubs/flake-nixpkgs.nix): the outputs exist and have the right shape, the flake's module
# wires its package, and the VM test's node configurations pass the module's assertions.
# The value is one "PASS name" / "FAIL name: ..." line per check; tests/run prints them.
{ lib ? import ./minilib.nix }:

let
  inherit (builtins) attrNames concatStringsSep elem filter head isAttrs isFunction isString length map match stringLength toJSON tryEval;

  flake = import ../../flake.nix;
  lock = builtins.fromJSON (builtins.readFile ../../flake.lock);
  mesonVersion = head (match ".*\n  version : '([^']+)',\n.*" (builtins.readFile ../../meson.build));
  testsMeson = builtins.readFile ../../tests/meson.build;
  # tests/meson.build: the suite label of test NAME (the doctest loop labels by name).
  suiteOf = name: let m = match ".*\ntest[(]'${name}',[^\n]*(\n  [^\n]*)?suite : '([a-z]+)'.*" testsMeson; in if m == null then null else builtins.elemAt m 1;
  nixpkgs = import ./stubs/flake-nixpkgs.nix;
  outputs = flake.outputs { inherit self nixpkgs; };
  self = outputs // { outPath = toString ../..; };

  system = "x86_64-linux";
  package = outputs.packages.${system}.default;
  vm = outputs.checks.${system}.vm;

  harness = case: import ./harness.nix { inherit lib case; };

  # The VM test's own config blocks, found by their _file tag.
  nodeModule = node: tag: head (filter (m: isAttrs m && (m._file or null) == tag) vm.nodes.${node}.imports);
  # Functions cannot be compared: apply the node's first import and look for the package wiring.
  vmFlakeModule = node:
    let m = head vm.nodes.${node}.imports { pkgs = import ./stubs/pkgs.nix; inherit lib; }; in
    m.imports == [ ../. ] && m.services.zfs-gatekeeper.package.content.outPath == package.outPath;
  vmSource = harness (nodeModule "source" "vm.nix#source-config");
  vmTarget = harness (nodeModule "target" "vm.nix#target-config");

  # The flake's module (package defaults included) evaluated with the stubs.
  viaFlake = (lib.evalModules {
    modules = [ outputs.nixosModules.default ./stubs/nixos.nix ./cases/source.nix ];
    specialArgs = { pkgs = import ./stubs/pkgs.nix; };
  }).config;

  noIdentities = (harness { services.zfs-gatekeeper.enable = true; }).config;

  # Definitions of one list option from several modules: nixpkgs concatenates the modules it
  # collected last first (breadth first, reversed), and minilib must do the same.
  listOrder = modules: (lib.evalModules {
    modules = [{ options.l = lib.mkOption { type = lib.types.listOf lib.types.str; default = [ ]; }; }] ++ modules;
  }).config.l;

  rows = [
    {
      name = "lib: list definitions from several modules concatenate in nixpkgs' order";
      ok = listOrder [ { l = [ "a" ]; } { imports = [ { l = [ "c1" ]; } ]; l = [ "c" ]; } ] == [ "c1" "c" "a" ]
        && listOrder [ { imports = [ { l = [ "b1" ]; } ]; } { imports = [ { l = [ "c1" ]; } ]; l = [ "c" ]; } ] == [ "c1" "b1" "c" ];
    }
    {
      name = "module: no identities gives a warning, not an error";
      ok = length noIdentities.warnings == 1 && noIdentities.users.users ? zfs-backup;
    }
    { name = "flake: inputs name nixpkgs"; ok = attrNames flake.inputs == [ "nixpkgs" ]; }
    { name = "flake: outputs"; ok = attrNames outputs == [ "checks" "nixosModules" "overlays" "packages" ]; }
    { name = "flake: packages for x86_64-linux and aarch64-linux"; ok = attrNames outputs.packages == [ "aarch64-linux" "x86_64-linux" ]; }
    { name = "flake: package is the meson build, version from meson.build"; ok = package.pname == "zfs-gatekeeper" && package.version == mesonVersion; }
    {
      name = "flake: cmake only for meson's dependency lookups (pegtl, doctest)";
      ok = map (p: p.name) package.nativeBuildInputs == [ "meson" "ninja" "pkg-config" "cmake" ] && package.dontUseCmakeConfigure;
    }
    {
      name = "flake: the check phase runs the unit and corpus suites (nothing that needs root or /usr); the install check wants both programs and their man pages";
      ok = package.doCheck && package.mesonCheckFlags == [ "--suite" "unit" "--suite" "corpus" ]
        && package.doInstallCheck
        && match ".*zfs-gatekeeper --version.*zfs-puller --version.*man8/zfs-gatekeeper[.]8 man5/zfs-gatekeeper[.]toml[.]5 man8/zfs-puller[.]8 man5/zfs-puller[.]toml[.]5.*" package.installCheckPhase != null;
    }
    {
      name = "tests/meson.build: doctest suites are unit (corpus: corpus); sandbox, sshd and lint suites are not";
      ok = match ".*\n  test[(]name, exe, [^)]*suite : name == 'corpus' [?] 'corpus' : 'unit'[)].*" testsMeson != null
        && suiteOf "seccomp-allowlist" == "unit" && suiteOf "sandbox" == "sandbox" && suiteOf "layering" == "lint"
        && suiteOf "format" == "lint" && suiteOf "sshd-integration" == "sshd";
    }
    {
      name = "flake.lock: nixpkgs locked to a revision of the branch flake.nix names";
      ok = flake.inputs.nixpkgs.url == "github:NixOS/nixpkgs/nixos-unstable"
        && lock.version == 7 && lock.nodes.root.inputs == { nixpkgs = "nixpkgs"; }
        && lock.nodes.nixpkgs.original == { owner = "NixOS"; repo = "nixpkgs"; ref = "nixos-unstable"; type = "github"; }
        && lock.nodes.nixpkgs.locked.owner == "NixOS" && lock.nodes.nixpkgs.locked.repo == "nixpkgs"
        && lock.nodes.nixpkgs.locked.type == "github"
        && match "[0-9a-f]{40}" lock.nodes.nixpkgs.locked.rev != null
        && match "sha256-[A-Za-z0-9+/]{43}=" lock.nodes.nixpkgs.locked.narHash != null
        && builtins.isInt lock.nodes.nixpkgs.locked.lastModified;
    }
    {
      name = "flake: package build inputs";
      ok = map (p: p.name) package.buildInputs == [ "pegtl" "libseccomp" "libcap" "spdlog" "doctest" "tomlplusplus" "nlohmann_json" "zlib" ];
    }
    { name = "flake: nixosModules.default is a module function"; ok = isFunction outputs.nixosModules.default; }
    { name = "flake: overlay provides pkgs.zfs-gatekeeper"; ok = (outputs.overlays.default nixpkgs.legacyPackages.${system} { }).zfs-gatekeeper.pname == "zfs-gatekeeper"; }
    {
      name = "flake: the module defaults to the flake's package (both sides)";
      ok = viaFlake.services.zfs-gatekeeper.package.outPath == package.outPath
        && viaFlake.services.zfs-puller.package.outPath == package.outPath;
    }
    {
      name = "flake: checks";
      ok = attrNames outputs.checks.${system} == [
        "eval-nixos-seed-source" "eval-nixos-seed-target" "eval-nixos-source" "eval-nixos-syncoid-target" "eval-nixos-target" "eval-nixpkgs" "vm"
      ];
    }
    {
      name = "flake: eval-nixpkgs diffs every golden file";
      ok = match ".*diff -u /nix/store/[a-z0-9]+-policy.toml /nix/store/[0-9a-f]+-golden-source-policy.toml\n.*diff -u /nix/store/[a-z0-9]+-zfs-puller.toml /nix/store/[0-9a-f]+-golden-target-zfs-puller.toml\n.*touch [$]out\n" outputs.checks.${system}.eval-nixpkgs.script != null;
    }
    {
      name = "flake: eval-nixos checks evaluate a NixOS system";
      ok = match ".*nixos-system[.]drv.*" outputs.checks.${system}.eval-nixos-source.script != null;
    }
    { name = "vm: runNixOSTest named zfs-gatekeeper"; ok = vm.name == "zfs-gatekeeper"; }
    { name = "vm: two nodes, source and target"; ok = attrNames vm.nodes == [ "source" "target" ]; }
    {
      name = "vm: both nodes import the flake's module";
      ok = isFunction (head vm.nodes.source.imports) && isFunction (head vm.nodes.target.imports)
        && vmFlakeModule "source" && vmFlakeModule "target";
    }
    {
      name = "vm: test script covers full and incremental pull, zfs allow, hostile commands, the audit report and its hook";
      ok = isString vm.testScript
        && match ".*zfs allow -u backup rename,destroy.*full pull.*incremental pull.*hostile commands are refused.*source[.]fail[(]\"systemctl start zfs-gatekeeper-audit-report[.]service\"[)].*/run/zfs-gatekeeper-denials[.]txt.*source[.]succeed[(]\"systemctl start zfs-gatekeeper-audit-report[.]service\"[)].*" vm.testScript != null
        && vmSource.config.services.zfs-gatekeeper.auditReport.onDenial == "cat > /run/zfs-gatekeeper-denials.txt";
    }
    {
      name = "vm: source node config passes the module's assertions";
      ok = vmSource.config.services.zfs-gatekeeper.enable
        && length vmSource.config.users.users.backup.openssh.authorizedKeys.keys == 2;
    }
    {
      name = "vm: source node grants no destroy";
      ok = match ".*grant backup bookmark.*" vmSource.files."zfs-gatekeeper-allow.sh" == null
        && match ".*\ngrant backup send,snapshot,hold,release,bookmark tank/data\n.*" vmSource.files."zfs-gatekeeper-allow.sh" != null;
    }
    {
      name = "vm: the zfs-puller part always runs, full then incremental, and checks the receive's properties";
      ok = match ".*zfs-puller [(]preset puller[)] pulls through the gatekeeper.*[(]\"setuid\", \"off\"[)].*The incremental run.*" vm.testScript != null
        && match ".*skipped.*" vm.testScript == null;
    }
    {
      name = "vm: the puller job matches the source identity (prefix; no destroy: keepSource 0)";
      ok = vmTarget.config.services.zfs-puller.jobs.data.prefix == vmSource.config.services.zfs-gatekeeper.identities.puller.snapshotPrefix
        && !vmSource.config.services.zfs-gatekeeper.identities.puller.allowDestroy
        && vmTarget.config.services.zfs-puller.jobs.data.keepSource == 0;
    }
    {
      name = "vm: the syncoid identity names the node that runs syncoid (snapshotPrefix syncoid_target_)";
      ok = vmSource.config.services.zfs-gatekeeper.identities.syncoid.snapshotPrefix == "syncoid_target_"
        && vm.nodes ? target && vmTarget.config.services.syncoid.commands ? pull-data;
    }
    {
      name = "vm: target node config passes the module's assertions";
      ok = vmTarget.config.services.zfs-puller.jobs.data.target == "b/puller-data"
        && vmTarget.config.services.sanoid.templates.backup.autosnap == false
        && vmTarget.config.services.syncoid.commands.pull-data.source == "backup@source:tank/data";
    }
  ];

  show = row:
    let r = tryEval row.ok; in
    if r.success && r.value == true then "PASS ${row.name}"
    else if r.success then "FAIL ${row.name}"
    else "FAIL ${row.name}: evaluation error (run with --show-trace)";
in
concatStringsSep "\n" (map show rows) + "\n"

# Evaluates the module together with the typed NixOS stubs and one case module, checks the
# assertions as NixOS would, and returns the generated files (name -> text) that tests/run
# compares with golden/<case>/. lib: minilib in CI, nixpkgs' lib in the flake check
# eval-nixpkgs; both must give the same files.
{ lib ? import ./minilib.nix, case, pkgs ? import ./stubs/pkgs.nix }:

let
  inherit (builtins)
    attrNames concatStringsSep filter hasAttr listToAttrs map mapAttrs removeAttrs toJSON typeOf;
  concatMapStrings = f: list: concatStringsSep "" (map f list);

  zg = import ../lib.nix;

  eval = lib.evalModules {
    modules = [ ../default.nix ./stubs/nixos.nix case ];
    specialArgs = { inherit pkgs; };
  };

  # Like NixOS: any false assertion aborts with all failed messages.
  config =
    let failed = filter (a: !a.assertion) eval.config.assertions; in
    if failed == [ ] then eval.config
    else throw "\nFailed assertions:\n${concatMapStrings (a: "- ${a.message}\n") failed}";

  # Deterministic, indented JSON (attribute names sorted), so golden diffs are readable.
  pretty = indent: v:
    let
      t = typeOf v;
      inner = indent + "  ";
    in
    if t == "set" && !(v ? outPath) then
      (if v == { } then "{}" else
      "{\n" + concatStringsSep ",\n" (map (n: "${inner}${toJSON n}: ${pretty inner v.${n}}") (attrNames v)) + "\n${indent}}")
    else if t == "list" then
      (if v == [ ] then "[]" else
      "[\n" + concatStringsSep ",\n" (map (x: "${inner}${pretty inner x}") v) + "\n${indent}]")
    else toJSON v;

  # Everything the module configured (its warnings too), minus texts that get their own golden
  # file. A disabled service shows as { enable = false; } so stub defaults do not clutter the
  # goldens.
  summary = removeAttrs config [ "_module" "assertions" ] // {
    services = mapAttrs (n: s: if (s.enable or true) == false then { enable = false; } else s) config.services;
    environment = config.environment // {
      etc = mapAttrs (n: e: removeAttrs e [ "text" ] // { text = "(golden file)"; }) config.environment.etc;
    };
  };

  # The module refers to scripts by store path only; render the same text here and prove
  # it is the one the unit runs (the fake store path hashes name and text).
  sameScript = where: expected: actual:
    if expected == actual then true
    else throw "harness: ${where} runs ${toJSON actual}, not the script rendered here (${toJSON expected}).";

  zfs = "/run/booted-system/sw/bin/zfs";

  gk = config.services.zfs-gatekeeper;
  sourceFiles =
    if !gk.enable then { } else
    let
      script = pkgs.writeShellScript "zfs-gatekeeper-allow" (zg.allowScript {
        inherit zfs;
        stateFile = "/var/lib/zfs-gatekeeper/zfs-allow.state";
        grants = zg.sourceGrants gk.user gk.identities;
      });
    in
    assert sameScript "zfs-gatekeeper-allow.service" "${script}"
      config.systemd.services.zfs-gatekeeper-allow.serviceConfig.ExecStart;
    {
      "policy.toml" = config.environment.etc."zfs-gatekeeper/policy.toml".text;
      "authorized_keys" = concatMapStrings (l: l + "\n") config.users.users.${gk.user}.openssh.authorizedKeys.keys;
      "zfs-gatekeeper-allow.sh" = script.text;
    };

  zp = config.services.zfs-puller;
  targetFiles =
    if !zp.enable then { } else
    { "zfs-puller.toml" = config.environment.etc."zfs-puller/config.toml".text; }
    // listToAttrs (builtins.concatLists (map
      (name:
        let
          job = zp.jobs.${name};
          unit = config.systemd.services."zfs-puller-${zg.escapeUnitName name}";
          args = zg.targetGrant { inherit zfs job; user = "zfs-puller"; };
          allow = pkgs.writeShellScript "zfs-puller-allow-${zg.escapeUnitName name}" (zg.targetAllowScript args);
          unallow = pkgs.writeShellScript "zfs-puller-unallow-${zg.escapeUnitName name}" (zg.targetUnallowScript args);
        in
        assert sameScript "ExecStartPre of job ${name}" [ "+${allow}" ] unit.serviceConfig.ExecStartPre;
        assert sameScript "ExecStopPost of job ${name}" [ "-+${unallow}" ] unit.serviceConfig.ExecStopPost;
        [
          { name = "zfs-puller-allow-${name}.sh"; value = allow.text; }
          { name = "zfs-puller-unallow-${name}.sh"; value = unallow.text; }
        ])
      (attrNames zp.jobs)));
in
{
  inherit config;
  files = sourceFiles // targetFiles // { "config.json" = pretty "" summary + "\n"; };
}

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
        grants = zg.sourceGrants gk.user gk.identities
          ++ (if gk.restore.enable then [ (zg.restoreGrant gk.user gk.restore.restoreRoot) ] else [ ]);
      });
    in
    assert sameScript "zfs-gatekeeper-allow.service" "${script}"
      config.systemd.services.zfs-gatekeeper-allow.serviceConfig.ExecStart;
    {
      "policy.toml" = config.environment.etc."zfs-gatekeeper/policy.toml".text;
      "authorized_keys" = concatMapStrings (l: l + "\n") config.users.users.${gk.user}.openssh.authorizedKeys.keys;
      "zfs-gatekeeper-allow.sh" = script.text;
    }
    // reportFiles;

  # The audit report's scripts, rendered here as the module does.
  report = gk.auditReport;
  reportScript = pkgs.writeShellScript "zfs-gatekeeper-audit-report" (zg.auditReportScript {
    gatekeeper = "${gk.package}/bin/zfs-gatekeeper";
    coreutils = "${pkgs.coreutils}/bin";
    journalctl = "${pkgs.systemd}/bin/journalctl";
    auditFile = gk.audit.file;
    prometheusFile = report.prometheusFile;
  });
  hook = pkgs.writeShellScript "zfs-gatekeeper-on-denial" report.onDenial;
  denialScript = pkgs.writeShellScript "zfs-gatekeeper-audit-denial" (zg.auditDenialScript {
    report = "/var/lib/zfs-gatekeeper-audit-report/report.txt";
    hook = "${hook}";
  });
  reportFiles =
    if !report.enable then { } else
    assert sameScript "zfs-gatekeeper-audit-report.service" "${reportScript}"
      config.systemd.services.zfs-gatekeeper-audit-report.serviceConfig.ExecStart;
    { "zfs-gatekeeper-audit-report.sh" = reportScript.text; }
    // (if report.onDenial == null then { } else
    assert sameScript "zfs-gatekeeper-audit-denial.service" "${denialScript}"
      config.systemd.services.zfs-gatekeeper-audit-denial.serviceConfig.ExecStart;
    {
      "zfs-gatekeeper-audit-denial.sh" = denialScript.text;
      "zfs-gatekeeper-on-denial.sh" = hook.text;
    });

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

  # The project's units as NixOS writes them (nixos/lib/systemd-lib.nix: one `Key=value` line
  # per value, lists one line per element, booleans true/false), for systemd-analyze in
  # tests/run. Only the sections systemd reads; NixOS adds Environment= and ordering of its own.
  toOption = x: if x == true then "true" else if x == false then "false" else toString x;
  section = as: concatStringsSep "" (builtins.concatLists (map
    (n: map (x: "${n}=${toOption x}\n") (if builtins.isList as.${n} then as.${n} else [ as.${n} ]))
    (attrNames as)));
  unitSection = u: "[Unit]\n" + section ({ Description = u.description; }
    // builtins.listToAttrs (map (n: { name = n.key; value = concatStringsSep " " u.${n.option}; })
    (filter (n: u.${n.option} != [ ]) [
      { key = "After"; option = "after"; }
      { key = "Wants"; option = "wants"; }
      { key = "Requires"; option = "requires"; }
      { key = "OnFailure"; option = "onFailure"; }
    ])));
  ours = name: builtins.match "zfs-(gatekeeper|puller)(-.*)?" name != null;
  units =
    listToAttrs (map (n: { name = "${n}.service"; value = unitSection config.systemd.services.${n} + "\n[Service]\n" + section config.systemd.services.${n}.serviceConfig; })
      (filter ours (attrNames config.systemd.services)))
    // listToAttrs (map (n: { name = "${n}.timer"; value = unitSection config.systemd.timers.${n} + "\n[Timer]\n" + section config.systemd.timers.${n}.timerConfig; })
      (filter ours (attrNames config.systemd.timers)));
in
{
  inherit config units;
  files = sourceFiles // targetFiles // { "config.json" = pretty "" summary + "\n"; };
}

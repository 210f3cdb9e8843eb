# The two sides of each backup, as the golden cases configure them: a source identity and the
# target that pulls with its key (a zfs-puller job, or an upstream services.syncoid command).
# The module cannot see across hosts, so these rows check what the README says must agree.
# `rows`: one "PASS name" / "FAIL name: ..." line each (tests/run prints them); `syncoid`: one
# "case<TAB>identity<TAB>dataset<TAB>hold tag<TAB>mbuffer size<TAB>tools" line per syncoid
# pair (tools separated by spaces), for the
# contract with the gatekeeper in tests/run.
{ lib ? import ./minilib.nix }:

let
  inherit (builtins) all concatStringsSep elem filter map substring stringLength toJSON tryEval;
  zg = import ../lib.nix;

  configOf = case: (import ./harness.nix { inherit lib; case = (import ./cases).${case}; }).config;

  pullerPairs = [
    { source = "source"; identity = "optinix-home"; target = "target"; job = "optinix-home"; }
    { source = "source"; identity = "offsite"; target = "target"; job = "offsite-data"; }
    { source = "seed-source"; identity = "optinix-home"; target = "seed-target"; job = "optinix-home"; }
  ];
  syncoidPairs = [
    { source = "source"; identity = "optinix-home-syncoid"; target = "syncoid-target"; command = "optinix-home"; }
  ];

  # What both kinds of pair share: the login user and the dataset.
  common = name: gk: id: remote: [
    { name = "${name}: the target logs in as the source's gatekeeper user"; ok = remote.user == gk.user; }
    {
      name = "${name}: the pulled dataset is in the identity's datasets";
      ok = builtins.any (ds: remote.dataset == ds || zg.hasPrefix "${ds}/" remote.dataset) id.datasets;
    }
  ];

  pullerRows = p:
    let
      gk = (configOf p.source).services.zfs-gatekeeper;
      id = gk.identities.${p.identity};
      job = (configOf p.target).services.zfs-puller.jobs.${p.job};
      name = "pair ${p.target}/${p.job} with ${p.source}/${p.identity}";
    in
    common name gk id (zg.parseRemote job.source) ++ [
      { name = "${name}: preset puller"; ok = id.preset == "puller"; }
      { name = "${name}: the job's prefix is the identity's snapshotPrefix (${job.prefix})"; ok = job.prefix == id.snapshotPrefix; }
      { name = "${name}: keepSource > 0 only with allowDestroy"; ok = job.keepSource == 0 || id.allowDestroy; }
      { name = "${name}: rawOnly only with raw sends"; ok = !id.rawOnly || job.raw; }
    ];

  syncoidFacts = p:
    let
      target = configOf p.target;
      command = target.services.syncoid.commands.${p.command};
      # As upstream's unit builds syncoid's command line (useCommonArgs, then extraArgs).
      args = (if command.useCommonArgs then target.services.syncoid.commonArgs else [ ]) ++ command.extraArgs;
      gk = (configOf p.source).services.zfs-gatekeeper;
    in
    rec {
      inherit gk command args;
      id = gk.identities.${p.identity};
      host = target.networking.hostName;
      prefix = zg.syncoidSnapshotPrefix { inherit host args; };
      mbuffer = zg.syncoidMbufferSize args;
      remote = zg.parseRemote command.source;
    };

  syncoidRows = p:
    let
      f = syncoidFacts p;
      name = "pair ${p.target}/${p.command} (syncoid) with ${p.source}/${p.identity}";
    in
    common name f.gk f.id f.remote ++ [
      { name = "${name}: preset syncoid-pull"; ok = f.id.preset == "syncoid-pull"; }
      { name = "${name}: backupHost is the target's hostName (${f.host})"; ok = f.id.backupHost == f.host; }
      { name = "${name}: syncoidArgs are the command's"; ok = f.id.syncoidArgs == f.args; }
      { name = "${name}: snapshotPrefix is what syncoid there names its snapshots (${f.prefix})"; ok = f.id.snapshotPrefix == f.prefix; }
      { name = "${name}: mbufferMaxMemory allows syncoid's mbuffer -m ${f.mbuffer}"; ok = zg.mbufferBytes f.id.mbufferMaxMemory >= zg.mbufferBytes f.mbuffer; }
      { name = "${name}: rawOnly only with --sendoptions w"; ok = !f.id.rawOnly || builtins.match ".*w.*" f.command.sendOptions != null; }
    ];

  show = row:
    let r = tryEval row.ok; in
    if r.success && r.value == true then "PASS ${row.name}"
    else if r.success then "FAIL ${row.name}"
    else "FAIL ${row.name}: evaluation error (run with --show-trace)";

  syncoidLine = p:
    let f = syncoidFacts p; in
    concatStringsSep "\t" [ p.source p.identity f.remote.dataset (substring 0 (stringLength f.prefix - 1) f.prefix) f.mbuffer (concatStringsSep " " f.id.tools) ];
in
{
  rows = concatStringsSep "\n" (map show (builtins.concatLists (map pullerRows pullerPairs ++ map syncoidRows syncoidPairs))) + "\n";
  syncoid = concatStringsSep "" (map (p: syncoidLine p + "\n") syncoidPairs);
}

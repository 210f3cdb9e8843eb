# Pure rendering and validation functions for the zfs-gatekeeper NixOS module.
# Builtins only (no nixpkgs lib, no pkgs, no config): strings in, strings out, so the
# tests can call every function with the plain Nix evaluator and compare exact text.
let
  inherit (builtins)
    all any attrNames concatLists concatStringsSep elem filter foldl' genList head
    isString length listToAttrs map match replaceStrings sort stringLength substring;

  concatMapStrings = f: list: concatStringsSep "" (map f list);
  uniqueSorted = list: attrNames (listToAttrs (map (x: { name = x; value = null; }) list));
  hasPrefix = prefix: s: substring 0 (stringLength prefix) s == prefix;

  # ---------------------------------------------------------------------------
  # The permission table: the one place that says which `zfs allow` permissions
  # each gatekeeper preset needs on the source, and the puller needs on the target.
  # ---------------------------------------------------------------------------

  presetPermissions = {
    # syncoid: sends (send), sync snapshots (snapshot), --use-hold (hold, release),
    # --create-bookmark (bookmark).
    "syncoid-pull" = {
      base = [ "send" "snapshot" "hold" "release" "bookmark" ];
      # Pruning old sync snapshots: `zfs destroy` also needs the mount ability (zfs-allow(8)).
      destroy = [ "destroy" "mount" ];
    };
    # zfs-puller: sends, its own sync snapshots, a hold on the last common snapshot, bookmarks.
    "puller" = {
      base = [ "send" "hold" "release" "snapshot" "bookmark" ];
      destroy = [ "destroy" "mount" ];
    };
    # Sends of existing snapshots only. hold/release stay so that a puller can pin the
    # snapshot it is sending; nothing here can create or remove a snapshot.
    "read-only" = {
      base = [ "send" "hold" "release" ];
      destroy = [ ];
    };
  };

  presets = attrNames presetPermissions;

  # The restore identity (zfs-puller restore; preset "restore", services.zfs-gatekeeper.restore):
  # on its restore root, receive and create (and mount, which create requires) and every
  # property its one receive sets or excludes (`zfs receive -s -u -o readonly=on -o
  # canmount=noauto -o setuid=off -o exec=off -o devices=off -x mountpoint`), as measured on
  # OpenZFS 2.1 by tests/e2e/scenarios/restore-01-gatekeeper.sh; a raw (encrypted) receive
  # needs nothing more. Nothing to send, snapshot or destroy.
  restorePermissions = [ "receive" "create" "mount" "readonly" "canmount" "setuid" "exec" "devices" "mountpoint" ];
  restoreGrant = user: restoreRoot: { inherit user; dataset = restoreRoot; permissions = restorePermissions; };

  sourcePermissions = preset: allowDestroy:
    let p = presetPermissions.${preset}; in
    p.base ++ (if allowDestroy then p.destroy else [ ]);

  # zfs permissions belong to the Unix user, not to an identity: every identity logs in as
  # the same user, so a dataset listed by several identities gets the union of their
  # presets (the policy still tells the identities apart). Returns a list of
  # { user, dataset, permissions }, sorted by dataset, permissions in table order.
  permissionOrder = [ "send" "snapshot" "hold" "release" "bookmark" "destroy" "mount" ];
  sourceGrants = user: identities:
    let
      ids = builtins.attrValues identities;
      datasets = uniqueSorted (concatLists (map (i: i.datasets) ids));
      permsFor = ds:
        let wanted = concatLists (map (i: sourcePermissions i.preset i.allowDestroy)
          (filter (i: elem ds i.datasets) ids));
        in filter (p: elem p wanted) permissionOrder;
    in
    map (ds: { inherit user; dataset = ds; permissions = permsFor ds; }) datasets;

  # Receive on the target, hardened as zfs-puller does it (puller/local_commands.cpp: a
  # filesystem with `zfs receive -s -u -x mountpoint -o readonly=on -o canmount=noauto
  # -o setuid=off -o exec=off -o devices=off -o sharenfs=off -o sharesmb=off`, a volume with
  # `-o volmode=none -o readonly=on`): setting or excluding a property at receive time needs
  # that property's permission (tests/run checks this list against the receive the real
  # zfs-puller runs). change-key: a raw (encrypted) receive carries the encryption
  # properties. This set is also what the parent of a target that does not exist yet gets for
  # the first, full receive: no destroy there, because a grant on a parent (often the pool
  # root) reaches every dataset below it, other jobs' too.
  receivePermissions = raw:
    [ "create" "mount" "receive" "mountpoint" "canmount" "readonly" "setuid" "exec" "devices" "sharenfs" "sharesmb" "volmode" ]
    ++ (if raw then [ "change-key" ] else [ ]);

  # On the target itself: the receive set; userprop for the zfs-puller:received marker the
  # puller sets on what arrived (its retention counts a snapshot's age from it), not on the
  # parent, where it would reach the other jobs' markers (the first pull's snapshots then go
  # unmarked, with a warning, and count from their creation); destroy (with mount, above) for
  # the puller's pruning of its own sync snapshots there (keep_target), none when it never
  # prunes.
  targetPermissions = { raw, keepTarget }:
    receivePermissions raw ++ [ "userprop" ] ++ (if keepTarget > 0 then [ "destroy" ] else [ ]);

  # Pipeline stages the gatekeeper may start, and where they live in nixpkgs
  # (attribute name of the package, program name in its bin/).
  toolPackages = {
    lzop = { package = "lzop"; program = "lzop"; };
    gzip = { package = "gzip"; program = "gzip"; };
    pigz = { package = "pigz"; program = "pigz"; };
    zstd = { package = "zstd"; program = "zstd"; };
    zstdmt = { package = "zstd"; program = "zstdmt"; };
    xz = { package = "xz"; program = "xz"; };
    lz4 = { package = "lz4"; program = "lz4"; };
    mbuffer = { package = "mbuffer"; program = "mbuffer"; };
    socat = { package = "socat"; program = "socat"; };
  };

  tools = attrNames toolPackages;

  # ---------------------------------------------------------------------------
  # Validation. Each *Problem function returns null when the value is fine, or a
  # sentence saying what is wrong (used verbatim in assertion messages).
  # ---------------------------------------------------------------------------

  # ZFS name rules (module/zcommon/zfs_namecheck.c): components of [A-Za-z0-9_.: -],
  # separated by "/", no empty, "." or ".." component, shorter than 256 bytes.
  # "%" is reserved for internal temporary clones; "@"/"#" would name a snapshot or
  # bookmark, not a dataset. The pool name starts with a letter and is not reserved.
  datasetNameProblem = name:
    let
      components = filter isString (builtins.split "/" name);
      pool = head components;
      badComponent = c: c == "" || c == "." || c == ".." || match "[A-Za-z0-9_.: -]+" c == null;
    in
    if !isString name then "is not a string"
    else if name == "" then "is empty"
    else if stringLength name > 255 then "is longer than 255 bytes"
    else if hasPrefix "/" name then "starts with \"/\" (a dataset name, not a mountpoint)"
    else if match ".*/" name != null then "ends with \"/\""
    else if match ".*[@#].*" name != null then "names a snapshot or bookmark; give the dataset"
    else if match ".*%.*" name != null then "contains \"%\", which ZFS reserves for temporary clones"
    else if any badComponent components then
      "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]"
    else if match "[A-Za-z].*" pool == null then "has a pool name that does not start with a letter"
    else if elem pool [ "mirror" "raidz" "draid" "log" ]
      || match "(mirror|raidz|draid|spare).*" pool != null then "has a reserved pool name"
    else if match "c[0-9].*" pool != null then "has a pool name that looks like a disk (c[0-9]...)"
    else null;

  isValidDatasetName = name: datasetNameProblem name == null;

  # Key types the module accepts, with the start of the base64 blob that encodes the same
  # type name (the blob starts with uint32 length + type name), so "ssh-ed25519 <rsa blob>"
  # is caught. ssh-dss is refused: OpenSSH disabled DSA keys.
  keyBlobPrefix = {
    "ssh-ed25519" = "AAAAC3NzaC1lZDI1NTE5";
    "ssh-rsa" = "AAAAB3NzaC1y";
    "ecdsa-sha2-nistp256" = "AAAAE2VjZHNhLXNoYTItbmlzdHAy";
    "ecdsa-sha2-nistp384" = "AAAAE2VjZHNhLXNoYTItbmlzdHAz";
    "ecdsa-sha2-nistp521" = "AAAAE2VjZHNhLXNoYTItbmlzdHA1";
    "sk-ssh-ed25519@openssh.com" = "AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29t";
    "sk-ecdsa-sha2-nistp256@openssh.com" = "AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5j";
  };

  keyTypes = attrNames keyBlobPrefix;

  # A bare OpenSSH public key: "TYPE BASE64 [COMMENT]". Options (restrict, command=, from=)
  # are refused: the module writes the options itself.
  publicKeyProblem = key:
    let
      m = match "([^ ]+) ([^ ]+)( [^[:cntrl:]]*)?" key;
      type = head m;
      blob = builtins.elemAt m 1;
    in
    if !isString key then "is not a string"
    else if match "[^[:cntrl:]]*" key == null then "contains a newline or control character"
    else if m == null then "is not of the form \"TYPE BASE64 [COMMENT]\""
    else if !(keyBlobPrefix ? ${type}) then
      "has key type \"${type}\"; expected one of: ${concatStringsSep " " keyTypes} (and no options before the key; the module writes them)"
    else if match "[A-Za-z0-9+/]+={0,2}" blob == null || stringLength blob - (stringLength blob / 4) * 4 != 0 then
      "has a key blob that is not base64"
    else if !(hasPrefix keyBlobPrefix.${type} blob) then
      "has a key blob that does not encode a ${type} key"
    else null;

  isValidPublicKey = key: publicKeyProblem key == null;

  # Keys (type and blob; the comment does not count) listed more than once across
  # identities, as "<key start> in <identities>" sentences. sshd uses the first line of a key.
  sharedPublicKeys = identities:
    let
      entries = concatLists (map
        (name: map (key: { inherit name; id = let m = match "([^ ]+ [^ ]+).*" key; in if m == null then key else head m; })
          identities.${name}.publicKeys)
        (attrNames identities));
      ids = uniqueSorted (map (e: e.id) entries);
      holders = id: map (e: e.name) (filter (e: e.id == id) entries);
    in
    map (id: "${head (filter isString (builtins.split " " id))} ...${substring (stringLength id - 16) 16 id} in ${concatStringsSep ", " (holders id)}")
      (filter (id: length (holders id) > 1) ids);

  # mbuffer -m sizes as the policy loader reads mbuffer_max_memory (policy/policy_file.cpp with
  # grammar::mbuffer_bytes): decimal digits (leading zeros allowed) that are not all zero, then
  # an optional k/M/G (powers of 1024); at most 16G. mbufferBytes: the bytes, or null when
  # mbufferSizeProblem has something to say.
  mbufferLimit = 17179869184; # 16G
  mbufferParse = size:
    let m = if isString size then match "0*([0-9]+)([kKmMgG]?)" size else null; in
    if m == null || head m == "0" then null
    else {
      digits = head m;
      unit = { "" = 1; k = 1024; K = 1024; m = 1048576; M = 1048576; g = 1073741824; G = 1073741824; }.${builtins.elemAt m 1};
    };
  mbufferSizeProblem = size:
    let p = mbufferParse size; in
    if p == null then "is not a size such as \"16M\" or \"1G\""
    # More than 11 digits is above 16G in any unit (and would not fit Nix's integers).
    else if stringLength p.digits > 11 || builtins.fromJSON p.digits * p.unit > mbufferLimit then
      "is above 16G, the most the gatekeeper accepts"
    else null;
  mbufferBytes = size:
    if mbufferSizeProblem size != null then null
    else let p = mbufferParse size; in builtins.fromJSON p.digits * p.unit;

  # ---------------------------------------------------------------------------
  # syncoid on the backup host, as the source sees it.
  # ---------------------------------------------------------------------------

  # The presets syncoid pulls with: its sync snapshots, holds and mbuffer stage apply.
  syncoidPresets = [ "syncoid-pull" "read-only" ];

  # One option of syncoid's command line, read as Getopt::Long does for `--name=value` and
  # `--name value` (the last one wins); null when it is not there.
  syncoidOption = name: args:
    let
      n = length args;
      at = builtins.elemAt args;
      values = concatLists (genList
        (i:
          let m = match "--${name}=(.*)" (at i); in
          if m != null then m
          else if at i == "--${name}" && i + 1 < n then [ (at (i + 1)) ]
          else [ ])
        n);
    in
    if values == [ ] then null else builtins.elemAt values (length values - 1);

  # syncoid names its sync snapshots `syncoid_[ID_]HOST_<stamp>` and its hold tag
  # `syncoid_[ID_]HOST`, HOST being what `hostname` prints on the backup host and ID its
  # --identifier. This prefix admits exactly those of one backup host (the gatekeeper admits
  # the tag as the prefix without its last `_`).
  syncoidSnapshotPrefix = { host, args }:
    let id = syncoidOption "identifier" args; in
    "syncoid_" + (if id == null then "" else "${id}_") + "${host}_";

  # The mbuffer -m syncoid sends: its --mbuffer-size, else its default, 16M.
  syncoidMbufferSize = args:
    let v = syncoidOption "mbuffer-size" args; in if v == null then "16M" else v;

  # An identity's snapshotPrefix when none is given: zfs-puller's own default for preset
  # puller; for syncoid the names of its backup host, or, with no host given, every syncoid
  # snapshot (the module warns about that).
  defaultSnapshotPrefix = identity:
    if identity.preset == "puller" then "zfs-puller_"
    else if identity.backupHost == null then "syncoid_"
    else syncoidSnapshotPrefix { host = identity.backupHost; args = identity.syncoidArgs; };

  # Datasets a and b share snapshots when one is the other or lies below it (component-wise).
  datasetsOverlap = a: b: a == b || hasPrefix "${a}/" b || hasPrefix "${b}/" a;

  # Pairs of identities that could act on each other's snapshots: on overlapping datasets,
  # one's snapshotPrefix starts with the other's (so the shorter admits every name and hold
  # tag of the longer). Returns { a, b, datasets } with a < b and a's overlapping datasets.
  prefixConflicts = identities:
    let
      names = attrNames identities;
      pairs = concatLists (map (a: map (b: { inherit a b; }) (filter (b: a < b) names)) names);
      overlap = p: filter (ds: any (datasetsOverlap ds) identities.${p.b}.datasets) identities.${p.a}.datasets;
      nested = p:
        let x = identities.${p.a}.snapshotPrefix; y = identities.${p.b}.snapshotPrefix; in
        hasPrefix x y || hasPrefix y x;
    in
    map (p: p // { datasets = overlap p; }) (filter (p: nested p && overlap p != [ ]) pairs);

  # Identity and job names end up as TOML bare keys, in authorized_keys command strings
  # and in systemd unit names: keep them to one safe word.
  namePattern = "[A-Za-z0-9_][A-Za-z0-9_-]*";
  isValidName = name: match namePattern name != null && stringLength name <= 64;

  # Snapshot name prefix, as the gatekeeper's policy loader takes it: a letter, then
  # snapshot-name characters, at most 64. Never empty: an empty prefix would let the key
  # destroy every snapshot of its datasets.
  isValidSnapshotPrefix = p: match "[A-Za-z][A-Za-z0-9_.:-]*" p != null && stringLength p <= 64;

  # "user@host:pool/dataset" as syncoid and zfs-puller take it. Returns null if malformed.
  parseRemote = s:
    let m = match "([A-Za-z0-9_][A-Za-z0-9_.-]*)@([A-Za-z0-9.-]+|[[][0-9A-Fa-f:.]+[]]):(.+)" s; in
    if m == null then null
    else { user = head m; host = builtins.elemAt m 1; dataset = builtins.elemAt m 2; };

  remoteProblem = s:
    let r = parseRemote s; in
    if r == null then "is not of the form \"user@host:pool/dataset\""
    else let p = datasetNameProblem r.dataset; in
      if p != null then "names dataset \"${r.dataset}\", which ${p}" else null;

  # The package option's default: pkgs.zfs-gatekeeper, which only the flake's overlay (or its
  # nixosModules.default, which sets the option) provides.
  defaultPackage = pkgs: option:
    pkgs.zfs-gatekeeper or (throw "${option} is not set and pkgs has no zfs-gatekeeper: import the flake's nixosModules.default (which sets it), apply the flake's overlays.default, or set ${option} to a build of this repository.");

  # ---------------------------------------------------------------------------
  # Quoting
  # ---------------------------------------------------------------------------

  # TOML basic string. Names are validated before they get here; escaping stays complete
  # for the characters that can still occur (paths, comments).
  tomlString = s: "\"" + replaceStrings [ "\\" "\"" "\n" "\r" "\t" ] [ "\\\\" "\\\"" "\\n" "\\r" "\\t" ] s + "\"";
  tomlList = list: "[" + concatStringsSep ", " (map tomlString list) + "]";
  tomlBool = b: if b then "true" else "false";

  # POSIX shell word, like nixpkgs lib.escapeShellArg: safe words stay bare.
  escapeShellArg = arg:
    if match "[[:alnum:],._+:@%/-]+" arg != null then arg
    else "'" + replaceStrings [ "'" ] [ "'\\''" ] arg + "'";
  escapeShellArgs = args: concatStringsSep " " (map escapeShellArg args);

  # systemd unit name part (systemd.unit(5)): anything outside [a-zA-Z0-9_.-] becomes "-".
  escapeUnitName = name:
    concatMapStrings (s: if isString s then s else "-") (builtins.split "[^a-zA-Z0-9_.-]+" name);

  # ---------------------------------------------------------------------------
  # Source side: the policy file and authorized_keys
  # ---------------------------------------------------------------------------

  # Programs the policy must name: zfs and zpool always, plus every tool some identity uses.
  # programPath: tool name -> absolute path (the module resolves it from pkgs).
  policyPrograms = { zfs, zpool, programPath, identities }:
    { inherit zfs zpool; }
    // listToAttrs (map (t: { name = t; value = programPath t; })
      (uniqueSorted (concatLists (map (i: i.tools) (builtins.attrValues identities)))));

  # identities: name -> { datasets, preset, snapshotPrefix, allowDestroy, rawOnly, tools,
  # mbufferMaxMemory }; restore: null, or { identity, restoreRoot } (preset "restore", which
  # takes restore_root and nothing else).
  renderPolicy = { programs, audit, identities, restore ? null }:
    let
      programLines = concatMapStrings (n: "${n} = ${tomlString programs.${n}}\n") (attrNames programs);
      auditLines =
        (if audit.file != null then "file = ${tomlString audit.file}\n" else "")
        + "syslog = ${tomlBool audit.syslog}\n"
        + "required = true\n";
      identitySection = name:
        let i = identities.${name}; in
        ''

          [identity.${name}]
          datasets = ${tomlList i.datasets}
          preset = ${tomlString i.preset}
          snapshot_prefix = ${tomlString i.snapshotPrefix}
          allow_destroy = ${tomlBool i.allowDestroy}
          raw_only = ${tomlBool i.rawOnly}
          tools = ${tomlList i.tools}
          mbuffer_max_memory = ${tomlString i.mbufferMaxMemory}
        '';
      restoreSection =
        if restore == null then ""
        else ''

          [identity.${restore.identity}]
          preset = "restore"
          restore_root = ${tomlString restore.restoreRoot}
        '';
    in
    ''
      # zfs-gatekeeper policy, generated by the NixOS module (services.zfs-gatekeeper).
      # Edits here are lost on the next switch; change the NixOS configuration instead.

      [programs]
    ''
    + programLines
    + "\n[audit]\n"
    + auditLines
    + concatMapStrings identitySection (attrNames identities)
    + restoreSection;

  # One authorized_keys line: `restrict` turns off forwarding, PTY, agent, X11 and rc;
  # the forced command pins the identity, whatever the client asks for.
  authorizedKeyLine = { gatekeeper, policyFile, identity, key }:
    "restrict,command=\"${gatekeeper} --policy ${policyFile} --identity ${identity}\" ${key}";

  # ---------------------------------------------------------------------------
  # Source side: the `zfs allow` script run by the zfs-gatekeeper-allow oneshot.
  # grants: list of { user, dataset, permissions } (permissions: list of strings).
  # ---------------------------------------------------------------------------
  allowScript = { zfs, stateFile, grants }:
    let
      wantedLines = concatStringsSep "\n" (map (g: "${g.user}\t${g.dataset}") grants);
      grantLine = g: "grant ${escapeShellArgs [ g.user (concatStringsSep "," g.permissions) g.dataset ]}\n";
    in
    ''
      # zfs-gatekeeper-allow, generated by the zfs-gatekeeper NixOS module.
      # Grants exactly the configured `zfs allow` permissions, and revokes the grants an
      # earlier run made that the configuration no longer lists. Safe to run any number of times.
      set -u

      zfs=${escapeShellArg zfs}
      state=${escapeShellArg stateFile}
      failed=0

      # One "user<TAB>dataset" per line (ZFS names never contain a TAB or a newline).
      wanted=${escapeShellArg wantedLines}

      # Revoke what an earlier run granted and the configuration no longer lists.
      if [ -f "$state" ]; then
        while IFS=$'\t' read -r user dataset; do
          [ -n "$dataset" ] || continue
          case $'\n'"$wanted"$'\n' in
            *$'\n'"$user"$'\t'"$dataset"$'\n'*) ;;
            *)
              if "$zfs" unallow -u "$user" "$dataset"; then
                echo "zfs-gatekeeper-allow: revoked every permission of $user on $dataset" >&2
              else
                echo "zfs-gatekeeper-allow: could not revoke the permissions of $user on $dataset (dataset or user gone?)" >&2
              fi
              ;;
          esac
        done < "$state"
      fi

      # grant USER PERMISSIONS DATASET: afterwards USER holds exactly PERMISSIONS on DATASET
      # and its descendants. Permissions this module never grants are revoked too.
      grant() {
        if "$zfs" unallow -u "$1" "$3" && "$zfs" allow -u "$1" "$2" "$3"; then
          echo "zfs-gatekeeper-allow: $1 may $2 on $3" >&2
        else
          echo "zfs-gatekeeper-allow: could not set the permissions of $1 on $3" >&2
          failed=1
        fi
      }

    ''
    + concatMapStrings grantLine grants
    + ''

      # Remember what was granted, so that a later run can revoke it.
      if [ -n "$wanted" ]; then
        printf '%s\n' "$wanted" > "$state" || failed=1
      else
        : > "$state" || failed=1
      fi
      exit "$failed"
    '';

  # ---------------------------------------------------------------------------
  # systemd hardening that the units which run as an unprivileged user (the zfs-puller jobs,
  # the audit report) share; each unit adds what is particular to it, with its reasons.
  # ---------------------------------------------------------------------------
  unprivilegedUnitHardening = {
    # No setuid binary or file capability can raise privileges.
    NoNewPrivileges = true;
    # Read-only view of the whole system (each unit names what it may write), and no access
    # to /home, /root, /run/user.
    ProtectSystem = "strict";
    ProtectHome = true;
    # Only the unit's own processes are visible in /proc, and no kernel internals.
    ProtectProc = "invisible";
    ProcSubset = "pid";
    # Neither sets the clock or the hostname.
    ProtectClock = true;
    ProtectHostname = true;
    # Kernel logs, modules, sysctls and cgroups stay out of reach.
    ProtectKernelLogs = true;
    ProtectKernelModules = true;
    ProtectKernelTunables = true;
    ProtectControlGroups = true;
    # Mounts made by the unit stay in its own namespace (neither mounts anything).
    PrivateMounts = true;
    # SysV IPC objects die with the run.
    RemoveIPC = true;
    # No personality changes, no W+X memory (no JIT in ssh, zfs, bash, coreutils, journalctl
    # or the gatekeeper).
    LockPersonality = true;
    MemoryDenyWriteExecute = true;
    # No new namespaces, no realtime scheduling, no setuid/setgid files created.
    RestrictNamespaces = true;
    RestrictRealtime = true;
    RestrictSUIDSGID = true;
    # Native system calls only (each unit lists which).
    SystemCallArchitectures = "native";
    # Files it creates (ssh's control socket, the report's state) are private.
    UMask = "0077";
  };

  # ---------------------------------------------------------------------------
  # Source side: the audit report run by zfs-gatekeeper-audit-report.service, and the hook
  # zfs-gatekeeper-audit-denial.service runs when it finds something.
  # ---------------------------------------------------------------------------

  # Reads the records written since the previous run (the first run: all of them) from the
  # audit file, or from the journal when auditFile is null, and exits like audit-report: 0
  # nothing to report, 1 denials, sandbox kills or bad records, 2 a broken report. Only a
  # report that could be made moves the window on, so a broken one loses no record; a record
  # written while a report runs may be reported twice, never missed. coreutils: a bin directory.
  auditReportScript = { gatekeeper, coreutils, journalctl, auditFile, prometheusFile }:
    let
      reportArgs = if prometheusFile == null then "" else " --prometheus ${escapeShellArg prometheusFile}";
      read =
        if auditFile != null then ''
          "$gatekeeper" audit-report ${escapeShellArg auditFile} "''${since_args[@]}"${reportArgs} > "$report.new"
          status=$?
        ''
        else ''
          # journald's copy of the records (syslog facility authpriv), to a file first: a
          # journalctl that failed or could not see the system journal must not pass for an
          # empty window. journalctl's --since only narrows the read (the journal's time of a
          # record is never before the record's own); audit-report's is the window.
          journal_args=(--no-pager --output=cat --identifier=zfs-gatekeeper SYSLOG_FACILITY=10)
          [ -z "$since" ] || journal_args+=(--since "@''${since%.*}")
          ${escapeShellArg journalctl} "''${journal_args[@]}" > "$state/journal.jsonl" 2> "$state/journalctl.err"
          status=$?
          if [ "$status" != 0 ] || [ -s "$state/journalctl.err" ]; then
            echo "zfs-gatekeeper-audit-report: journalctl (exit $status) did not read the journal:" >&2
            "$coreutils/cat" "$state/journalctl.err" >&2
            exit 2
          fi
          "$gatekeeper" audit-report - "''${since_args[@]}"${reportArgs} < "$state/journal.jsonl" > "$report.new"
          status=$?
          "$coreutils/rm" -f "$state/journal.jsonl" "$state/journalctl.err"
        '';
    in
    ''
      # zfs-gatekeeper-audit-report, generated by the zfs-gatekeeper NixOS module.
      # Sums up the audit records written since the previous run (the first run: all of them).
      # Exit status as audit-report's: 0 nothing to report, 1 denials, sandbox kills or bad
      # records, 2 a broken report (the next run reads this window again). The report goes to
      # the journal and to $STATE_DIRECTORY/report.txt, which the denial hook reads.
      set -u -o pipefail

      gatekeeper=${escapeShellArg gatekeeper}
      coreutils=${escapeShellArg coreutils}
      state=''${STATE_DIRECTORY:?run by zfs-gatekeeper-audit-report.service, which sets StateDirectory}
      since_file=$state/since
      report=$state/report.txt

      # The next window starts where this run started reading.
      now=$("$coreutils/date" -u +%s.%6N) || exit 2
      since=""
      since_args=()
      if [ -e "$since_file" ]; then
        since=$(< "$since_file")
        if ! [[ $since =~ ^[0-9]+[.][0-9]{6}$ ]]; then
          echo "zfs-gatekeeper-audit-report: $since_file holds no time; remove it to report the whole log" >&2
          exit 2
        fi
        start=$("$coreutils/date" -u -d "@$since" +%Y-%m-%dT%H:%M:%S.%6NZ) || exit 2
        since_args=(--since "$start")
      fi

    ''
    + read
    + ''

      "$coreutils/cat" "$report.new"
      case $status in
        0 | 1)
          if ! "$coreutils/mv" -f "$report.new" "$report" || ! printf '%s\n' "$now" > "$since_file.new" ||
            ! "$coreutils/mv" -f "$since_file.new" "$since_file"; then
            exit 2
          fi
          exit "$status"
          ;;
        *) exit 2 ;;
      esac
    '';

  # Started by systemd when the report unit fails (OnFailure=). Only its exit status 1 means
  # "the report found something": the hook then gets the report on stdin and its path in
  # $ZFS_GATEKEEPER_REPORT. Any other failure (2: no report could be made) stays visible as the
  # failed report unit; the hook is never run with a report that was not made.
  auditDenialScript = { report, hook }:
    ''
      # zfs-gatekeeper-audit-denial, generated by the zfs-gatekeeper NixOS module.
      set -u
      if [ "''${MONITOR_EXIT_CODE:-}" != exited ] || [ "''${MONITOR_EXIT_STATUS:-}" != 1 ]; then
        echo "zfs-gatekeeper-audit-denial: zfs-gatekeeper-audit-report.service ended with ''${MONITOR_SERVICE_RESULT:-an unknown result} (''${MONITOR_EXIT_CODE:-?} ''${MONITOR_EXIT_STATUS:-?}), not with a report of denials; its journal says why" >&2
        exit 0
      fi
      export ZFS_GATEKEEPER_REPORT=${escapeShellArg report}
      exec ${escapeShellArg hook} < "$ZFS_GATEKEEPER_REPORT"
    '';

  # ---------------------------------------------------------------------------
  # Target side: per-run delegation for the puller (like nixpkgs' syncoid unit), and the
  # zfs-puller configuration file.
  # ---------------------------------------------------------------------------

  # Grant on the target dataset, or, when the target does not exist yet (the first, full
  # receive creates it), the receive set only on its parent.
  targetAllowScript = { zfs, user, dataset, permissions, parentPermissions }:
    let parent = builtins.dirOf dataset; in
    ''
      # Generated by the zfs-puller NixOS module: delegate receive permissions for one run.
      if ${escapeShellArgs [ zfs "list" "-H" "-o" "name" dataset ]} > /dev/null 2>&1; then
        exec ${escapeShellArgs [ zfs "allow" "-u" user (concatStringsSep "," permissions) dataset ]}
    ''
    + (if parent != "." then ''
      else
        exec ${escapeShellArgs [ zfs "allow" "-u" user (concatStringsSep "," parentPermissions) parent ]}
    '' else "")
    + ''
      fi
    '';

  # Revoke on the target and on its parent: the pre-run script may have used either.
  targetUnallowScript = { zfs, user, dataset, permissions, parentPermissions }:
    let parent = builtins.dirOf dataset; in
    ''
      # Generated by the zfs-puller NixOS module: take back what the pre-run script granted.
      rc=0
      ${escapeShellArgs [ zfs "unallow" "-u" user (concatStringsSep "," permissions) dataset ]} || rc=1
    ''
    + (if parent != "." then ''
      ${escapeShellArgs [ zfs "unallow" "-u" user (concatStringsSep "," parentPermissions) parent ]} || rc=1
    '' else "")
    + ''
      exit "$rc"
    '';

  # The two scripts' arguments for one job.
  targetGrant = { zfs, user, job }: {
    inherit zfs user;
    dataset = job.target;
    permissions = targetPermissions { inherit (job) raw keepTarget; };
    parentPermissions = receivePermissions job.raw;
  };

  # jobs: name -> { source, target, sshKey, knownHosts, port, recursive, raw, prefix,
  # keepSource, keepTarget }
  # Seconds of an age as zfs-puller reads it ("26h": a positive whole number and one of
  # s m h d w), or null for anything else.
  ageSeconds = age:
    let
      m = builtins.match "([1-9][0-9]{0,8})([smhdw])" age;
      unit = { s = 1; m = 60; h = 3600; d = 86400; w = 604800; };
    in
    if m == null then null else builtins.fromJSON (builtins.head m) * unit.${builtins.elemAt m 1};

  renderPullerConfig = { programs, jobs, status ? null }:
    let
      jobSection = name:
        let j = jobs.${name}; in
        ''

          [job.${name}]
          source = ${tomlString j.source}
          target = ${tomlString j.target}
          ssh_key = ${tomlString j.sshKey}
          known_hosts = ${tomlString j.knownHosts}
          port = ${toString j.port}
          recursive = ${tomlBool j.recursive}
          raw = ${tomlBool j.raw}
          prefix = ${tomlString j.prefix}
          keep_source = ${toString j.keepSource}
          keep_target = ${toString j.keepTarget}
        ''
        # zfs-puller restore (README "Restore"): only when the job has a restore root.
        + (if (j.restoreRoot or null) == null then "" else ''
          restore_root = ${tomlString j.restoreRoot}
          restore_ssh_key = ${tomlString j.restoreSshKey}
        '')
        + (if (j.restoreUser or null) == null then "" else ''
          restore_user = ${tomlString j.restoreUser}
        '');
    in
    ''
      # zfs-puller configuration, generated by the NixOS module (services.zfs-puller).
      # Edits here are lost on the next switch; change the NixOS configuration instead.

      [programs]
    ''
    + concatMapStrings (n: "${n} = ${tomlString programs.${n}}\n") (attrNames programs)
    + concatMapStrings jobSection (attrNames jobs)
    # What `zfs-puller status` judges by, and the textfile every run writes.
    + (if status == null then "" else ''

      [status]
    '' + (if status.prometheusFile == null then "" else ''
      prometheus_textfile = ${tomlString status.prometheusFile}
    '') + ''
      warn = ${tomlString status.warn}
      crit = ${tomlString status.crit}
    '');

in
{
  inherit
    presetPermissions presets sourcePermissions sourceGrants permissionOrder receivePermissions targetPermissions
    restorePermissions restoreGrant
    targetGrant toolPackages tools sharedPublicKeys mbufferSizeProblem mbufferBytes defaultPackage
    syncoidPresets syncoidOption syncoidSnapshotPrefix syncoidMbufferSize defaultSnapshotPrefix
    datasetsOverlap prefixConflicts
    datasetNameProblem isValidDatasetName keyBlobPrefix keyTypes publicKeyProblem
    isValidPublicKey namePattern isValidName isValidSnapshotPrefix parseRemote remoteProblem
    tomlString tomlList escapeShellArg escapeShellArgs escapeUnitName
    policyPrograms renderPolicy authorizedKeyLine allowScript auditReportScript auditDenialScript
    unprivilegedUnitHardening
    targetAllowScript targetUnallowScript renderPullerConfig ageSeconds
    uniqueSorted hasPrefix;
}

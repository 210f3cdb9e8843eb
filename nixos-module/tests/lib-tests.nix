# Table tests of the pure functions in ../lib.nix: { name, expr, expected } rows.
# tests/run prints one line per row; the value is one "PASS name" / "FAIL name: ..." line each.
let
  zg = import ../lib.nix;
  inherit (builtins) all attrNames concatLists concatStringsSep elem filter map toJSON;

  ed25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM root@backup";
  ed25519Blob = "AAAAC3NzaC1lZDI1NTE5AAAAICsm+h8IZ+Tomp8GVnDxpp9Rcs129GtMhA2CnEv3FWfM";
  rsaBlob = "AAAAB3NzaC1yc2EAAAADAQABAAABgQCrRvnJGDX55AzdOjy65dccKWnQsHNZ9sXN8iZTuDMtyFQxEs5yTCxNMTOr6FcRINXmzXDGCUGS+f2tJbZL7aYeMFVFodfX9hEeV2XX0rk08oYx3gkR5t5hkNw4B0ciLBokoKJU5W/AzrW78gvn0TzBuH5n8M2y2O2z6oZhjCvtQRnO0MVfjfSSJk5gCYR/xx6xcQzvWi64Spu1+I9kFNLmKDFBYBHOT2lT0+j/+hKvPlypR5fxZ3+8Nt00mKumAQuuAVRT1P7YAqOiTf46yRPR/6fGiofMxGf6ikZWVInncI0Wc1VXK669irmu1URVs6xT+rauZd2D/xaDJmwtojocJ/xqeOltuLFoBCljM2goQXA8QXWHWF2VfnhuIAA/XrNg62rR2+3N2OyqJbjOS8lWwBLqXxh13LnKmnHlE7vxXX/o+UYJ601aBTBF51kIcxEwWsObrUBU6sHKx+FSfrBOPXTHhH5s9D8xef61kbsmJB6J1vBRzIONp2zmWOQFs+0=";

  dataset = name: input: expected: { name = "datasetNameProblem ${toJSON input}"; expr = zg.datasetNameProblem input; inherit expected; };
  key = name: input: expected: { name = "publicKeyProblem ${name}"; expr = zg.publicKeyProblem input; inherit expected; };

  identity = preset: allowDestroy: datasets: { inherit preset allowDestroy datasets; };

  rows = [
    # ZFS names: what zfs_namecheck.c accepts, and what it (or the gatekeeper) rejects.
    (dataset "plain" "NIXROOT/home" null)
    (dataset "pool only" "tank" null)
    (dataset "space" "tank/my data" null)
    (dataset "all legal characters" "tank/a-b_c.d:e f" null)
    (dataset "empty" "" "is empty")
    (dataset "leading slash" "/tank/data" "starts with \"/\" (a dataset name, not a mountpoint)")
    (dataset "trailing slash" "tank/data/" "ends with \"/\"")
    (dataset "empty component" "tank//data" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "dot component" "tank/./data" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "dotdot component" "tank/../etc" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "snapshot" "tank/data@snap" "names a snapshot or bookmark; give the dataset")
    (dataset "bookmark" "tank/data#mark" "names a snapshot or bookmark; give the dataset")
    (dataset "percent" "tank/data%x" "contains \"%\", which ZFS reserves for temporary clones")
    (dataset "quote" "tank/it's" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "non-ascii" "tank/dätä" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "comma" "tank/a,b" "has an empty, \".\" or \"..\" component or a character outside [A-Za-z0-9_.: -]")
    (dataset "pool digit" "1tank/data" "has a pool name that does not start with a letter")
    (dataset "reserved mirror" "mirror/data" "has a reserved pool name")
    (dataset "reserved raidz prefix" "raidz2/data" "has a reserved pool name")
    (dataset "reserved log" "log" "has a reserved pool name")
    (dataset "disk-like" "c0t0d0/data" "has a pool name that looks like a disk (c[0-9]...)")
    {
      name = "datasetNameProblem 256 bytes";
      expr = zg.datasetNameProblem ("t/" + concatStringsSep "" (builtins.genList (_: "a") 254));
      expected = "is longer than 255 bytes";
    }

    # Public keys.
    (key "ed25519 with comment" ed25519 null)
    (key "ed25519 without comment" "ssh-ed25519 ${ed25519Blob}" null)
    (key "rsa" "ssh-rsa ${rsaBlob} legacy@offsite" null)
    (key "comment with spaces and quotes" "ssh-ed25519 ${ed25519Blob} a \"b\" c" null)
    (key "options before the key" "restrict ${ed25519}" "has key type \"restrict\"; expected one of: ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 sk-ecdsa-sha2-nistp256@openssh.com sk-ssh-ed25519@openssh.com ssh-ed25519 ssh-rsa (and no options before the key; the module writes them)")
    (key "command option" "command=\"sh\" ${ed25519}" "has key type \"command=\"sh\"\"; expected one of: ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 sk-ecdsa-sha2-nistp256@openssh.com sk-ssh-ed25519@openssh.com ssh-ed25519 ssh-rsa (and no options before the key; the module writes them)")
    (key "dsa" "ssh-dss AAAAB3NzaC1kc3MAAACBAP" "has key type \"ssh-dss\"; expected one of: ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 ecdsa-sha2-nistp521 sk-ecdsa-sha2-nistp256@openssh.com sk-ssh-ed25519@openssh.com ssh-ed25519 ssh-rsa (and no options before the key; the module writes them)")
    (key "newline" "${ed25519}\nssh-ed25519 ${ed25519Blob}" "contains a newline or control character")
    (key "type only" "ssh-ed25519" "is not of the form \"TYPE BASE64 [COMMENT]\"")
    (key "blob not base64" "ssh-ed25519 AAAA$$$$" "has a key blob that is not base64")
    (key "blob length" "ssh-ed25519 ${ed25519Blob}A" "has a key blob that is not base64")
    (key "rsa blob under ed25519 type" "ssh-ed25519 ${rsaBlob}" "has a key blob that does not encode a ssh-ed25519 key")
    (key "leading space" " ${ed25519}" "is not of the form \"TYPE BASE64 [COMMENT]\"")

    # Names, prefixes, remotes.
    { name = "isValidName optinix-home"; expr = zg.isValidName "optinix-home"; expected = true; }
    { name = "isValidName leading dash"; expr = zg.isValidName "-x"; expected = false; }
    { name = "isValidName dot"; expr = zg.isValidName "a.b"; expected = false; }
    { name = "isValidName space"; expr = zg.isValidName "a b"; expected = false; }
    { name = "isValidSnapshotPrefix empty"; expr = zg.isValidSnapshotPrefix ""; expected = false; }
    { name = "isValidSnapshotPrefix syncoid_"; expr = zg.isValidSnapshotPrefix "syncoid_"; expected = true; }
    { name = "isValidSnapshotPrefix with @"; expr = zg.isValidSnapshotPrefix "a@b"; expected = false; }
    { name = "isValidSnapshotPrefix leading underscore"; expr = zg.isValidSnapshotPrefix "_x"; expected = false; }
    { name = "isValidSnapshotPrefix 65 characters"; expr = zg.isValidSnapshotPrefix (concatStringsSep "" (builtins.genList (_: "a") 65)); expected = false; }
    { name = "isValidName 65 characters"; expr = zg.isValidName (concatStringsSep "" (builtins.genList (_: "a") 65)); expected = false; }
    { name = "parseRemote host"; expr = zg.parseRemote "zfs-backup@optinix:NIXROOT/home"; expected = { user = "zfs-backup"; host = "optinix"; dataset = "NIXROOT/home"; }; }
    { name = "parseRemote ipv6"; expr = zg.parseRemote "u@[2001:db8::7]:tank/my data"; expected = { user = "u"; host = "[2001:db8::7]"; dataset = "tank/my data"; }; }
    { name = "remoteProblem no user"; expr = zg.remoteProblem "optinix:NIXROOT/home"; expected = "is not of the form \"user@host:pool/dataset\""; }
    { name = "remoteProblem bad dataset"; expr = zg.remoteProblem "u@h:tank/a@b"; expected = "names dataset \"tank/a@b\", which names a snapshot or bookmark; give the dataset"; }

    # Quoting.
    { name = "escapeShellArg safe"; expr = zg.escapeShellArg "tank/data"; expected = "tank/data"; }
    { name = "escapeShellArg space"; expr = zg.escapeShellArg "tank/my data"; expected = "'tank/my data'"; }
    { name = "escapeShellArg quote"; expr = zg.escapeShellArg "it's"; expected = "'it'\\''s'"; }
    { name = "escapeShellArg empty"; expr = zg.escapeShellArg ""; expected = "''"; }
    { name = "tomlString escapes"; expr = zg.tomlString "a\"b\\c\nd"; expected = "\"a\\\"b\\\\c\\nd\""; }
    { name = "escapeUnitName"; expr = zg.escapeUnitName "b/my data"; expected = "b-my-data"; }

    # The permission table.
    {
      name = "every preset permission has a place in permissionOrder";
      expr = all (p: elem p zg.permissionOrder)
        (concatLists (map (n: zg.presetPermissions.${n}.base ++ zg.presetPermissions.${n}.destroy) zg.presets));
      expected = true;
    }
    { name = "syncoid-pull without destroy"; expr = zg.sourcePermissions "syncoid-pull" false; expected = [ "send" "snapshot" "hold" "release" "bookmark" ]; }
    { name = "syncoid-pull with destroy"; expr = zg.sourcePermissions "syncoid-pull" true; expected = [ "send" "snapshot" "hold" "release" "bookmark" "destroy" "mount" ]; }
    { name = "puller with destroy"; expr = zg.sourcePermissions "puller" true; expected = [ "send" "hold" "release" "snapshot" "bookmark" "destroy" "mount" ]; }
    { name = "read-only ignores allowDestroy"; expr = zg.sourcePermissions "read-only" true; expected = [ "send" "hold" "release" ]; }
    {
      name = "receivePermissions: every property zfs-puller's receive sets or excludes";
      expr = zg.receivePermissions false;
      expected = [ "create" "mount" "receive" "mountpoint" "canmount" "readonly" "setuid" "exec" "devices" "sharenfs" "sharesmb" "volmode" ];
    }
    { name = "receivePermissions raw adds change-key"; expr = zg.receivePermissions true; expected = zg.receivePermissions false ++ [ "change-key" ]; }
    { name = "receivePermissions never destroy (granted on a parent)"; expr = elem "destroy" (zg.receivePermissions true); expected = false; }
    { name = "targetPermissions adds userprop (the received marker) and destroy for keepTarget"; expr = zg.targetPermissions { raw = false; keepTarget = 30; }; expected = zg.receivePermissions false ++ [ "userprop" "destroy" ]; }
    { name = "targetPermissions keepTarget 0: no destroy"; expr = zg.targetPermissions { raw = true; keepTarget = 0; }; expected = zg.receivePermissions true ++ [ "userprop" ]; }
    { name = "receivePermissions no userprop (granted on a parent, it would reach other jobs' markers)"; expr = elem "userprop" (zg.receivePermissions true); expected = false; }
    {
      name = "targetGrant: the full set on the target, the receive set on its parent";
      expr = zg.targetGrant { zfs = "/z"; user = "u"; job = { target = "b/x"; raw = false; keepTarget = 1; }; };
      expected = { zfs = "/z"; user = "u"; dataset = "b/x"; permissions = zg.receivePermissions false ++ [ "userprop" "destroy" ]; parentPermissions = zg.receivePermissions false; };
    }
    {
      name = "sharedPublicKeys: the same key (another comment) in two identities";
      expr = zg.sharedPublicKeys { a.publicKeys = [ ed25519 ]; b.publicKeys = [ "ssh-ed25519 ${ed25519Blob} other" "ssh-rsa ${rsaBlob}" ]; };
      expected = [ "ssh-ed25519 ...9GtMhA2CnEv3FWfM in a, b" ];
    }
    { name = "sharedPublicKeys: distinct keys"; expr = zg.sharedPublicKeys { a.publicKeys = [ ed25519 ]; b.publicKeys = [ "ssh-rsa ${rsaBlob}" ]; }; expected = [ ]; }
    { name = "mbufferSizeProblem 16M"; expr = zg.mbufferSizeProblem "16M"; expected = null; }
    { name = "mbufferSizeProblem 16G (the most)"; expr = zg.mbufferSizeProblem "16G"; expected = null; }
    { name = "mbufferSizeProblem 17179869184 bytes"; expr = zg.mbufferSizeProblem "17179869184"; expected = null; }
    { name = "mbufferSizeProblem 17G"; expr = zg.mbufferSizeProblem "17G"; expected = "is above 16G, the most the gatekeeper accepts"; }
    { name = "mbufferSizeProblem 16385M"; expr = zg.mbufferSizeProblem "16385M"; expected = "is above 16G, the most the gatekeeper accepts"; }
    { name = "mbufferSizeProblem huge number"; expr = zg.mbufferSizeProblem "99999999999999999999k"; expected = "is above 16G, the most the gatekeeper accepts"; }
    { name = "mbufferSizeProblem unit T"; expr = zg.mbufferSizeProblem "1T"; expected = "is not a size such as \"16M\" or \"1G\""; }
    { name = "mbufferSizeProblem zero"; expr = zg.mbufferSizeProblem "0M"; expected = "is not a size such as \"16M\" or \"1G\""; }
    { name = "mbufferSizeProblem leading zeros (as the loader)"; expr = zg.mbufferSizeProblem "0016M"; expected = null; }
    { name = "mbufferBytes 128M"; expr = zg.mbufferBytes "128M"; expected = 134217728; }
    { name = "mbufferBytes 16G"; expr = zg.mbufferBytes "16G"; expected = 17179869184; }
    { name = "mbufferBytes 1k"; expr = zg.mbufferBytes "1k"; expected = 1024; }
    { name = "mbufferBytes above 16G"; expr = zg.mbufferBytes "16385M"; expected = null; }

    # syncoid on the backup host.
    { name = "syncoidOption --name=value"; expr = zg.syncoidOption "identifier" [ "--identifier=site2" ]; expected = "site2"; }
    { name = "syncoidOption --name value"; expr = zg.syncoidOption "identifier" [ "-r" "--identifier" "site2" ]; expected = "site2"; }
    { name = "syncoidOption the last one wins"; expr = zg.syncoidOption "mbuffer-size" [ "--mbuffer-size=1G" "--mbuffer-size" "64M" ]; expected = "64M"; }
    { name = "syncoidOption absent"; expr = zg.syncoidOption "identifier" [ "--mbuffer-size=1G" "--no-sync-snap" ]; expected = null; }
    { name = "syncoidOption a trailing name without value"; expr = zg.syncoidOption "identifier" [ "--identifier" ]; expected = null; }
    { name = "syncoidOption another option with the same start"; expr = zg.syncoidOption "identifier" [ "--identifier-x=1" ]; expected = null; }
    { name = "syncoidSnapshotPrefix host"; expr = zg.syncoidSnapshotPrefix { host = "backup"; args = [ ]; }; expected = "syncoid_backup_"; }
    { name = "syncoidSnapshotPrefix host and identifier"; expr = zg.syncoidSnapshotPrefix { host = "vm"; args = [ "--identifier=offsite.1:a-b" ]; }; expected = "syncoid_offsite.1:a-b_vm_"; }
    { name = "syncoidMbufferSize default"; expr = zg.syncoidMbufferSize [ ]; expected = "16M"; }
    { name = "syncoidMbufferSize from the options"; expr = zg.syncoidMbufferSize [ "--mbuffer-size=128M" ]; expected = "128M"; }
    { name = "defaultSnapshotPrefix puller"; expr = zg.defaultSnapshotPrefix { preset = "puller"; backupHost = "backup"; syncoidArgs = [ ]; }; expected = "zfs-puller_"; }
    { name = "defaultSnapshotPrefix syncoid without host"; expr = zg.defaultSnapshotPrefix { preset = "syncoid-pull"; backupHost = null; syncoidArgs = [ ]; }; expected = "syncoid_"; }
    { name = "defaultSnapshotPrefix read-only with host"; expr = zg.defaultSnapshotPrefix { preset = "read-only"; backupHost = "b"; syncoidArgs = [ "--identifier" "x" ]; }; expected = "syncoid_x_b_"; }
    { name = "datasetsOverlap equal"; expr = zg.datasetsOverlap "tank/data" "tank/data"; expected = true; }
    { name = "datasetsOverlap below"; expr = zg.datasetsOverlap "tank/data/child" "tank"; expected = true; }
    { name = "datasetsOverlap component-wise"; expr = zg.datasetsOverlap "tank/data" "tank/database"; expected = false; }
    {
      name = "prefixConflicts: nested prefixes on nested datasets, each pair once";
      expr = zg.prefixConflicts {
        a = { datasets = [ "tank" "other" ]; snapshotPrefix = "syncoid_"; };
        b = { datasets = [ "tank/x" ]; snapshotPrefix = "syncoid_b_"; };
        c = { datasets = [ "tank/x" ]; snapshotPrefix = "syncoid_c_"; };
        d = { datasets = [ "tankx" ]; snapshotPrefix = "syncoid_"; };
      };
      expected = [ { a = "a"; b = "b"; datasets = [ "tank" ]; } { a = "a"; b = "c"; datasets = [ "tank" ]; } ];
    }
    {
      name = "prefixConflicts: per-host prefixes on one dataset do not conflict";
      expr = zg.prefixConflicts {
        a = { datasets = [ "tank" ]; snapshotPrefix = "syncoid_a_"; };
        b = { datasets = [ "tank" ]; snapshotPrefix = "syncoid_ab_"; };
        c = { datasets = [ "tank" ]; snapshotPrefix = "zfs-puller_"; };
      };
      expected = [ ];
    }
    {
      name = "defaultPackage: pkgs.zfs-gatekeeper when the overlay provides it";
      expr = zg.defaultPackage { zfs-gatekeeper = "pkg"; } "opt";
      expected = "pkg";
    }
    {
      name = "defaultPackage: a message naming the option, the flake module and the overlay";
      expr = (builtins.tryEval (zg.defaultPackage { } "services.x.package")).success;
      expected = false;
    }
    {
      name = "sourceGrants: union per dataset, sorted by dataset";
      expr = zg.sourceGrants "u" {
        a = identity "read-only" false [ "tank/b" "tank/a" ];
        b = identity "syncoid-pull" true [ "tank/a" ];
      };
      expected = [
        { user = "u"; dataset = "tank/a"; permissions = [ "send" "snapshot" "hold" "release" "bookmark" "destroy" "mount" ]; }
        { user = "u"; dataset = "tank/b"; permissions = [ "send" "hold" "release" ]; }
      ];
    }
    { name = "sourceGrants: no identities"; expr = zg.sourceGrants "u" { }; expected = [ ]; }
    {
      # What `zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off
      # -o devices=off -x mountpoint` of a new child needs (restore-01-gatekeeper.sh).
      name = "restoreGrant: receive, create, mount and the properties the restore receive sets";
      expr = zg.restoreGrant "u" "tank/restore";
      expected = {
        user = "u";
        dataset = "tank/restore";
        permissions = [ "receive" "create" "mount" "readonly" "canmount" "setuid" "exec" "devices" "mountpoint" ];
      };
    }

    # Rendering details.
    {
      name = "authorizedKeyLine";
      expr = zg.authorizedKeyLine { gatekeeper = "/gk"; policyFile = "/p.toml"; identity = "id"; key = ed25519; };
      expected = "restrict,command=\"/gk --policy /p.toml --identity id\" ${ed25519}";
    }
    {
      name = "policyPrograms: zfs, zpool and the union of tools";
      expr = zg.policyPrograms {
        zfs = "/z";
        zpool = "/zp";
        programPath = t: "/bin/${t}";
        identities = { a.tools = [ "zstdmt" "mbuffer" ]; b.tools = [ "mbuffer" ]; };
      };
      expected = { zfs = "/z"; zpool = "/zp"; zstdmt = "/bin/zstdmt"; mbuffer = "/bin/mbuffer"; };
    }
    {
      name = "allowScript with no grants still writes an empty state";
      expr = builtins.match ".*wanted=''.*: > \"\\$state\".*" (zg.allowScript { zfs = "/z"; stateFile = "/s"; grants = [ ]; }) != null;
      expected = true;
    }
    {
      name = "targetAllowScript at a pool root has no parent fallback";
      expr = builtins.match ".*else.*" (zg.targetAllowScript { zfs = "/z"; user = "u"; permissions = [ "receive" ]; parentPermissions = [ "receive" ]; dataset = "b"; }) == null;
      expected = true;
    }
  ];

  check = row:
    let ok = row.expr == row.expected; in
    if ok then "PASS ${row.name}"
    else "FAIL ${row.name}: expected ${toJSON row.expected}, got ${toJSON row.expr}";
in
concatStringsSep "\n" (map check rows) + "\n"

# NixOS VM test, two nodes, real ZFS: the target pulls tank/data from the source through the
# gatekeeper (upstream syncoid and zfs-puller), full then incremental; checks the `zfs allow`
# delegation, refuses hostile commands and keeps the data intact; the audit report finds them.
# Run where Nix and KVM are available: `nix flake check` or
# `nix build .#checks.x86_64-linux.vm -L`. CI cannot run it; tests/run only checks that it
# parses and that its node configurations evaluate against the module.
{ pkgs, self, sshKeys ? import (pkgs.path + "/nixos/tests/ssh-keys.nix") pkgs }:

let
  package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
  gatekeeper = "${package}/bin/zfs-gatekeeper";

  zfsNode = hostId: {
    _file = "vm.nix#zfs-node";
    # /dev/vdb: an empty disk for the pool.
    virtualisation.emptyDiskImages = [ 2048 ];
    boot.supportedFilesystems = [ "zfs" ];
    networking.hostId = hostId;
  };

  # Only options of our module and the stubbed upstream ones here, so that tests/run can
  # evaluate these two blocks with its stubs (it finds them by _file).
  sourceConfig = {
    _file = "vm.nix#source-config";
    services.openssh.enable = true;
    services.zfs-gatekeeper = {
      enable = true;
      user = "backup";
      # Records in the journal only; the report reads them there. Started by the test script.
      auditReport = {
        enable = true;
        startAt = "*-01-01 00:00:00";
        onDenial = "cat > /run/zfs-gatekeeper-denials.txt";
      };
      identities.syncoid = {
        publicKeys = [ sshKeys.snakeOilEd25519PublicKey ];
        datasets = [ "tank/data" ];
        preset = "syncoid-pull";
        # The node that runs syncoid: snapshotPrefix syncoid_target_.
        backupHost = "target";
        # syncoid runs with --no-sync-snap: it never destroys, so this key may not either.
        allowDestroy = false;
        tools = [ "lzop" "mbuffer" ];
      };
      identities.puller = {
        publicKeys = [ sshKeys.snakeOilPublicKey ];
        datasets = [ "tank/data" ];
        preset = "puller";
        snapshotPrefix = "zfs-puller_";
        allowDestroy = false;
        tools = [ ];
      };
    };
  };

  targetConfig = {
    _file = "vm.nix#target-config";
    # Host key checking stays on: the source's (fixed, test-only) host key is known.
    programs.ssh.knownHosts.source = {
      hostNames = [ "source" ];
      publicKey = sshKeys.snakeOilEd25519PublicKey;
    };
    services.syncoid = {
      enable = true;
      sshKey = "/var/lib/syncoid/id_ed25519";
      commands.pull-data = {
        source = "backup@source:tank/data";
        target = "b/data";
        extraArgs = [ "--no-sync-snap" ];
      };
    };
    services.sanoid = {
      enable = true;
      templates.backup = {
        daily = 14;
        monthly = 12;
        autosnap = false;
        autoprune = true;
      };
      datasets."b/data".use_template = [ "backup" ];
    };
    services.zfs-puller = {
      enable = true;
      jobs.data = {
        source = "backup@source:tank/data";
        target = "b/puller-data";
        sshKey = "/var/lib/zfs-puller/id_ecdsa";
        # Started by the test script, not by the timer. No retention: sanoid is run on b/data
        # above.
        startAt = "*-01-01 00:00:00";
        # The identity "puller" may not destroy: the puller keeps every sync snapshot there.
        keepSource = 0;
      };
    };
  };
in
pkgs.testers.runNixOSTest {
  name = "zfs-gatekeeper";

  nodes = {
    source = {
      imports = [
        self.nixosModules.default
        (zfsNode "8425e349")
        sourceConfig
        {
          # A fixed host key, so the target can check it.
          services.openssh.hostKeys = [{ type = "ed25519"; path = "/etc/ssh/ssh_host_ed25519_key"; }];
          environment.etc."ssh/ssh_host_ed25519_key" = {
            mode = "0600";
            source = sshKeys.snakeOilEd25519PrivateKey;
          };
        }
      ];
    };

    target = {
      imports = [
        self.nixosModules.default
        (zfsNode "6f1c0a2b")
        targetConfig
      ];
    };
  };

  testScript = ''
    import re
    import shlex

    ssh = "ssh -i /var/lib/syncoid/id_ed25519 -o BatchMode=yes -o ConnectTimeout=10 backup@source"


    def perms(machine, dataset, user):
        out = machine.succeed(f"zfs allow {shlex.quote(dataset)}")
        m = re.search(rf"user {user} (\S+)", out)
        return set(m.group(1).split(",")) if m else set()


    def guid(machine, snapshot):
        return machine.succeed(f"zfs get -H -o value guid {shlex.quote(snapshot)}").strip()


    start_all()
    source.wait_for_unit("multi-user.target")
    target.wait_for_unit("multi-user.target")
    source.wait_for_open_port(22)

    with subtest("pools and data"):
        source.succeed(
            "zpool create -O mountpoint=none tank /dev/vdb",
            "zfs create -o mountpoint=/tank/data tank/data",
            "echo first > /tank/data/file1",
            "zfs snapshot tank/data@s1",
            "zfs create tank/other",
            "zfs snapshot tank/other@o1",
        )
        target.succeed("zpool create -O mountpoint=none b /dev/vdb")

    with subtest("zfs allow on the source: exactly the presets' permissions, idempotent"):
        # The boot-time run found no pool yet; a real host has its pools at boot.
        source.succeed("systemctl restart zfs-gatekeeper-allow.service")
        wanted = {"bookmark", "hold", "release", "send", "snapshot"}
        assert perms(source, "tank/data", "backup") == wanted, perms(source, "tank/data", "backup")
        # A permission granted by hand is taken back by the next run.
        source.succeed("zfs allow -u backup rename,destroy tank/data")
        source.succeed("systemctl restart zfs-gatekeeper-allow.service")
        assert perms(source, "tank/data", "backup") == wanted, perms(source, "tank/data", "backup")
        source.succeed("systemctl restart zfs-gatekeeper-allow.service")
        assert perms(source, "tank/data", "backup") == wanted
        assert perms(source, "tank/other", "backup") == set()

    with subtest("policy file, authorized_keys and login shell on the source"):
        source.succeed("test -f /etc/zfs-gatekeeper/policy.toml -a ! -L /etc/zfs-gatekeeper/policy.toml")
        assert source.succeed("stat -c '%U %a' /etc/zfs-gatekeeper/policy.toml").strip() == "root 444"
        source.succeed("${gatekeeper} --policy /etc/zfs-gatekeeper/policy.toml --check")
        keys = source.succeed("cat /etc/ssh/authorized_keys.d/backup")
        for identity in ("syncoid", "puller"):
            line = f'restrict,command="${gatekeeper} --policy /etc/zfs-gatekeeper/policy.toml --identity {identity}" '
            assert line in keys, keys
        assert source.succeed("getent passwd backup").strip().endswith(":${gatekeeper}")

    with subtest("target: syncoid's key"):
        target.succeed(
            "install -d -m 700 -o syncoid -g syncoid /var/lib/syncoid",
            "install -m 600 -o syncoid -g syncoid ${sshKeys.snakeOilEd25519PrivateKey} /var/lib/syncoid/id_ed25519",
        )

    with subtest("full pull through the gatekeeper"):
        target.succeed("systemctl start --wait syncoid-pull-data.service")
        assert guid(source, "tank/data@s1") == guid(target, "b/data@s1")

    with subtest("incremental pull through the gatekeeper"):
        source.succeed("echo second > /tank/data/file2", "zfs snapshot tank/data@s2")
        target.succeed("systemctl start --wait syncoid-pull-data.service")
        assert guid(source, "tank/data@s2") == guid(target, "b/data@s2")

    with subtest("the target's delegation is taken back after each run"):
        assert "syncoid" not in target.succeed("zfs allow b; zfs allow b/data")

    with subtest("sanoid on the target prunes but never snapshots received data"):
        before = target.succeed("zfs list -H -t snapshot -o name -r b/data")
        target.succeed("systemctl start --wait sanoid.service")
        assert target.succeed("zfs list -H -t snapshot -o name -r b/data") == before

    with subtest("hostile commands are refused"):
        for command in [
            "zfs destroy 'tank/data'@s1",
            "zfs destroy -r tank/data",
            "zfs snapshot 'tank/data'@evil",
            "zfs send 'tank/other'@o1",
            "zfs rename tank/data tank/stolen",
            "zfs get -H syncoid:sync 'tank/data'; id",
            "zfs get -H syncoid:sync 'tank/data' && id",
            "zfs send 'tank/data'@s1 | sh",
            "sh -c id",
            "/bin/sh",
            "cat /etc/shadow",
        ]:
            target.fail(f"{ssh} {shlex.quote(command)} < /dev/null")
        # No command: no shell either.
        target.fail(f"{ssh} < /dev/null")
        # Port forwarding (direct-tcpip and remote) is refused by `restrict`.
        target.fail(f"{ssh} -W localhost:22 < /dev/null")
        target.fail(f"timeout 30 {ssh} -o ExitOnForwardFailure=yes -N -R 2222:localhost:22 < /dev/null")
        # No PTY, even for an allowed command.
        allowed = shlex.quote("zfs get -H syncoid:sync 'tank/data'")
        out = target.succeed(f"{ssh} -tt {allowed} 2>&1 < /dev/null")
        assert "PTY allocation request failed" in out, out

    with subtest("the audit report finds the refused commands and hands them to the hook"):
        # Exit 1 (denials) fails the unit; OnFailure= starts the hook with the report.
        source.fail("systemctl start zfs-gatekeeper-audit-report.service")
        assert source.succeed("systemctl show -P ExecMainStatus zfs-gatekeeper-audit-report.service").strip() == "1"
        source.wait_until_succeeds("test -s /run/zfs-gatekeeper-denials.txt")
        report = source.succeed("cat /run/zfs-gatekeeper-denials.txt")
        assert "zfs rename tank/data tank/stolen" in report, report
        assert "syncoid" in report, report
        # The next window starts where that one did: nothing new, the unit succeeds.
        source.succeed("systemctl start zfs-gatekeeper-audit-report.service")

    with subtest("the source's data and snapshots are intact"):
        source.succeed(
            "zfs list tank/data@s1 tank/data@s2 tank/other@o1",
            "grep -qx first /tank/data/file1",
            "grep -qx second /tank/data/file2",
        )
        assert "stolen" not in source.succeed("zfs list -H -o name")

    with subtest("zfs-puller (preset puller) pulls through the gatekeeper"):
        target.succeed(
            "install -d -m 700 -o zfs-puller -g zfs-puller /var/lib/zfs-puller",
            "install -m 600 -o zfs-puller -g zfs-puller ${sshKeys.snakeOilPrivateKey} /var/lib/zfs-puller/id_ecdsa",
        )
        target.succeed("systemctl start --wait zfs-puller-data.service")
        assert guid(source, "tank/data@s2") == guid(target, "b/puller-data@s2")
        for prop, value in [("readonly", "on"), ("canmount", "noauto"), ("setuid", "off"), ("exec", "off"), ("devices", "off")]:
            got = target.succeed(f"zfs get -H -o value {prop} b/puller-data").strip()
            assert got == value, f"{prop}={got}"
        assert "zfs-puller" not in target.succeed("zfs allow b; zfs allow b/puller-data")
        # The incremental run, now that the target exists.
        source.succeed("echo third > /tank/data/file3", "zfs snapshot tank/data@s3")
        target.succeed("systemctl start --wait zfs-puller-data.service")
        assert guid(source, "tank/data@s3") == guid(target, "b/puller-data@s3")
        assert "zfs-puller" not in target.succeed("zfs allow b; zfs allow b/puller-data")

    with subtest("the backup holds the data"):
        target.succeed(
            "zfs set mountpoint=/mnt/data b/data",
            "zfs mount -a",
            "grep -qx first /mnt/data/file1",
            "grep -qx second /mnt/data/file2",
        )
  '';
}

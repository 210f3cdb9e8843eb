#!/bin/bash
# The README demo's real pull, on any Linux host with OpenZFS (the e2e guest, or a host with zfs.ko):
#   two throwaway pools on sparse file vdevs, a throwaway unprivileged user with only the
#   `zfs allow` set the syncoid-pull preset needs, a private sshd (`sshd -i` as the ssh
#   ProxyCommand: no listening socket, the host's sshd and its config untouched) whose
#   authorized_keys line forces zfs-gatekeeper; then syncoid 2.1.0 pulls twice through it, the
#   audit records are shown, and a stolen-key injection attempt is denied.
# Everything lives under one temp dir and is removed at the end (pools destroyed, user deleted).
#
# Usage (root): demo-steps.sh PATH/TO/zfs-gatekeeper
# Started by tests/e2e/demo-guest, either in the guest or directly on a ZFS host.
set -euo pipefail
export LC_ALL=C TZ=UTC PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

GK_SRC=${1:?usage: demo-steps.sh PATH/TO/zfs-gatekeeper}
[ "$(id -u)" = 0 ] || { echo "demo-steps: run as root" >&2; exit 2; }
for c in zfs zpool syncoid /usr/sbin/sshd ssh ssh-keygen lzop mbuffer python3 useradd; do
  command -v "$c" >/dev/null || { echo "demo-steps: $c is missing" >&2; exit 2; }
done

T0=$SECONDS
say() { printf '\n\033[1m== %s\033[0m  [%ss]\n' "$*" "$((SECONDS - T0))"; }
run() { printf '$ %s\n' "$*"; "$@"; }

# Names unlikely to clash with anything on a real host.
TAG=zgdemo$$
SRC=${TAG}src DST=${TAG}dst USER_=zgdemo
W=$(mktemp -d /run/zgdemo.XXXXXX)          # /run: root-owned path, as sshd's StrictModes wants
VD=$(mktemp -d /var/tmp/zgdemo-vdev.XXXXXX)
created_user=
cleanup() {
  set +e
  for p in "$DST" "$SRC"; do zpool list -H "$p" >/dev/null 2>&1 && zpool destroy -f "$p"; done
  [ -n "$created_user" ] && userdel "$USER_" 2>/dev/null
  rm -rf "$W" "$VD"
}
trap cleanup EXIT
chmod 0755 "$W"

say "pools $SRC and $DST on sparse file vdevs"
truncate -s 512M "$VD/src.img" "$VD/dst.img"
zpool create -f -O mountpoint="$W/mnt/src" "$SRC" "$VD/src.img"
zpool create -f -O mountpoint="$W/mnt/dst" "$DST" "$VD/dst.img"
zfs create "$SRC/data"
head -c 8M /dev/urandom >"$W/mnt/src/data/photos.bin"
printf 'important document\n' >"$W/mnt/src/data/notes.txt"
run zfs snapshot "$SRC/data@daily-1"

say "the source side: an unprivileged user, a policy, a forced command"
if ! id "$USER_" >/dev/null 2>&1; then
  useradd --home-dir "$W/home" --no-create-home --shell /bin/sh "$USER_"
  usermod -p '*' "$USER_"                 # not locked: sshd (without PAM) refuses locked accounts
  created_user=1
fi
install -d -o "$USER_" -g "$USER_" -m 0700 "$W/home"
run zfs allow -u "$USER_" send,snapshot,destroy,mount,bookmark,hold,release "$SRC"
install -d -o root -g root -m 0755 "$W/bin" "$W/ssh"
install -o root -g root -m 0755 "$GK_SRC" "$W/bin/zfs-gatekeeper"
install -d -o "$USER_" -g "$USER_" -m 0700 "$W/audit"
cat >"$W/policy.toml" <<EOF
[programs]
zfs = "$(command -v zfs)"
zpool = "$(command -v zpool)"
lzop = "$(command -v lzop)"
mbuffer = "$(command -v mbuffer)"

[audit]
file = "$W/audit/audit.jsonl"

[identity.backup-host]
datasets = ["$SRC/data"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
tools = ["lzop", "mbuffer"]
EOF
chmod 0644 "$W/policy.toml"
"$W/bin/zfs-gatekeeper" --policy "$W/policy.toml" --check
sed 's/^/    /' "$W/policy.toml"

ssh-keygen -q -t ed25519 -N '' -C zgdemo-backup-key -f "$W/ssh/id_backup"
ssh-keygen -q -t ed25519 -N '' -C zgdemo-host -f "$W/ssh/host_ed25519"
printf 'restrict,command="%s --policy %s --identity backup-host" %s\n' \
  "$W/bin/zfs-gatekeeper" "$W/policy.toml" "$(cat "$W/ssh/id_backup.pub")" >"$W/ssh/authorized_keys"
echo "    authorized_keys: $(cut -c1-150 "$W/ssh/authorized_keys")..."
printf 'zg-demo %s\n' "$(cut -d' ' -f1,2 "$W/ssh/host_ed25519.pub")" >"$W/ssh/known_hosts"
cat >"$W/ssh/sshd_config" <<EOF
HostKey $W/ssh/host_ed25519
AuthorizedKeysFile $W/ssh/authorized_keys
AllowUsers $USER_
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin no
PidFile none
LogLevel ERROR
EOF
mkdir -p /run/sshd
printf '#!/bin/sh\nexec /usr/sbin/sshd -i -f %s\n' "$W/ssh/sshd_config" >"$W/ssh/proxy"
chmod 0755 "$W/ssh/proxy"
# Host key checking stays on: known_hosts holds the private sshd's real key. curve25519-sha256:
# OpenSSH's default post-quantum hybrid key exchange costs about 2 s per connection in the
# emulated guest.
SSHOPTS=(ProxyCommand="$W/ssh/proxy" UserKnownHostsFile="$W/ssh/known_hosts" GlobalKnownHostsFile=/dev/null
         StrictHostKeyChecking=yes IdentitiesOnly=yes BatchMode=yes KexAlgorithms=curve25519-sha256)
SYNCOID_SSH=(--sshkey "$W/ssh/id_backup")
for o in "${SSHOPTS[@]}"; do SYNCOID_SSH+=(--sshoption="$o"); done
ssh_backup() { local a=() o; for o in "${SSHOPTS[@]}"; do a+=(-o "$o"); done; ssh "${a[@]}" -i "$W/ssh/id_backup" "$USER_@zg-demo" "$@"; }

tree_sum() { (cd "$1" && find . -xdev -path ./.zfs -prune -o -type f -print0 | sort -z | xargs -0r sha256sum); }
compare() {
  echo "    source snapshots: $(zfs list -H -t snapshot -o name -s createtxg "$SRC/data" | sed 's/.*@//' | tr '\n' ' ')"
  echo "    target snapshots: $(zfs list -H -t snapshot -o name -s createtxg "$DST/data" | sed 's/.*@//' | tr '\n' ' ')"
  if [ "$(tree_sum "$W/mnt/src/data")" = "$(tree_sum "$W/mnt/dst/data")" ]; then
    echo "    contents: $(tree_sum "$W/mnt/src/data" | wc -l) files, sha256 equal on both sides"
  else
    echo "    contents DIFFER"; return 1
  fi
}

say "full pull: syncoid $USER_@zg-demo:$SRC/data $DST/data (through the gatekeeper)"
run syncoid "${SYNCOID_SSH[@]}" --no-privilege-elevation "$USER_@zg-demo:$SRC/data" "$DST/data"
compare

say "incremental pull"
printf 'written after the first pull\n' >"$W/mnt/src/data/later.txt"
run zfs snapshot "$SRC/data@daily-2"
sleep 1
run syncoid "${SYNCOID_SSH[@]}" --no-privilege-elevation "$USER_@zg-demo:$SRC/data" "$DST/data"
compare

say "the audit log of these two pulls ($W/audit/audit.jsonl, one JSON object per line)"
python3 - "$W/audit/audit.jsonl" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
for r in recs:
    t = r["time"][11:23]
    if r["event"] == "decision":
        print("  %s %s %-22s %s" % (t, r["decision"].upper(), r.get("rule", ""), r["command"][:110]))
    else:
        st = " | ".join("%s:%s" % (s["program"].rsplit("/", 1)[-1], s.get("exit_code", "signal %s" % s.get("signal"))) for s in r["stages"])
        print("  %s   -> exit %s%s" % (t, r["exit_status"], ("  [" + st + "]") if st else "  (answered by the gatekeeper)"))
last = [r for r in recs if r["event"] == "outcome" and len(r["stages"]) > 1][-1]
print("\n  sandbox of every started program: %s" % json.dumps(last["sandbox"]))
print("  %d records: %d allowed sessions, %d outcomes" % (len(recs), sum(1 for r in recs if r.get("decision") == "allow"), sum(1 for r in recs if r["event"] == "outcome")))
PY

say "a thief with the backup key tries an injection"
printf "$ ssh -i backup-key %s@zg-demo 'zfs list; rm -rf /'\n" "$USER_"
set +e
ssh_backup 'zfs list; rm -rf /'
rc=$?
set -e
echo "    exit status $rc (126 = denied); nothing ran. The audit record:"
tail -n 1 "$W/audit/audit.jsonl" | python3 -c 'import json,sys; print("\n".join("    " + l for l in json.dumps(json.load(sys.stdin), indent=2).splitlines()))'
zfs list -H -t snapshot -o name "$SRC/data" >/dev/null
[ "$rc" = 126 ] || { echo "demo: expected exit 126"; exit 1; }

say "done in $((SECONDS - T0))s; cleaning up (pools destroyed, user removed)"

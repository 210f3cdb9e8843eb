# shellcheck shell=bash
# Shared guest-side helpers for tests/e2e/scenarios/syncoid-*.sh (sourced, bash; runs as root in
# the e2e guest). Each scenario sources this file, calls zg_setup (idempotent: the first scenario
# of a boot does the work, later ones only check it), creates and removes its own datasets, and
# ends with zg_finish.
#
# Output: `PASS <scenario>:<check>` / `FAIL <scenario>:<check>: why` lines (tests/e2e/run counts
# them), `# <scenario>: ...` notes, and `TIME <scenario> <seconds>` at the end.
#
# The fixture (what zg_setup builds):
#   pools      src and dst on 1 GiB sparse file vdevs in /var/tmp/vdev (mountpoints /src, /dst)
#   user       zbackup (no password, no sudo: sudo is not even installed), shell /bin/sh, with
#              `zfs allow -u zbackup $ZG_ALLOW src` and nothing else
#   binary     /usr/local/bin/zfs-gatekeeper (root:root 0755, copied from the 9p share, which
#              zbackup cannot traverse)
#   policy     /etc/zfs-gatekeeper/policy.toml (root:root 0644), identities below
#   audit      /var/log/zfs-gatekeeper/ (zbackup:zbackup 0700); the gatekeeper creates
#              audit.jsonl itself (mode 0600)
#   ssh        one ed25519 key per identity, /root/.ssh/zg_<identity>; ~zbackup/.ssh/
#              authorized_keys has `restrict,command="... --identity <identity>"` per key;
#              /root/.ssh/known_hosts holds the guest's own host keys (read from
#              /etc/ssh/ssh_host_*.pub: no trust on first use) and host key checking stays on.
#
# The minimal `zfs allow` set for the syncoid-pull preset (syncoid-00-zfs-allow.sh shows each
# member necessary and the set sufficient on OpenZFS 2.1.11; its ZG_E2E_ALLOW_MATRIX=1 prints the table):
#   send       every zfs send (full, -i from a bookmark, -I, -w, -t). Note: without it
#              `zfs send -I` prints "warning: cannot send ...: permission denied" but exits 0
#              after writing only the stream header.
#   hold       also for plain syncoid 2.1.0: `zfs send -I` (and -R) takes temporary user holds
#              on the snapshots it sends, so incremental pulls fail with "cannot hold:
#              permission denied" without it; plus syncoid 2.2.0+ --use-hold
#   snapshot   the sync snapshot (no `mount` needed, unlike what zfs-allow(8) suggests)
#   destroy    pruning old sync snapshots
#   mount      only because destroy needs it (zfs_secpolicy_destroy_perms checks it first)
#   bookmark   --create-bookmark
#   release    only syncoid 2.2.0+ --use-hold; kept for the preset
# Not needed: userprop (reading syncoid:sync needs nothing), and nothing for zpool get, zfs get,
# zfs list or the `zfs send -nvP` estimates (all reads).
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export LC_ALL=C TZ=UTC

SCENARIO=${SCENARIO:-$(basename "${BASH_SOURCE[1]:-$0}" .sh)}
export SCENARIO
ZG_BIN=${ZG_BIN:-/share/bin}
ZG_RESULTS=${ZG_RESULTS:-/share/results}
ZG_SCENARIO_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
GK=/usr/local/bin/zfs-gatekeeper
POLICY=/etc/zfs-gatekeeper/policy.toml
AUDIT_DIR=/var/log/zfs-gatekeeper
AUDIT=$AUDIT_DIR/audit.jsonl
SRC_USER=zbackup
SRC_HOME=/home/$SRC_USER
VDEV=/var/tmp/vdev
ZG_WORK=/run/zg-e2e            # guest tmpfs: helper scripts, per-scenario scratch
HOSTNAME_=$(hostname)
ZG_ALLOW=${ZG_ALLOW:-send,snapshot,destroy,mount,bookmark,hold,release}
# Identities in the policy; each gets its own key.
ZG_IDENTITIES="backup raw corpus restore"
# A sync snapshot name that syncoid 2.1.0 on this host creates (no --identifier).
SYNC_RE="syncoid_${HOSTNAME_}_[0-9]{4}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}:[0-9]{2}-GMT-?[0-9]{2}:[0-9]{2}"

ZG_FAILS=0
ZG_T0=$SECONDS
LOGDIR=$ZG_RESULTS/$SCENARIO
mkdir -p "$LOGDIR" "$ZG_WORK/$SCENARIO" 2>/dev/null
SCRATCH=$ZG_WORK/$SCENARIO

# ---------------------------------------------------------------------------------------------
# Reporting

pass() { echo "PASS $SCENARIO:$1${2:+ ($2)}"; }
fail() { echo "FAIL $SCENARIO:$1: ${2:-failed}"; ZG_FAILS=$((ZG_FAILS + 1)); }
note() { echo "# $SCENARIO: $*"; }
# A step the rest of the scenario depends on: on failure, report and end the scenario.
need() {
  local name=$1; shift
  if "$@"; then return 0; fi
  fail "$name" "required step failed: $*"
  zg_finish
}
# check NAME CMD...: PASS if CMD exits 0.
check() {
  local name=$1; shift
  if "$@"; then pass "$name"; else fail "$name" "command failed: $*"; fi
}
assert_eq() {
  local name=$1 want=$2 got=$3
  if [ "$want" = "$got" ]; then pass "$name"; else fail "$name" "expected [$want], got [$got]"; fi
}
# elapsed TIMER_VAR: seconds since the value in TIMER_VAR.
zg_finish() {
  echo "TIME $SCENARIO $((SECONDS - ZG_T0))"
  [ "$ZG_FAILS" = 0 ]
  exit $?
}

# ---------------------------------------------------------------------------------------------
# Fixture

zg_install_binary() {
  local from=$ZG_BIN/zfs-gatekeeper
  [ -f "$from" ] || { echo "no $from" >&2; return 1; }
  if ! cmp -s "$from" "$GK"; then
    install -o root -g root -m 0755 "$from" "$GK" || return 1
  fi
}

zg_pools() {
  mkdir -p "$VDEV"
  local p
  for p in src dst; do
    zpool list -H "$p" >/dev/null 2>&1 && continue
    truncate -s 1G "$VDEV/$p.img" || return 1
    zpool create -f -o ashift=12 -O mountpoint=/$p -O compression=lz4 "$p" "$VDEV/$p.img" || return 1
  done
}

zg_user() {
  if ! id "$SRC_USER" >/dev/null 2>&1; then
    useradd -m -d "$SRC_HOME" -s /bin/sh "$SRC_USER" || return 1
  fi
  # The delegation is exactly ZG_ALLOW on src (local + descendants); `zfs allow` output is the
  # evidence in the results dir.
  zfs unallow -u "$SRC_USER" src 2>/dev/null
  zfs allow -u "$SRC_USER" "$ZG_ALLOW" src || return 1
  install -d -o "$SRC_USER" -g "$SRC_USER" -m 0700 "$AUDIT_DIR"
}

zg_policy() {
  install -d -o root -g root -m 0755 /etc/zfs-gatekeeper
  local tmp=/etc/zfs-gatekeeper/.policy.toml.new
  cat >"$tmp" <<'EOF'
# zfs-gatekeeper e2e policy (written by tests/e2e/scenarios/lib.sh)
[programs]
zfs = "/usr/sbin/zfs"
zpool = "/usr/sbin/zpool"
lzop = "/usr/bin/lzop"
mbuffer = "/usr/bin/mbuffer"
gzip = "/usr/bin/gzip"
pigz = "/usr/bin/pigz"
zstd = "/usr/bin/zstd"
zstdmt = "/usr/bin/zstdmt"
xz = "/usr/bin/xz"
lz4 = "/usr/bin/lz4"

[audit]
file = "/var/log/zfs-gatekeeper/audit.jsonl"
required = true

# The syncoid pulls of scenarios 01-03, 05, 06, 08, 09.
[identity.backup]
datasets = ["src/data", "src/data-npe", "src/tree", "src/bm", "src/resume", "src/prune", "src/audit", "src/sbx"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
tools = ["lzop", "mbuffer"]

# Scenario 04: the encrypted dataset, raw sends only.
[identity.raw]
datasets = ["src/enc"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
raw_only = true
tools = ["lzop", "mbuffer"]

# Scenario 07: the test identity tests/corpus/reject.txt assumes.
[identity.corpus]
datasets = ["tank/data", "tank/my data"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
raw_only = false
tools = ["lzop", "gzip", "pigz", "zstd", "zstdmt", "xz", "lz4", "mbuffer"]
mbuffer_max_memory = "1G"

# The restore scenarios: receives new children of src/restore, nothing else.
[identity.restore]
preset = "restore"
restore_root = "src/restore"
EOF
  chown root:root "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$POLICY" || return 1
  "$GK" --policy "$POLICY" --check >/dev/null
}

zg_ssh() {
  local d=/root/.ssh id keys=$SCRATCH/authorized_keys
  mkdir -p "$d"; chmod 0700 "$d"
  : >"$keys"
  for id in $ZG_IDENTITIES; do
    [ -f "$d/zg_$id" ] || ssh-keygen -q -t ed25519 -N '' -C "zg-e2e-$id" -f "$d/zg_$id" || return 1
    printf 'restrict,command="%s --policy %s --identity %s" %s\n' "$GK" "$POLICY" "$id" "$(cat "$d/zg_$id.pub")" >>"$keys"
  done
  install -d -o "$SRC_USER" -g "$SRC_USER" -m 0700 "$SRC_HOME/.ssh"
  install -o "$SRC_USER" -g "$SRC_USER" -m 0600 "$keys" "$SRC_HOME/.ssh/authorized_keys"
  # The image ships a convenience config that turns host key checking off for localhost; the
  # tests keep it on, with the guest's real host keys (not what a connection happens to offer).
  local f
  : >"$d/known_hosts.new"
  for f in /etc/ssh/ssh_host_*_key.pub; do
    printf 'localhost,127.0.0.1 %s\n' "$(cut -d' ' -f1,2 "$f")" >>"$d/known_hosts.new"
  done
  [ -s "$d/known_hosts.new" ] || return 1
  mv -f "$d/known_hosts.new" "$d/known_hosts"
  # KexAlgorithms: OpenSSH 9.2's default key exchange (the post-quantum sntrup761x25519 hybrid)
  # costs about 2 s of emulated CPU per connection here, 4 s instead of 2 for a full login;
  # every syncoid run and every direct session opens one. What the tests prove (what the
  # gatekeeper allows, runs and records) does not depend on the key exchange.
  cat >"$d/config" <<'EOF'
Host localhost 127.0.0.1
  KexAlgorithms curve25519-sha256
  StrictHostKeyChecking yes
  UserKnownHostsFile /root/.ssh/known_hosts
  GlobalKnownHostsFile /dev/null
  BatchMode yes
  IdentitiesOnly yes
  LogLevel ERROR
EOF
  chmod 0600 "$d/config"
}

zg_helpers() {
  # The audit analyser shared by the scenarios (python3 is in the guest image).
  cat >"$ZG_WORK/zgaudit.py" <<'PY'
"""Audit log helpers for the e2e scenarios: load records (from a line mark), pair sessions."""
import json, re, sys

AUDIT = "/var/log/zfs-gatekeeper/audit.jsonl"
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")

def lines(mark=0, path=AUDIT):
    try:
        with open(path, "rb") as f:
            data = f.read().split(b"\n")
    except FileNotFoundError:
        return []
    if data and data[-1] == b"":
        data.pop()
    return data[mark:]

def records(mark=0, path=AUDIT):
    """Parsed records after line `mark`; raises on a line that is not one JSON object."""
    out = []
    for i, raw in enumerate(lines(mark, path), start=mark + 1):
        rec = json.loads(raw.decode("utf-8"))
        if not isinstance(rec, dict):
            raise ValueError("line %d is not a JSON object" % i)
        rec["_line"] = i
        out.append(rec)
    return out

def sessions(recs):
    """Pairs each decision with its outcome (same pid, next record of that pid).
    Returns (sessions, problems); a session is [decision, outcome-or-None]."""
    open_by_pid, done, problems = {}, [], []
    for r in recs:
        ev, pid = r.get("event"), r.get("pid")
        if ev == "decision":
            if pid in open_by_pid:
                prev = open_by_pid.pop(pid)
                if prev[0]["decision"] == "allow":
                    problems.append("line %d: allowed session without an outcome record" % prev[0]["_line"])
                done.append(prev)
            open_by_pid[pid] = [r, None]
        elif ev == "outcome":
            s = open_by_pid.pop(pid, None)
            if s is None:
                problems.append("line %d: outcome without a decision of pid %s" % (r["_line"], pid))
                continue
            if s[0]["decision"] != "allow":
                problems.append("line %d: outcome for a denied session (line %d)" % (r["_line"], s[0]["_line"]))
            s[1] = r
            done.append(s)
        else:
            problems.append("line %d: unknown event %r" % (r["_line"], ev))
    for s in open_by_pid.values():
        if s[0]["decision"] == "allow":
            problems.append("line %d: allowed session without an outcome record" % s[0]["_line"])
        done.append(s)
    done.sort(key=lambda s: s[0]["_line"])
    return done, problems

def shape_problems(r):
    """Field checks every record must pass."""
    p = []
    for k in ("time", "event", "version", "pid", "identity", "client"):
        if k not in r:
            p.append("line %d: no %s" % (r["_line"], k))
    if "time" in r and not TIME_RE.match(r["time"]):
        p.append("line %d: time %r is not RFC 3339 UTC with microseconds" % (r["_line"], r["time"]))
    if r.get("event") == "decision":
        for k in ("command", "decision", "stage"):
            if k not in r:
                p.append("line %d: decision without %s" % (r["_line"], k))
        if r.get("decision") == "deny" and not r.get("reason"):
            p.append("line %d: deny without reason" % r["_line"])
    if r.get("event") == "outcome":
        for k in ("exit_status", "stages", "sandbox", "duration_ms", "client_hung_up"):
            if k not in r:
                p.append("line %d: outcome without %s" % (r["_line"], k))
    return p

def show(recs, out=sys.stdout):
    """One readable line per record."""
    for r in recs:
        if r.get("event") == "decision":
            extra = r.get("rule", "") if r["decision"] == "allow" else "%s: %s" % (r.get("rule", r.get("stage")), r.get("reason"))
            out.write("  %s %-5s %-22s %s\n" % (r["time"][11:23], r["decision"], extra[:60] if r["decision"] == "allow" else "", r["command"][:140]))
            if r["decision"] == "deny":
                out.write("  %12s       reason: %s\n" % ("", extra))
        else:
            st = " | ".join("%s=%s" % (s["program"].rsplit("/", 1)[-1], s.get("exit_code", "sig%s" % s.get("signal"))) for s in r["stages"])
            out.write("  %s outcome exit=%s %s%s\n" % (r["time"][11:23], r["exit_status"], st or "(builtin)",
                                                  " client_hung_up" if r.get("client_hung_up") else ""))

if __name__ == "__main__":
    cmd, mark = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 0
    if cmd == "show":
        show(records(mark))
    elif cmd == "count":
        print(len(lines(mark)))
PY
}

# zg_setup: the whole fixture; cheap when it already exists.
zg_setup() {
  mkdir -p "$ZG_WORK"
  need setup-binary zg_install_binary
  if [ ! -f "$ZG_WORK/setup.done" ]; then
    local t=$SECONDS
    need setup-pools zg_pools
    need setup-user zg_user
    need setup-policy zg_policy
    need setup-ssh zg_ssh
    zg_helpers
    zfs allow src >"$ZG_RESULTS/zfs-allow.txt" 2>&1
    # The first contact: the builtin `echo -n` through sshd and the gatekeeper.
    need setup-ssh-echo gk_ssh backup 'echo -n'
    touch "$ZG_WORK/setup.done"
    note "fixture set up in $((SECONDS - t))s (zfs allow -u $SRC_USER $ZG_ALLOW src)"
  fi
}

# ---------------------------------------------------------------------------------------------
# Helpers for the scenarios

# gk_ssh IDENTITY COMMAND: one ssh session as that identity's key (command passed as one
# argument, so it arrives byte for byte as SSH_ORIGINAL_COMMAND).
gk_ssh() {
  local id=$1; shift
  ssh -i "/root/.ssh/zg_$id" "$SRC_USER@localhost" "$1"
}

# run_syncoid LOGNAME ARGS...: syncoid with the output in $LOGDIR/LOGNAME.log; returns its status.
run_syncoid() {
  local log=$LOGDIR/$1.log t=$SECONDS rc; shift
  echo "+ syncoid $*" >"$log"
  syncoid "$@" >>"$log" 2>&1
  rc=$?
  echo "rc=$rc seconds=$((SECONDS - t))" >>"$log"
  note "syncoid $* -> rc=$rc in $((SECONDS - t))s"
  if [ "$rc" != 0 ]; then sed 's/^/#   | /' "$log" | tail -n 15; fi
  return "$rc"
}

# Snapshot and bookmark names of one dataset (no children), oldest first.
snaps() { zfs list -H -d 1 -t snapshot -o name -s createtxg "$1" 2>/dev/null | sed 's/^[^@]*@//' | tr '\n' ' ' | sed 's/ $//'; }
bookmarks() { zfs list -H -d 1 -t bookmark -o name -s createtxg "$1" 2>/dev/null | sed 's/^[^#]*#//' | tr '\n' ' ' | sed 's/ $//'; }
# The same list with this host's sync snapshots replaced by SYNC.
norm_snaps() { snaps "$1" | sed -E "s/(^| )$SYNC_RE( |$)/\1SYNC\2/g; s/(^| )$SYNC_RE( |$)/\1SYNC\2/g"; }
# The sync snapshot names of a dataset.
sync_snaps() { snaps "$1" | tr ' ' '\n' | grep -E "^$SYNC_RE$" | tr '\n' ' ' | sed 's/ $//'; }
# name<TAB>guid lines of every snapshot.
snap_guids() { zfs list -H -d 1 -t snapshot -o name,guid -s createtxg "$1" 2>/dev/null | sed 's/^[^@]*@//'; }

# assert_snaps CHECK DATASET "EXPECTED (SYNC = one of this host's sync snapshots)"
assert_snaps() { assert_eq "$1" "$3" "$(norm_snaps "$2")"; }
# assert_same_snaps CHECK SRC DST: identical snapshot names and guids, in the same order.
assert_same_snaps() {
  local a b
  a=$(snap_guids "$2"); b=$(snap_guids "$3")
  if [ -n "$a" ] && [ "$a" = "$b" ]; then
    pass "$1" "$(echo "$a" | wc -l) snapshots, names and guids equal"
  else
    fail "$1" "source [$(echo $a)] target [$(echo $b)]"
  fi
}

# assert_target_has_source_snaps CHECK SRC DST: every source snapshot is on the target with
# the same guid (the target may keep more).
assert_target_has_source_snaps() {
  local missing
  missing=$(comm -23 <(snap_guids "$2" | sort) <(snap_guids "$3" | sort))
  if [ -z "$missing" ] && [ -n "$(snap_guids "$2")" ]; then
    pass "$1" "$(snap_guids "$2" | wc -l) source snapshots on the target, guids equal"
  else
    fail "$1" "missing on the target: $(echo $missing)"
  fi
}

# tree_sum DIR: sha256 of every regular file, by relative path, plus the directory layout (one
# file system: a child dataset is compared on its own).
tree_sum() {
  (cd "$1" && find . -xdev -path ./.zfs -prune -o -type f -print0 | sort -z | xargs -0r sha256sum &&
   find . -xdev -path ./.zfs -prune -o -type d -print | sort)
}
# assert_same_tree CHECK SRC_DIR DST_DIR
assert_same_tree() {
  local a b n
  a=$(tree_sum "$2" 2>&1); b=$(tree_sum "$3" 2>&1)
  n=$(echo "$a" | grep -c '^[0-9a-f]\{64\} ')
  if [ "$n" -gt 0 ] && [ "$a" = "$b" ]; then
    pass "$1" "$n files, sha256 equal"
  else
    fail "$1" "$2 and $3 differ ($n files on the source): $(diff <(echo "$a") <(echo "$b") | head -n 4 | tr '\n' ' ')"
  fi
}

# fill DIR MIB: random files (1 MiB each) plus a compressible text file and a tiny one.
fill() {
  local dir=$1 mib=$2 tag=${3:-$RANDOM}
  mkdir -p "$dir"
  head -c "$((mib * 1048576))" /dev/urandom >"$dir/random-$tag.bin"
  yes "zfs-gatekeeper e2e $tag: compressible line" | head -c 262144 >"$dir/text-$tag.txt"
  mkdir -p "$dir/sub-$tag"
  echo "$tag" >"$dir/sub-$tag/tiny"
}

# destroy_ds DATASET...: recursive destroy if present (cleanup before and after).
destroy_ds() {
  local ds
  for ds in "$@"; do
    zfs list -H "$ds" >/dev/null 2>&1 || continue
    zfs destroy -r -f "$ds" 2>/dev/null || { sleep 1; zfs destroy -R -f "$ds"; }
  done
}

# Audit marks: line counts; records after a mark.
audit_mark() { if [ -f "$AUDIT" ]; then wc -l <"$AUDIT"; else echo 0; fi; }
audit_show() { python3 "$ZG_WORK/zgaudit.py" show "$1"; }
# audit_py MARK: runs python from stdin with `recs` (records after MARK) and the zgaudit module;
# extra arguments land in sys.argv[1:]. Exit status is the script's.
audit_py() {
  local mark=$1; shift
  local code
  code=$(cat)
  python3 -c "
import sys; sys.path.insert(0, '$ZG_WORK')
from zgaudit import *
recs = records($mark)
$code" "$@"
}

# Processes below a pid (for killing only what this scenario started).
descendants() {
  local p
  for p in $(ps -o pid= --ppid "$1" 2>/dev/null); do
    echo "$p"
    descendants "$p"
  done
}

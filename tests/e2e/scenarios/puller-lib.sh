# shellcheck shell=bash
# Shared guest-side helpers for tests/e2e/scenarios/puller-*.sh (sourced after lib.sh). Not a
# scenario itself: run directly (guest-run-scenarios runs every *.sh) it does nothing.
#
# What pl_setup adds to lib.sh's fixture (idempotent; the first puller scenario of a boot does it):
#   binary    /usr/local/bin/zfs-puller (copied from the share)
#   policy    /etc/zfs-gatekeeper/puller.toml (root:root 0644) with its own audit file
#             /var/log/zfs-gatekeeper/puller-audit.jsonl and these identities:
#               puller        preset "puller", datasets ["src/pl"], snapshot_prefix "zfs-puller_",
#                             allow_destroy = true: what zfs-puller is documented to need
#               syncoid-pull  preset "syncoid-pull", datasets ["src/pl"]: syncoid in the benchmark
#   keys      /root/.ssh/zg_puller and /root/.ssh/zg_plsyncoid, one authorized_keys line each
#             (`restrict,command="/usr/local/bin/zfs-gatekeeper --policy .../puller.toml
#             --identity ..."`) appended to ~zbackup/.ssh/authorized_keys
#   datasets  src/pl (source parent) and dst/pl (target parent)
# zbackup's delegation is lib.sh's `send,snapshot,destroy,mount,bookmark,hold,release` on src.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then exit 0; fi

PL=/usr/local/bin/zfs-puller
PL_POLICY=/etc/zfs-gatekeeper/puller.toml
PL_AUDIT=$AUDIT_DIR/puller-audit.jsonl
PL_KEY=/root/.ssh/zg_puller
PL_SYNCOID_KEY=/root/.ssh/zg_plsyncoid
PL_KNOWN=/root/.ssh/known_hosts
PL_SRC=src/pl
PL_DST=dst/pl

pl_install() {
  local from=$ZG_BIN/zfs-puller
  [ -f "$from" ] || { echo "no $from" >&2; return 1; }
  cmp -s "$from" "$PL" || install -o root -g root -m 0755 "$from" "$PL"
}

pl_policy() {
  local tmp=/etc/zfs-gatekeeper/.puller.toml.new
  cat >"$tmp" <<'EOF'
# zfs-gatekeeper policy for the zfs-puller scenarios (tests/e2e/scenarios/puller-lib.sh)
[programs]
zfs = "/usr/sbin/zfs"
zpool = "/usr/sbin/zpool"
lzop = "/usr/bin/lzop"
mbuffer = "/usr/bin/mbuffer"

[audit]
file = "/var/log/zfs-gatekeeper/puller-audit.jsonl"
required = true

# What zfs-puller needs: README "Gatekeeper identity for zfs-puller".
[identity.puller]
datasets = ["src/pl"]
preset = "puller"
snapshot_prefix = "zfs-puller_"
allow_destroy = true

# syncoid 2.1.0 through the same gatekeeper, for the benchmark.
[identity.syncoid-pull]
datasets = ["src/pl"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
tools = ["lzop", "mbuffer"]
EOF
  chown root:root "$tmp" && chmod 0644 "$tmp" && mv -f "$tmp" "$PL_POLICY" || return 1
  "$GK" --policy "$PL_POLICY" --check >/dev/null
}

pl_keys() {
  local ak=$SRC_HOME/.ssh/authorized_keys id key
  for id in puller:$PL_KEY syncoid-pull:$PL_SYNCOID_KEY; do
    key=${id#*:}; id=${id%%:*}
    [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "pl-e2e-$id" -f "$key" || return 1
    grep -qF "$(cut -d' ' -f2 "$key.pub")" "$ak" 2>/dev/null && continue
    printf 'restrict,command="%s --policy %s --identity %s" %s\n' "$GK" "$PL_POLICY" "$id" "$(cat "$key.pub")" >>"$ak"
  done
  chown "$SRC_USER:$SRC_USER" "$ak" && chmod 0600 "$ak"
}

pl_setup() {
  zg_setup
  need pl-setup-binary pl_install
  if [ ! -f "$ZG_WORK/pl-setup.done" ]; then
    need pl-setup-policy pl_policy
    need pl-setup-keys pl_keys
    zfs list -H "$PL_SRC" >/dev/null 2>&1 || need pl-setup-src zfs create "$PL_SRC"
    zfs list -H "$PL_DST" >/dev/null 2>&1 || need pl-setup-dst zfs create "$PL_DST"
    touch "$ZG_WORK/pl-setup.done"
  fi
}

# pl_forced_key KEY COMMAND: a key (made once) whose authorized_keys line runs COMMAND as the
# source user, without the gatekeeper: the hostile sources of puller-06 and puller-10.
pl_forced_key() {
  local key=$1 command=$2 ak=$SRC_HOME/.ssh/authorized_keys
  [ -f "$key" ] || ssh-keygen -q -t ed25519 -N '' -C "pl-e2e-$(basename "$key")" -f "$key" || return 1
  grep -qF "$(cut -d' ' -f2 "$key.pub")" "$ak" ||
    printf 'restrict,command="%s" %s\n' "$command" "$(cat "$key.pub")" >>"$ak"
}

# etc_guard CHECK: a hostile stream must never leave /etc covered; if it is, uncover it, fail
# CHECK and end the scenario.
etc_guard() {
  if mountpoint -q /etc; then umount /etc; fail "$1" "/etc was mounted over"; zg_finish; fi
}

# pl_finish: keep the puller policy's audit log with the results, then end the scenario.
pl_finish() {
  cp "$PL_AUDIT" "$LOGDIR/puller-audit.jsonl" 2>/dev/null
  zg_finish
}

# run_puller LOGNAME ARGS...: `zfs-puller pull ...` as root with the puller key; stdout (JSON
# summaries) in $LOGDIR/LOGNAME.json, stderr in $LOGDIR/LOGNAME.err. Returns its exit status.
run_puller() {
  local log=$LOGDIR/$1 t=$SECONDS rc; shift
  echo "+ zfs-puller $*" >"$log.err"
  "$PL" "$@" >"$log.json" 2>>"$log.err"
  rc=$?
  note "zfs-puller $* -> rc=$rc in $((SECONDS - t))s"
  if [ "$rc" != 0 ]; then sed 's/^/#   | /' "$log.err" | tail -n 8; fi
  return "$rc"
}
# stop_after_bytes PID LOG BYTES: SIGTERM to zfs-puller PID once the JSON progress it writes to
# LOG (--progress json) shows more than BYTES moved; status 0 when it was stopped so, 1 when it
# ended first (or two minutes passed).
stop_after_bytes() {
  local pid=$1 log=$2 limit=$3 b
  for _ in $(seq 1 600); do
    b=$(grep -o '"event":"progress".*"bytes":[0-9]*' "$log" 2>/dev/null | tail -n 1 | grep -o '[0-9]*$')
    if [ "${b:-0}" -gt "$limit" ]; then
      kill -TERM "$pid"
      note "stopped zfs-puller after $b bytes"
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.2
  done
  return 1
}
# pull LOGNAME NAME [ARGS...]: src/pl/NAME -> dst/pl/NAME through the gatekeeper.
pull() {
  local log=$1 name=$2; shift 2
  run_puller "$log" pull "$SRC_USER@localhost:$PL_SRC/$name" "$PL_DST/$name" \
    --ssh-key "$PL_KEY" --known-hosts "$PL_KNOWN" --progress json --verbose "$@"
}
# json_field LOGNAME EVENT DATASET FIELD: a field of the summary line (python3 is in the image).
json_field() {
  python3 - "$LOGDIR/$1.json" "$2" "$3" "$4" <<'PY'
import json, sys
path, event, dataset, field = sys.argv[1:]
for line in open(path):
    line = line.strip()
    if not line.startswith("{"):
        continue
    j = json.loads(line)
    if j.get("event") == event and (event == "job" or j.get("dataset") == dataset):
        v = j.get(field)
        print(json.dumps(v) if isinstance(v, (bool, list, dict)) or v is None else v)
        break
PY
}
# Audit records of the puller policy after a line mark.
pl_mark() { if [ -f "$PL_AUDIT" ]; then wc -l <"$PL_AUDIT"; else echo 0; fi; }
# pl_audit_py MARK: python (stdin) with `recs` = puller audit records after MARK.
pl_audit_py() {
  local mark=$1 code
  shift
  code=$(cat)
  python3 -c "
import sys; sys.path.insert(0, '$ZG_WORK')
from zgaudit import *
recs = records($mark, '$PL_AUDIT')
$code" "$@"
}
# Decisions after MARK: "allow N deny M" and every command as one line each in $LOGDIR/NAME.audit.
pl_audit_summary() {
  local mark=$1 name=$2
  pl_audit_py "$mark" "$LOGDIR/$name.audit" <<'PY'
ds = [r for r in recs if r.get("event") == "decision"]
with open(sys.argv[1], "w") as f:
    for r in ds:
        f.write("%s %s %s\n" % (r["decision"], r.get("rule", ""), r["command"]))
print("allow %d deny %d" % (sum(r["decision"] == "allow" for r in ds), sum(r["decision"] != "allow" for r in ds)))
PY
}
# Sessions (decision records) after MARK.
pl_sessions() { pl_audit_py "$1" <<<'print(sum(1 for r in recs if r.get("event") == "decision"))'; }
# Received-dataset hardening: one line "readonly canmount setuid exec devices mounted mountpoint-source".
hardening() {
  zfs get -H -o value readonly,canmount,setuid,exec,devices,mounted "$1" | tr '\n' ' '
  zfs get -H -o source mountpoint "$1"
}
# Mounts a received (unmounted, read-only) filesystem somewhere private to compare its files.
peek_mount() {
  local ds=$1 dir=$SCRATCH/peek-${1//\//_}
  mkdir -p "$dir"
  mount -t zfs -o ro,zfsutil "$ds" "$dir" && echo "$dir"
}
peek_umount() { umount "$1" 2>/dev/null; rmdir "$1" 2>/dev/null; }
# pl_destroy DATASET...: release the puller's holds below each dataset, then destroy it.
pl_destroy() {
  local ds
  for ds in "$@"; do
    zfs list -H "$ds" >/dev/null 2>&1 || continue
    zfs list -H -r -t snapshot -o name "$ds" 2>/dev/null | while IFS= read -r snap; do
      zfs holds -H "$snap" 2>/dev/null | cut -f2 | while IFS= read -r tag; do zfs release "$tag" "$snap"; done
    done
    destroy_ds "$ds"
  done
}
# zvol_dev NAME: the /dev/zdN node of a volume (the guest has no udev, so no /dev/zvol links).
zvol_dev() {
  local d i
  for i in 1 2 3 4 5 6 7 8 9 10; do
    for d in /dev/zd*; do
      [ -b "$d" ] || continue
      case $d in *[0-9]p[0-9]*) continue ;; esac
      if [ "$(/usr/lib/udev/zvol_id "$d" 2>/dev/null)" = "$1" ]; then echo "$d"; return 0; fi
    done
    sleep 0.5
  done
  return 1
}
# snapshot names of a dataset carrying the puller prefix
own_snaps() { snaps "$1" | tr ' ' '\n' | grep -c '^zfs-puller_'; }

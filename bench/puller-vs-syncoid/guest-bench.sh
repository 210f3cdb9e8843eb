#!/bin/bash
# Guest side of bench/puller-vs-syncoid (runs as /share/guest-test.sh, root, in the e2e guest):
# zfs-puller against syncoid 2.1.0 through the same gatekeeper on the same host, same run.
#   nochange   a daily run over N datasets (recursive) where nothing changed
#   small      a run after a small write (64 KiB) into every dataset
#   full       one full send of a ${BENCH_FULL_MIB} MiB dataset, against a local
#              `zfs send | zfs receive` pipe (no ssh) as the baseline, and against the same
#              pull over plain ssh as root (no gatekeeper, no zfs-puller): the transport alone
# Each tool pulls its own copy of the tree (syncoid's sync snapshots would look like new
# snapshots to the puller and the other way round). SSH sessions are counted as decision
# records in the gatekeeper's audit log (one per session, whatever the command).
# Prints `BENCH ...` lines and writes /share/results/bench.json. A benchmark: it never fails on
# numbers, only on a broken set-up.
SCENARIO=bench
source /share/scenarios/lib.sh
source /share/scenarios/puller-lib.sh
pl_setup

N=${BENCH_DATASETS:-20}
FULL_MIB=${BENCH_FULL_MIB:-192}
SP=$PL_SRC/bench-pl SY=$PL_SRC/bench-sy DP=$PL_DST/bench-pl DY=$PL_DST/bench-sy
TP=$PL_SRC/tp
RESULTS=$ZG_RESULTS/bench.json
pl_destroy "$DP" "$DY" "$SP" "$SY" "$TP" "$PL_DST/tp-local" "$PL_DST/tp-ssh" "$PL_DST/tp-pl" "$PL_DST/tp-sy"

now() { echo "$EPOCHREALTIME"; }
secs() { python3 -c "print('%.2f' % ($2 - $1))"; }
# sessions MARK IDENTITY: decision records of that identity after MARK in the puller policy's log.
sessions() { pl_audit_py "$1" "$2" <<<'print(sum(1 for r in recs if r.get("event") == "decision" and r.get("identity") == sys.argv[1]))'; }

for root in "$SP" "$SY"; do
  need "create-$root" zfs create "$root"
  for i in $(seq -w 1 "$N"); do
    zfs create "$root/d$i"
    head -c 262144 /dev/urandom >"/$root/d$i/data"
  done
  zfs snapshot -r "$root@autosnap_base"
done

puller_run() {  # LOG
  "$PL" pull "$SRC_USER@localhost:$SP" "$DP" --recursive --ssh-key "$PL_KEY" --known-hosts "$PL_KNOWN" \
    --progress none ${PULLER_EXTRA:-} >"$LOGDIR/$1.json" 2>"$LOGDIR/$1.err"
}
syncoid_run() {  # LOG
  syncoid -r --no-privilege-elevation --sshkey "$PL_SYNCOID_KEY" "$SRC_USER@localhost:$SY" "$DY" \
    >"$LOGDIR/$1.log" 2>&1
}
declare -A WALL SESS
measure() {  # NAME TOOL: runs the tool once, records wall seconds and sessions
  local name=$1 tool=$2 id mark t0 t1 rc
  [ "$tool" = puller ] && id=puller || id=syncoid-pull
  mark=$(pl_mark)
  t0=$(now)
  "${tool}_run" "$name-$tool"
  rc=$?
  t1=$(now)
  WALL[$name-$tool]=$(secs "$t0" "$t1")
  SESS[$name-$tool]=$(sessions "$mark" "$id")
  echo "BENCH $name $tool wall=${WALL[$name-$tool]}s sessions=${SESS[$name-$tool]} rc=$rc"
  [ "$rc" = 0 ] || { echo "FAIL bench-$name-$tool: exit $rc"; tail -n 5 "$LOGDIR/$name-$tool."*; }
}
ratio() { python3 -c "a, b = float('$1'), float('$2'); print('%.1f' % (a / b) if b > 0 else 'inf')"; }

# The first pull of both trees (reported, not a goal).
measure first puller
measure first syncoid
sleep 1

# A daily run with no change.
measure nochange puller
measure nochange syncoid
sleep 1

# Small changes in every dataset.
for root in "$SP" "$SY"; do
  for i in $(seq -w 1 "$N"); do head -c 65536 /dev/urandom >"/$root/d$i/small-change"; done
done
measure small puller
measure small syncoid
sleep 1

# The same small change again, zfs-puller with --no-hold (no hold/release sessions).
for i in $(seq -w 1 "$N"); do head -c 65536 /dev/urandom >"/$SP/d$i/small-change-2"; done
PULLER_EXTRA=--no-hold measure small-nohold puller

# Full-send throughput: local pipe vs zfs-puller (vs syncoid, for reference).
need create-tp zfs create -o compression=off "$TP"
head -c $((FULL_MIB * 1048576)) /dev/urandom >"/$TP/big"
zfs snapshot "$TP@full"
zfs send -L -c -e "$TP@full" >/dev/null   # warm the ARC for every contender alike
bytes=$(zfs send -nvP -L -c -e "$TP@full" | awk '$1 == "size" { print $2 }')
t0=$(now)
zfs send -L -c -e "$TP@full" | zfs receive -s -u "$PL_DST/tp-local"
t1=$(now)
WALL[full-local]=$(secs "$t0" "$t1")
pl_destroy "$PL_DST/tp-local"
# Plain ssh as root with the image's own key: what any pull over ssh costs on this machine.
root_ssh() {
  ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR \
    -i /root/.ssh/id_ed25519 -x -a -T "$@"
}
t0=$(now)
root_ssh root@localhost zfs send -L -c -e "$TP@full" | zfs receive -s -u "$PL_DST/tp-ssh"
t1=$(now)
WALL[full-ssh]=$(secs "$t0" "$t1")
pl_destroy "$PL_DST/tp-ssh"
# Raw ssh throughput of 64 MiB per cipher (the puller leaves the choice to ssh's defaults).
for cipher in chacha20-poly1305@openssh.com aes128-gcm@openssh.com; do
  t0=$(now)
  head -c 67108864 /dev/zero | root_ssh -c "$cipher" root@localhost 'cat >/dev/null'
  t1=$(now)
  echo "BENCH cipher $cipher 64MiB=$(secs "$t0" "$t1")s"
done
t0=$(now)
"$PL" pull "$SRC_USER@localhost:$TP" "$PL_DST/tp-pl" --ssh-key "$PL_KEY" --known-hosts "$PL_KNOWN" \
  --progress none >"$LOGDIR/full-puller.json" 2>"$LOGDIR/full-puller.err" || echo "FAIL bench-full-puller: exit $?"
t1=$(now)
WALL[full-puller]=$(secs "$t0" "$t1")
WALL[full-puller-transfer]=$(json_field full-puller dataset "$TP" seconds)
pl_destroy "$PL_DST/tp-pl"
t0=$(now)
syncoid --no-privilege-elevation --no-sync-snap --sshkey "$PL_SYNCOID_KEY" "$SRC_USER@localhost:$TP" "$PL_DST/tp-sy" \
  >"$LOGDIR/full-syncoid.log" 2>&1 || echo "FAIL bench-full-syncoid: exit $?"
t1=$(now)
WALL[full-syncoid]=$(secs "$t0" "$t1")
pl_destroy "$PL_DST/tp-sy"
mibs() { python3 -c "print('%.1f' % ($1 / 1048576 / float('$2')))"; }
echo "BENCH full bytes=$bytes local=${WALL[full-local]}s ($(mibs "$bytes" "${WALL[full-local]}") MiB/s)" \
     "plain-ssh=${WALL[full-ssh]}s ($(mibs "$bytes" "${WALL[full-ssh]}") MiB/s)" \
     "puller=${WALL[full-puller]}s wall, ${WALL[full-puller-transfer]}s in the transfer ($(mibs "$bytes" "${WALL[full-puller-transfer]}") MiB/s)" \
     "syncoid=${WALL[full-syncoid]}s ($(mibs "$bytes" "${WALL[full-syncoid]}") MiB/s)"

echo "BENCH ratio nochange: sessions $(ratio "${SESS[nochange-syncoid]}" "${SESS[nochange-puller]}")x fewer, wall $(ratio "${WALL[nochange-syncoid]}" "${WALL[nochange-puller]}")x less"
echo "BENCH ratio small: sessions $(ratio "${SESS[small-syncoid]}" "${SESS[small-puller]}")x fewer, wall $(ratio "${WALL[small-syncoid]}" "${WALL[small-puller]}")x less"
echo "BENCH ratio small (--no-hold): sessions $(ratio "${SESS[small-syncoid]}" "${SESS[small-nohold-puller]}")x fewer, wall $(ratio "${WALL[small-syncoid]}" "${WALL[small-nohold-puller]}")x less"
echo "BENCH ratio full: puller transfer throughput = $(ratio "${WALL[full-local]}" "${WALL[full-puller-transfer]}") x local pipe; whole run $(ratio "${WALL[full-local]}" "${WALL[full-puller]}") x"
echo "BENCH ratio full: puller transfer throughput = $(ratio "${WALL[full-ssh]}" "${WALL[full-puller-transfer]}") x plain ssh pull; whole run $(ratio "${WALL[full-ssh]}" "${WALL[full-puller]}") x"

python3 - "$RESULTS" "$N" "$FULL_MIB" "$bytes" <<PY
import json, sys
wall = {$(for k in "${!WALL[@]}"; do printf '"%s": %s, ' "$k" "${WALL[$k]:-0}"; done)}
sess = {$(for k in "${!SESS[@]}"; do printf '"%s": %s, ' "$k" "${SESS[$k]:-0}"; done)}
json.dump({"datasets": int(sys.argv[2]), "full_mib": int(sys.argv[3]), "full_bytes": int(sys.argv[4] or 0),
           "wall_seconds": wall, "ssh_sessions": sess}, open(sys.argv[1], "w"), indent=1, sort_keys=True)
PY
pl_destroy "$DP" "$DY" "$SP" "$SY" "$TP"
echo "TIME bench $((SECONDS - ZG_T0))"
exit 0

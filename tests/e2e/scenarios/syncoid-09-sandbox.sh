#!/bin/bash
# Every command of every scenario ran sandboxed, and no stage died of SIGSYS:
#  - live: during a slowed pull the children the gatekeeper started (zfs send, lzop, mbuffer)
#    are inspected in /proc: no capabilities in any set, NoNewPrivs 1, Seccomp 2 (filter mode),
#    and the supervisor itself is filtered too;
#  - records: every outcome record of this boot says no_new_privs true, capabilities "none",
#    seccomp true and Landlock enforced (the guest's 6.1 kernel has Landlock), and no stage
#    ended by a signal 31 (SIGSYS) or carries sigsys true.
# Run it after the other scenarios: it reads every outcome record of the boot.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/sbx DST=dst/sbx

if "$GK" --policy "$POLICY" --print-sandbox >"$LOGDIR/print-sandbox.txt" 2>&1; then
  pass print-sandbox "results/$SCENARIO/print-sandbox.txt"
else
  fail print-sandbox "$(tail -n 2 "$LOGDIR/print-sandbox.txt" | tr '\n' ' ')"
fi

destroy_ds "$DST" "$SRC"
need create zfs create "$SRC"
fill /src/sbx 40 s
zfs snapshot "$SRC@x1"

mark=$(audit_mark)
syncoid --sshkey "$KEY" --no-privilege-elevation --source-bwlimit=4m "$SRC_USER@localhost:$SRC" "$DST" >"$LOGDIR/pull.log" 2>&1 &
spid=$!
# Wait for the gatekeeper's children of the data send, then read their /proc status.
found=
for _ in $(seq 1 120); do
  for gk in $(pgrep -u "$SRC_USER" -x zfs-gatekeeper); do
    kids=$(ps -o pid= --ppid "$gk" | tr -d ' ')
    [ "$(echo "$kids" | grep -c .)" -ge 3 ] || continue
    found=$kids
    supervisor=$gk
    break 2
  done
  sleep 0.5
done
if [ -n "$found" ]; then
  for k in $found; do
    st=$(cat "/proc/$k/status" 2>/dev/null) || continue
    comm=$(cat "/proc/$k/comm" 2>/dev/null)
    caps=$(echo "$st" | awk '/^Cap(Inh|Prm|Eff|Amb):/ { printf "%s%s ", $1, $2 }')
    nnp=$(echo "$st" | awk '/^NoNewPrivs:/ { print $2 }')
    sec=$(echo "$st" | awk '/^Seccomp:/ { print $2 }')
    uid=$(echo "$st" | awk '/^Uid:/ { print $2 }')
    ok=1
    # Every capability set must be all zeros (the values, not the field names).
    [ -z "$(echo "$st" | awk '/^Cap(Inh|Prm|Eff|Amb):/ && $2 !~ /^0+$/')" ] || ok=
    [ "$nnp" = 1 ] || ok=
    [ "$uid" = "$(id -u "$SRC_USER")" ] || ok=
    [ "$sec" = 2 ] || ok=
    if [ -n "$ok" ]; then pass "live-$comm" "uid $uid, ${caps}NoNewPrivs $nnp, Seccomp $sec"; else fail "live-$comm" "uid $uid, ${caps}NoNewPrivs $nnp, Seccomp $sec"; fi
  done
  # The supervisor itself (the gatekeeper process waiting for the stages).
  sup_sec=$(awk '/^Seccomp:/ { print $2 }' "/proc/$supervisor/status" 2>/dev/null)
  assert_eq live-supervisor-seccomp 2 "$sup_sec"
else
  fail live-children "no gatekeeper with a running pipeline seen"
fi
wait "$spid" && pass slowed-pull || fail slowed-pull "syncoid failed: $(tail -n 3 "$LOGDIR/pull.log" | tr '\n' ' ')"
assert_same_tree pull-contents /src/sbx /dst/sbx

out=$(audit_py 0 <<'PY'
outs = [r for r in records(0) if r["event"] == "outcome"]
problems, stages, signalled = [], 0, 0
for o in outs:
    sb = o.get("sandbox", {})
    if sb.get("no_new_privs") is not True or sb.get("capabilities") != "none":
        problems.append("line %d: sandbox %r" % (o["_line"], sb))
    if sb.get("seccomp") is not True:
        problems.append("line %d: seccomp %r" % (o["_line"], sb.get("seccomp")))
    if sb.get("landlock", {}).get("enforced") is not True:
        problems.append("line %d: landlock %r" % (o["_line"], sb.get("landlock")))
    for st in o["stages"]:
        stages += 1
        if st.get("signal"):
            signalled += 1
        if st.get("sigsys") or st.get("signal") == 31:
            problems.append("line %d: %s died of SIGSYS" % (o["_line"], st["program"]))
kinds = sorted({json.dumps({k: v for k, v in o.get("sandbox", {}).items() if k in ("no_new_privs", "capabilities", "seccomp", "landlock", "running_as_root")}, sort_keys=True) for o in outs})
print("%d outcome records, %d stages (%d ended by a signal, none SIGSYS); sandbox %s" % (len(outs), stages, signalled, " / ".join(kinds)))
[print("PROBLEM " + p) for p in problems[:10]]
sys.exit(1 if problems or len(outs) < 20 else 0)
PY
) && pass outcome-records-sandboxed "$out" || fail outcome-records-sandboxed "$(echo "$out" | head -n 5 | tr '\n' ' ')"
destroy_ds "$DST" "$SRC"
zg_finish

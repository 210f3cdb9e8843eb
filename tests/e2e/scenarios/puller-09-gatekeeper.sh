#!/bin/bash
# The gatekeeper side of zfs-puller: every command the puller sent in this boot (scenarios 01-08
# and a fresh recursive pull here) was allowed for identity `puller` (preset "puller"), and the
# same identity is denied syncoid's extra vocabulary: builtins, probes, sudo, zpool, per-dataset
# gets, the recursive origin listing and compressor pipelines; syncoid itself fails with that key
# and works with the syncoid-pull identity of the same gatekeeper.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/gk D=$PL_DST/gk
pl_destroy "$D" "$S" "$PL_DST/gk-syncoid"
need create zfs create "$S"
zfs create "$S/child"
fill "/$S/child" 1 a
zfs snapshot -r "$S@autosnap_1"

mark=$(pl_mark)
if pull gk1 gk --recursive; then pass puller-pull; else fail puller-pull "exit $?"; fi
echo x >"/$S/child/x"
sleep 1
pull gk2 gk --recursive --keep-source 1 || fail puller-pull-2 "exit $?"
# Every decision for identity puller in this boot, from every scenario, is an allow.
pl_audit_py 0 <<'PY' && pass puller-all-allowed || fail puller-all-allowed "denials for identity puller"
ds = [r for r in recs if r.get("event") == "decision" and r.get("identity") == "puller"]
bad = [r for r in ds if r["decision"] != "allow"]
for r in bad:
    print("#   denied: %s (%s)" % (r["command"], r.get("reason")))
print("# %d puller decisions in this boot, %d denied; rules: %s" % (len(ds), len(bad), sorted({r.get("rule") for r in ds})))
sys.exit(1 if bad or not ds else 0)
PY
# Every allowed session also ran to a zero outcome (nothing the puller sent failed at the zfs level).
pl_audit_py "$mark" <<'PY' && pass puller-outcomes-zero || fail puller-outcomes-zero "non-zero outcomes"
ss, problems = sessions([r for r in recs if r.get("identity") == "puller"])
bad = [s for s in ss if s[1] is None or s[1].get("exit_status") != 0]
for s in bad:
    print("#   %s -> %s" % (s[0]["command"], s[1] and s[1].get("exit_status")))
sys.exit(1 if bad or problems else 0)
PY

# zfs-puller status (issue 15): the pulls above left the state of $D, so job gk (the same target)
# is ok, exit 0; job gk-down, whose source is unreachable (nothing listens on port 1), fails to
# run and is then failing, exit 2, in the table, the JSON and the textfile.
cfg=$ZG_WORK/pl-status.toml
install -m 0600 /dev/null "$cfg"
cat >"$cfg" <<EOF2
[defaults]
ssh_key = "$PL_KEY"
known_hosts = "$PL_KNOWN"
[job.gk]
source = "$SRC_USER@localhost:$S"
target = "$D"
recursive = true
[job.gk-down]
source = "$SRC_USER@localhost:$S"
target = "$PL_DST/gk-down"
port = 1
connect_timeout = 10
EOF2
"$PL" status --config "$cfg" --job gk >"$LOGDIR/status-ok.txt" 2>&1
rc=$?
if [ "$rc" = 0 ] && grep -q "^gk  *$S  *ok " "$LOGDIR/status-ok.txt"; then
  pass status-ok "$(grep "^gk " "$LOGDIR/status-ok.txt")"
else
  fail status-ok "rc=$rc $(cat "$LOGDIR/status-ok.txt")"
fi
run_puller down --config "$cfg" --job gk-down --progress none
rc=$?
if [ "$rc" = 4 ]; then pass unreachable-source-fails; else fail unreachable-source-fails "exit $rc"; fi
"$PL" status --config "$cfg" --job gk-down >"$LOGDIR/status-down.txt" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "^gk-down  *$S  *failing " "$LOGDIR/status-down.txt"; then
  pass status-failing "$(grep "^gk-down " "$LOGDIR/status-down.txt")"
else
  fail status-failing "rc=$rc $(cat "$LOGDIR/status-down.txt")"
fi
"$PL" status --config "$cfg" --json --prometheus "$LOGDIR/zfs_puller.prom" >"$LOGDIR/status.json" 2>"$LOGDIR/status-json.err"
rc=$?
python3 - "$LOGDIR/status.json" "$LOGDIR/zfs_puller.prom" "$S" <<'PY' && [ "$rc" = 2 ] && pass status-json-and-textfile || fail status-json-and-textfile "rc=$rc"
import json, sys
status, prom, src = json.load(open(sys.argv[1])), open(sys.argv[2]).read(), sys.argv[3]
states = {d["job"]: d["state"] for d in status["datasets"]}
print("# states %s, exit %s" % (states, status["exit"]))
want = ['zfs_puller_failing{job="gk",dataset="%s"} 0' % src,
        'zfs_puller_failing{job="gk-down",dataset="%s"} 1' % src,
        'zfs_puller_state{job="gk",dataset="%s",state="ok"} 1' % src]
missing = [w for w in want if w not in prom.splitlines()]
for w in missing:
    print("#   not in the textfile: " + w)
sys.exit(0 if states.get("gk") == "ok" and states.get("gk-down") == "failing" and status["exit"] == 2 and not missing else 1)
PY

# syncoid's extra vocabulary, one session each with the puller key.
mark=$(pl_mark)
n=0
while IFS= read -r cmd; do
  [ -n "$cmd" ] || continue
  n=$((n + 1))
  out=$(ssh -i "$PL_KEY" -o IdentitiesOnly=yes "$SRC_USER@localhost" "$cmd" 2>&1 </dev/null)
  rc=$?
  if [ "$rc" = 126 ] && [ "$out" = "zfs-gatekeeper: command not permitted" ]; then
    pass "denied-$n" "$cmd"
  else
    fail "denied-$n" "[$cmd] -> rc=$rc out=[$out]"
  fi
done <<EOF2
exit
echo -n
command -v lzop
command -v mbuffer
zpool get -o value -H feature@extensible_dataset 'src'
zfs get -H syncoid:sync 'src/pl/gk'
zfs get -Hpd 1 -t snapshot guid,creation 'src/pl/gk'
zfs get -Hpd 1 -t bookmark guid,creation 'src/pl/gk'
zfs list -o name,origin -t filesystem,volume -Hr 'src/pl/gk'
sudo zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- src/pl/gk
sudo zfs snapshot 'src/pl/gk'@zfs-puller_sudo
 zfs send  'src/pl/gk'@autosnap_1 | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null
zfs get -H -t snapshot
zfs get -H createtxg
EOF2
pl_audit_py "$mark" <<'PY' && pass denials-recorded || fail denials-recorded "audit"
ds = [r for r in recs if r.get("event") == "decision"]
bad = [r for r in ds if r["decision"] != "deny" or r.get("identity") != "puller"]
print("# %d denials, rules %s" % (len(ds), sorted({r.get("rule") for r in ds})))
sys.exit(1 if bad or len(ds) != 14 else 0)
PY

# syncoid itself: refused with the puller key, fine with the syncoid-pull key (same gatekeeper).
mark=$(pl_mark)
if syncoid --no-privilege-elevation --sshkey "$PL_KEY" "$SRC_USER@localhost:$S/child" "$PL_DST/gk-syncoid" >"$LOGDIR/syncoid-puller-key.log" 2>&1; then
  fail syncoid-with-puller-key-fails "syncoid succeeded"
else
  pass syncoid-with-puller-key-fails "$(pl_audit_summary "$mark" syncoid-puller-key)"
fi
if syncoid --no-privilege-elevation --sshkey "$PL_SYNCOID_KEY" "$SRC_USER@localhost:$S/child" "$PL_DST/gk-syncoid" >"$LOGDIR/syncoid-syncoid-key.log" 2>&1; then
  pass syncoid-with-its-own-key
else
  fail syncoid-with-its-own-key "see $LOGDIR/syncoid-syncoid-key.log"
fi

pl_destroy "$D" "$PL_DST/gk-syncoid" "$S"
pl_finish

#!/bin/bash
# Restore through the gatekeeper's restore preset, on real OpenZFS (issue 17): the stream comes
# in on the client's stdin, as `zfs-puller restore` sends it, with the restore identity's key.
#  1. A full stream into src/restore/home: the files come back byte for byte; the dataset is
#     read-only, canmount=noauto, not mounted, set-uid/exec/devices off, its mountpoint the
#     restore root's (never the stream's).
#  2. A hostile stream (properties mountpoint=/etc, canmount=on, setuid=on, exec=on) is received
#     with every override in force.
#  3. A raw (encrypted) stream: received still encrypted; with the source's key loaded, the files
#     are equal.
#  4. An interrupted restore: the partial receive is listed with its receive_resume_token (so
#     the live check lets the resume through, and only the resume), the token is read through
#     the restore key, a fresh full stream is refused by zfs, `zfs send -t` completes it.
#  5. Denied, audited, nothing changed: a receive outside the restore root, into the root itself,
#     into a dataset that exists (live check), with -F; and the restore key's send.
source "$(dirname "$0")/lib.sh"
zg_setup
R=src/restore
RECV="zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o devices=off -x mountpoint --"
destroy_ds "$R" src/rsrc src/renc src/evil
need create-root zfs create -o mountpoint=/src/restore "$R"
# What a restore user needs: receive and create (and mount, which create requires), and the
# properties the receive sets.
need allow-restore zfs allow -u "$SRC_USER" receive,create,mount,readonly,canmount,setuid,exec,devices,mountpoint "$R"
restore_ssh() { ssh -i /root/.ssh/zg_restore "$SRC_USER@localhost" "$1"; }

# 1. Full stream.
need create-source zfs create src/rsrc
fill /src/rsrc 8 one
zfs snapshot src/rsrc@r1
m=$(audit_mark)
if zfs send src/rsrc@r1 | restore_ssh "$RECV src/restore/home" >"$LOGDIR/full.out" 2>&1; then
  pass full-restore-allowed
else
  fail full-restore-allowed "$(head -c 400 "$LOGDIR/full.out")"
fi
props=$(zfs get -H -o property,value,source readonly,canmount,mounted,setuid,exec,devices,mountpoint src/restore/home | tr '\t' ' ' | tr '\n' ';')
want="readonly on local;canmount noauto local;mounted no -;setuid off local;exec off local;devices off local;mountpoint /src/restore/home inherited from src/restore;"
assert_eq full-restore-properties "$want" "$props"
zfs mount src/restore/home && assert_same_tree full-restore-files /src/rsrc /src/restore/home
zfs unmount src/restore/home 2>/dev/null
if out=$(audit_py "$m" <<'PY'
d = [r for r in recs if r["event"] == "decision"]
o = [r for r in recs if r["event"] == "outcome"]
ok = len(d) == 1 and d[0]["decision"] == "allow" and d[0]["rule"] == "receive" and len(o) == 1 and o[0]["exit_status"] == 0
print("%s/%s exit %s" % (d[0]["decision"], d[0].get("rule"), o[0]["exit_status"]) if d and o else "records: %d" % len(recs))
sys.exit(0 if ok else 1)
PY
); then pass full-restore-audited "$out"; else fail full-restore-audited "$out"; fi

# 2. A stream that carries hostile properties (zfs send -p).
need create-evil zfs create -o mountpoint=/etc/zg-evil -o canmount=on -o setuid=on -o exec=on src/evil
fill /etc/zg-evil 1 evil
zfs snapshot src/evil@e1
if zfs send -p src/evil@e1 | restore_ssh "$RECV src/restore/evil" >"$LOGDIR/evil.out" 2>&1; then
  props=$(zfs get -H -o property,value readonly,canmount,mounted,setuid,exec,mountpoint src/restore/evil | tr '\t' ' ' | tr '\n' ';')
  assert_eq hostile-properties-overridden "readonly on;canmount noauto;mounted no;setuid off;exec off;mountpoint /src/restore/evil;" "$props"
else
  fail hostile-properties-overridden "receive failed: $(head -c 300 "$LOGDIR/evil.out")"
fi

# 3. Raw (encrypted): the source host decrypts with its own key, after the user loads it.
echo 'zg-restore-passphrase' >/root/zg-restore.key
need create-enc zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///root/zg-restore.key src/renc
fill /src/renc 4 enc
zfs snapshot src/renc@r1
if zfs send -w src/renc@r1 | restore_ssh "$RECV src/restore/enc" >"$LOGDIR/raw.out" 2>&1; then
  assert_eq raw-restore-still-encrypted "unavailable" "$(zfs get -H -o value keystatus src/restore/enc)"
  zfs load-key -L file:///root/zg-restore.key src/restore/enc && zfs mount src/restore/enc &&
    assert_same_tree raw-restore-files /src/renc /src/restore/enc
  zfs unmount src/restore/enc 2>/dev/null
else
  fail raw-restore-still-encrypted "receive failed: $(head -c 300 "$LOGDIR/raw.out")"
fi

# 4. Interrupted, then resumed with the token read through the restore key.
fill /src/rsrc 24 two
zfs snapshot src/rsrc@r2
zfs send src/rsrc@r2 | head -c 3000000 | restore_ssh "$RECV src/restore/cut" >"$LOGDIR/cut.out" 2>&1
listed=$(zfs list -H -o name,receive_resume_token -r -t filesystem,volume "$R" | awk -F'\t' '$1 == "src/restore/cut" {print ($2 == "-" ? "no-token" : "token")}')
assert_eq partial-restore-listed-with-token token "$listed"
# What the live check lets through, zfs itself narrows to the resume: a new full stream fails.
if zfs send src/rsrc@r1 | restore_ssh "$RECV src/restore/cut" >"$LOGDIR/cut-full.out" 2>&1; then
  fail partial-refuses-a-full-stream "a full stream was received into the partial restore"
else
  pass partial-refuses-a-full-stream "$(tail -n 1 "$LOGDIR/cut-full.out")"
fi
probe=$(restore_ssh "zfs get -H -p -o name,value receive_resume_token -- src/restore/cut")
token=$(cut -f2 <<<"$probe")
if [ -n "$token" ] && [ "$token" != - ]; then pass resume-token-through-restore-key "${token:0:24}..."; else fail resume-token-through-restore-key "$probe"; fi
if zfs send -t "$token" | restore_ssh "$RECV src/restore/cut" >"$LOGDIR/resume.out" 2>&1; then
  zfs mount src/restore/cut && assert_same_tree resumed-restore-files /src/rsrc /src/restore/cut
  zfs unmount src/restore/cut 2>/dev/null
else
  fail resumed-restore-files "resume failed: $(head -c 300 "$LOGDIR/resume.out")"
fi

# 5. Denials: exit 126, one deny record with the rule, nothing received.
before=$(zfs list -H -o name,guid -r -t all src dst | sort | sha256sum)
deny_restore() {
  local name=$1 cmd=$2 rule=$3 m rc out
  m=$(audit_mark)
  zfs send src/rsrc@r1 | restore_ssh "$cmd" >"$SCRATCH/out" 2>"$SCRATCH/err"
  rc=${PIPESTATUS[1]}
  out=$(audit_py "$m" "$rule" <<'PY'
print(" ".join("%s/%s: %s" % (r.get("decision"), r.get("rule"), r.get("reason")) for r in recs))
# A command that never parsed has no rule: its record names the parse stage instead.
sys.exit(0 if len(recs) == 1 and recs[0]["decision"] == "deny" and recs[0].get("rule", recs[0].get("stage")) == sys.argv[1] else 1)
PY
  )
  local ok=$?
  if [ "$rc" = 126 ] && [ "$ok" = 0 ]; then pass "$name" "$out"; else fail "$name" "exit $rc, records: $out"; fi
}
deny_restore outside-restore-root "$RECV src/data/restored" scope
deny_restore into-restore-root "$RECV src/restore" scope
deny_restore into-existing-dataset "$RECV src/restore/home" restore-target-exists
deny_restore with-rollback "zfs receive -F -s -u -o readonly=on -o canmount=noauto -x mountpoint -- src/restore/new" grammar
deny_restore restore-key-sends "zfs send -- src/rsrc@r1" preset
after=$(zfs list -H -o name,guid -r -t all src dst | sort | sha256sum)
assert_eq denials-changed-nothing "$before" "$after"

zfs unallow -u "$SRC_USER" "$R"
destroy_ds "$R" src/rsrc src/renc src/evil
rm -rf /etc/zg-evil /root/zg-restore.key
zg_finish

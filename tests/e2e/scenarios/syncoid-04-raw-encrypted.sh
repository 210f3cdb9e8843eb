#!/bin/bash
# An encrypted dataset pulled with --sendoptions=w under identity `raw` (raw_only = true): full,
# then incremental; the target never has the key (keystatus unavailable) until the test loads it
# to compare contents. A non-raw pull of the same dataset with the same key fails, and every
# send of it is denied by the raw-only rule in the audit log; so is a direct non-raw send.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_raw
SRC=src/enc DST=dst/enc PLAIN=dst/enc-plain
KEYFILE=$SCRATCH/enc.key

destroy_ds "$DST" "$PLAIN" "$SRC"
printf 'zfs-gatekeeper e2e passphrase\n' >"$KEYFILE"
need create zfs create -o encryption=aes-256-gcm -o keyformat=passphrase -o keylocation="file://$KEYFILE" "$SRC"
fill /src/enc 4 e1
zfs snapshot "$SRC@e1"

if run_syncoid full --sshkey "$KEY" --sendoptions=w --no-privilege-elevation "$SRC_USER@localhost:$SRC" "$DST"; then pass raw-full-pull; else fail raw-full-pull "syncoid failed"; fi
assert_snaps raw-full-snapshots-source "$SRC" "e1 SYNC"
assert_snaps raw-full-snapshots-target "$DST" "e1 SYNC"
assert_same_snaps raw-full-guids "$SRC" "$DST"
assert_eq target-encryption "aes-256-gcm $DST unavailable" "$(zfs get -H -o value encryption,encryptionroot,keystatus "$DST" | tr '\n' ' ' | sed 's/ $//')"

fill /src/enc 2 e2
zfs snapshot "$SRC@e2"
sleep 1
mark=$(audit_mark)
if run_syncoid incremental --sshkey "$KEY" --sendoptions=w --no-privilege-elevation "$SRC_USER@localhost:$SRC" "$DST"; then pass raw-incremental-pull; else fail raw-incremental-pull "syncoid failed"; fi
assert_snaps raw-incremental-snapshots-source "$SRC" "e1 e2 SYNC"
assert_snaps raw-incremental-snapshots-target "$DST" "e1 e2 SYNC"
assert_same_snaps raw-incremental-guids "$SRC" "$DST"
out=$(audit_py "$mark" <<'PY'
sess, problems = sessions(recs)
sends = [s for s in sess if s[0].get("rule", "").startswith("send")]
for d, o in sends:
    if "-w" not in d["argv"][0]:
        problems.append("send without -w ran: %r" % d["argv"][0])
if not any(d.get("rule") == "send.incremental" for d, o in sends):
    problems.append("no raw incremental send")
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("%d sessions, %d sends all -w" % (len(sess), len(sends))); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass raw-audit "$out" || fail raw-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

# Contents: the target's copy opens with the source's key.
if zfs load-key -L "file://$KEYFILE" "$DST" && zfs mount "$DST"; then
  assert_same_tree raw-contents /src/enc /dst/enc
else
  fail raw-contents "cannot load the key on $DST"
fi

# Not raw: same key, same dataset, no -w. syncoid must fail and receive nothing.
before=$(snaps "$SRC")
mark=$(audit_mark)
if run_syncoid plain --sshkey "$KEY" --no-privilege-elevation "$SRC_USER@localhost:$SRC" "$PLAIN"; then
  fail non-raw-pull-fails "syncoid succeeded"
else
  pass non-raw-pull-fails
fi
check non-raw-nothing-received bash -c "! zfs list -H '$PLAIN' >/dev/null 2>&1"
out=$(audit_py "$mark" <<'PY'
sess, problems = sessions(recs)
sends = [s[0] for s in sess if " zfs send " in " " + s[0]["command"] or s[0]["command"].startswith("zfs send")]
if not sends:
    problems.append("no send reached the gatekeeper")
for d in sends:
    if d["decision"] != "deny" or d.get("rule") != "raw-only":
        problems.append("send %r: decision %s rule %s" % (d["command"], d["decision"], d.get("rule")))
print("%d sends, all denied by raw-only" % len(sends)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass non-raw-denied-in-audit "$out" || fail non-raw-denied-in-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"
# syncoid created (and, having failed, kept) one more sync snapshot; nothing was destroyed.
after=$(snaps "$SRC")
case "$after" in "$before"*) pass non-raw-source-intact "$after" ;; *) fail non-raw-source-intact "before [$before] after [$after]" ;; esac

# A direct non-raw send over ssh with the raw key.
snap=$(zfs list -H -d 1 -t snapshot -o name -s createtxg "$SRC" | head -n 1 | sed 's/^[^@]*@//')
mark=$(audit_mark)
gk_ssh raw " zfs send  'src/enc'@'$snap' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null" >/dev/null 2>&1
assert_eq direct-non-raw-send-exit 126 "$?"
out=$(audit_py "$mark" <<'PY'
print(" ".join("%s/%s" % (r["decision"], r.get("rule")) for r in recs))
sys.exit(0 if len(recs) == 1 and recs[0]["decision"] == "deny" and recs[0]["rule"] == "raw-only" else 1)
PY
) && pass direct-non-raw-send-audit "$out" || fail direct-non-raw-send-audit "records: $out"
gk_ssh raw "zfs send -nvP 'src/enc@$snap'" >/dev/null 2>&1
assert_eq non-raw-estimate-exit 126 "$?"

zfs unload-key "$DST" 2>/dev/null
destroy_ds "$DST" "$PLAIN" "$SRC"
zg_finish

#!/bin/bash
# Interrupted transfer and resume tokens.
#  1. A pull slowed with --source-bwlimit=1m (mbuffer -R 1m on the source) is cut by killing the
#     ssh session that carries the stream; the target keeps a receive_resume_token.
#  2. The next syncoid run sends `zfs send -t <token>` (and its -nvP estimate) through the
#     gatekeeper: decoded, scope-checked, the toguid tied to the live snapshot by the pre-flight,
#     run; the transfer completes and both sides are equal.
#  3. Forged tokens, sent with the backup key over ssh, exit 126 with one deny record each:
#     a real token of src/secret (outside the identity: rule scope), and the same token re-encoded
#     with its toname changed to src/resume@r1 (in scope, valid checksum and zlib, but toguid is
#     src/secret@r1's guid: the pre-flight denies it; without it libzfs would send src/secret).
#  4. An incremental token's fromguid: a real token of an interrupted `-i r1 r2` receive is
#     allowed (its fromguid is src/resume@r1, found below the identity's dataset by the live
#     check); the same token with fromguid changed to src/secret@r1's guid, or to a guid no
#     snapshot has, is denied by the live check. Real zfs shows why: it resolves the guid
#     across the pool (src/secret@r1 is found: "Invalid cross-device link"; the unknown one
#     is not: "no longer exists"), an oracle for the backup key without the check.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/resume DST=dst/resume SECRET=src/secret   # equal name lengths: see the forgery below

destroy_ds "$DST" dst/secretpart dst/fromguid "$SRC" "$SECRET"
need create zfs create "$SRC"
fill /src/resume 24 big
zfs snapshot "$SRC@r1"

# 1. Start the slow pull, wait until the data send runs, then kill the ssh session carrying it.
mark=$(audit_mark)
log=$LOGDIR/interrupted.log
syncoid --sshkey "$KEY" --no-privilege-elevation --source-bwlimit=1m "$SRC_USER@localhost:$SRC" "$DST" >"$log" 2>&1 &
spid=$!
started=
for _ in $(seq 1 120); do
  if audit_py "$mark" <<'PY'
sys.exit(0 if any(r.get("rule") == "send.full" and r.get("decision") == "allow" and "'src/resume'@'r1'" in r["command"] for r in recs) else 1)
PY
  then started=1; break; fi
  sleep 1
done
[ -n "$started" ] || { kill "$spid" 2>/dev/null; wait "$spid"; cat "$log"; need send-started false; }
sleep 8
victim=
for p in $(descendants "$spid"); do
  args=$(ps -o args= -p "$p" 2>/dev/null) || continue
  case $args in ssh\ *zfs\ send*) case $args in *-nvP*) ;; *) victim=$p ;; esac ;; esac
done
if [ -n "$victim" ]; then
  note "killing ssh session pid $victim: $(ps -o args= -p "$victim" | cut -c1-160)"
  kill -TERM "$victim"
  pass found-stream-session
else
  fail found-stream-session "no ssh process carrying the send below syncoid pid $spid"
  ps -ef --forest | sed 's/^/#   /' | tail -n 30
fi
wait "$spid"
rc=$?
echo "rc=$rc" >>"$log"
if [ "$rc" != 0 ]; then pass interrupted-pull-fails "syncoid rc=$rc"; else fail interrupted-pull-fails "syncoid finished despite the kill"; fi
token=$(zfs get -H -o value receive_resume_token "$DST" 2>/dev/null)
if [ -n "$token" ] && [ "$token" != - ]; then pass resume-token-left "${token:0:24}... (${#token} chars)"; else fail resume-token-left "no receive_resume_token on $DST"; fi
printf '%s\n' "$token" >"$LOGDIR/interrupted.token"
# The gatekeeper saw the client go away and still wrote its outcome record.
for _ in $(seq 1 20); do
  out=$(audit_py "$mark" <<'PY'
sess, _ = sessions(recs)
s = [s for s in sess if s[0].get("rule") == "send.full" and s[0]["decision"] == "allow"]
if not s or s[-1][1] is None:
    sys.exit(2)
o = s[-1][1]
print("exit_status=%s client_hung_up=%s supervisor_signal=%s stages=%s" % (o["exit_status"], o["client_hung_up"], o.get("supervisor_signal"), [st.get("exit_code", "sig%s" % st.get("signal")) for st in o["stages"]]))
sys.exit(0 if o["exit_status"] != 0 and (o["client_hung_up"] or o.get("supervisor_signal")) else 1)
PY
  ); rc=$?
  [ "$rc" = 2 ] || break
  sleep 1
done
if [ "$rc" = 0 ]; then pass interrupted-outcome "$out"; else fail interrupted-outcome "rc=$rc $out"; fi

# 2. Rerun at full speed: resumes with the token, then syncs the rest.
sleep 1
mark=$(audit_mark)
if run_syncoid resumed --sshkey "$KEY" --no-privilege-elevation "$SRC_USER@localhost:$SRC" "$DST"; then pass resumed-pull; else fail resumed-pull "syncoid failed"; fi
assert_eq token-consumed "-" "$(zfs get -H -o value receive_resume_token "$DST")"
# The source prunes the interrupted run's sync snapshot. The target received it as an
# intermediate of `-I r1 <new sync>` after the resume, but syncoid prunes the target from its
# listing taken before that send, so it stays there until the next run.
assert_snaps resumed-source-snapshots "$SRC" "r1 SYNC"
assert_snaps resumed-target-snapshots "$DST" "r1 SYNC SYNC"
assert_target_has_source_snaps resumed-guids "$SRC" "$DST"
assert_same_tree resumed-contents /src/resume /dst/resume
out=$(audit_py "$mark" "$token" <<'PY'
token = sys.argv[1]
sess, problems = sessions(recs)
for rule in ("send.estimate.resume", "send.resume"):
    m = [s for s in sess if s[0].get("rule") == rule]
    if len(m) != 1:
        problems.append("%d %s sessions" % (len(m), rule))
        continue
    d, o = m[0]
    if ("-t " + token) not in d["command"] or token not in d["argv"][0]:
        problems.append("%s does not carry the interrupted receive's token" % rule)
    if o is None or o["exit_status"] != 0:
        problems.append("%s did not complete" % rule)
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("resume estimate and send allowed and completed"); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass resume-audit "$out" || fail resume-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

# 3. Forged tokens. A real one first, from an interrupted receive of a dataset the identity may
# not read (zbackup's delegation covers all of src: only the gatekeeper stands in the way).
need secret zfs create "$SECRET"
fill /src/secret 2 secret
zfs snapshot "$SECRET@r1"
zfs send "$SECRET@r1" | head -c 400000 | zfs receive -s -u dst/secretpart 2>/dev/null
secret_token=$(zfs get -H -o value receive_resume_token dst/secretpart)
need secret-token test -n "$secret_token" -a "$secret_token" != -

# deny_one CHECK COMMAND RULE: the command over ssh exits 126 with exactly one deny record of RULE.
deny_one() {
  local name=$1 cmd=$2 rule=$3 m rc out
  m=$(audit_mark)
  gk_ssh backup "$cmd" >"$SCRATCH/out" 2>"$SCRATCH/err"
  rc=$?
  out=$(audit_py "$m" "$rule" <<'PY'
print(" ".join("%s/%s: %s" % (r.get("decision"), r.get("rule"), r.get("reason")) for r in recs))
sys.exit(0 if len(recs) == 1 and recs[0]["event"] == "decision" and recs[0]["decision"] == "deny" and recs[0].get("rule") == sys.argv[1] else 1)
PY
  )
  local ok=$?
  if [ "$rc" = 126 ] && [ "$ok" = 0 ] && [ ! -s "$SCRATCH/out" ]; then pass "$name" "$out"; else fail "$name" "exit $rc, records: $out"; fi
}
deny_one forged-scope-token "zfs send -t $secret_token" scope
deny_one forged-scope-token-pipeline " zfs send  -t $secret_token | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null" scope
deny_one forged-scope-token-estimate "zfs send -nvP -t $secret_token" scope

# Re-encode the token with toname src/resume@r1: same length, so only the name bytes change;
# new zlib body, new fletcher4 word, as OpenZFS writes them.
forged=$(python3 - "$secret_token" "$SECRET@r1" "$SRC@r1" <<'PY'
import struct, sys, zlib
token, old, new = sys.argv[1], sys.argv[2].encode(), sys.argv[3].encode()
version, _, size, body = token.split("-")
packed = zlib.decompress(bytes.fromhex(body))
assert len(packed) == int(size, 16) and packed.count(old) == 1 and len(old) == len(new)
packed = packed.replace(old, new)
comp = zlib.compress(packed)
cksum = sum(struct.unpack_from("<I", comp, i)[0] for i in range(0, len(comp) // 4 * 4, 4)) % (1 << 64)
print("%s-%x-%x-%s" % (version, cksum, len(packed), comp.hex()))
PY
)
need forge test -n "$forged"
# Real OpenZFS takes the forgery at face value (toname src/resume@r1), and as the delegated user
# it would send the snapshot with that guid: src/secret@r1.
zfs send -nvP -t "$forged" >"$LOGDIR/forged-token.nvP" 2>&1
if grep -q "toname = $SRC@r1" "$LOGDIR/forged-token.nvP"; then pass forged-token-is-valid-for-zfs "zfs send -nvP -t decodes it, toname $SRC@r1"; else fail forged-token-is-valid-for-zfs "$(head -c 300 "$LOGDIR/forged-token.nvP")"; fi
secret_guid=$(zfs get -H -p -o value guid "$SECRET@r1")
if grep -q "toguid = 0x$(printf '%x' "$secret_guid")" "$LOGDIR/forged-token.nvP"; then pass forged-token-carries-secret-guid; else fail forged-token-carries-secret-guid "toguid is not $secret_guid"; fi
deny_one forged-guid-token "zfs send -t $forged" resume-token-preflight
deny_one forged-guid-token-pipeline " zfs send  -t $forged | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null" resume-token-preflight
deny_one forged-guid-token-estimate "zfs send -nvP -t $forged" resume-token-preflight

# 4. fromguid. A real incremental token: dst/fromguid holds r1 and an interrupted `-i r1 r2`.
zfs send "$SRC@r1" | zfs receive -u dst/fromguid
need fromguid-r1 zfs list -H -o name dst/fromguid@r1 >/dev/null
fill /src/resume 8 more
zfs snapshot "$SRC@r2"
zfs send -i "$SRC@r1" "$SRC@r2" | head -c 2000000 | zfs receive -s -u dst/fromguid 2>/dev/null
incr_token=$(zfs get -H -o value receive_resume_token dst/fromguid)
need incremental-token test -n "$incr_token" -a "$incr_token" != -
m=$(audit_mark)
if gk_ssh backup "zfs send -nvP -t $incr_token" >"$SCRATCH/out" 2>"$SCRATCH/err"; then
  out=$(audit_py "$m" <<'PY'
d = [r for r in recs if r["event"] == "decision"]
sys.exit(0 if len(d) == 1 and d[0]["decision"] == "allow" and d[0]["rule"] == "send.estimate.resume" else 1)
PY
  ) && pass fromguid-in-scope-allowed "$(tail -n 1 "$SCRATCH/out")" || fail fromguid-in-scope-allowed "records: $out"
else
  fail fromguid-in-scope-allowed "exit $?: $(head -c 300 "$SCRATCH/err")"
fi
r1_guid=$(zfs get -H -p -o value guid "$SRC@r1")
# with_fromguid GUID: the real incremental token with its fromguid replaced, re-encoded the way
# OpenZFS writes tokens (new zlib body, new fletcher4 word).
with_fromguid() {
  python3 - "$incr_token" "$r1_guid" "$1" <<'PY'
import struct, sys, zlib
token, old, new = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
version, _, size, body = token.split("-")
packed = zlib.decompress(bytes.fromhex(body))
old_b, new_b = struct.pack("<Q", old), struct.pack("<Q", new)
assert len(packed) == int(size, 16) and packed.count(old_b) == 1
packed = packed.replace(old_b, new_b)
comp = zlib.compress(packed)
cksum = sum(struct.unpack_from("<I", comp, i)[0] for i in range(0, len(comp) // 4 * 4, 4)) % (1 << 64)
print("%s-%x-%x-%s" % (version, cksum, len(packed), comp.hex()))
PY
}
forged_from=$(with_fromguid "$secret_guid")
unknown_from=$(with_fromguid 81985529216486895)   # 0x123456789abcdef: no snapshot has it
need forge-fromguid test -n "$forged_from" -a -n "$unknown_from"
zfs send -nvP -t "$forged_from" >"$LOGDIR/forged-fromguid.nvP" 2>&1
zfs send -nvP -t "$unknown_from" >"$LOGDIR/unknown-fromguid.nvP" 2>&1
if grep -q "no longer exists" "$LOGDIR/unknown-fromguid.nvP" && ! grep -q "no longer exists" "$LOGDIR/forged-fromguid.nvP"; then
  pass zfs-resolves-fromguid-across-the-pool "$(grep -m1 -i "cannot" "$LOGDIR/forged-fromguid.nvP")"
else
  fail zfs-resolves-fromguid-across-the-pool "$(grep -i -m1 cannot "$LOGDIR/forged-fromguid.nvP") / $(grep -i -m1 cannot "$LOGDIR/unknown-fromguid.nvP")"
fi
deny_one forged-fromguid-estimate "zfs send -nvP -t $forged_from" resume-token-preflight
deny_one forged-fromguid-send "zfs send -t $forged_from" resume-token-preflight
deny_one unknown-fromguid-estimate "zfs send -nvP -t $unknown_from" resume-token-preflight

destroy_ds "$DST" dst/secretpart dst/fromguid "$SRC" "$SECRET"
zg_finish

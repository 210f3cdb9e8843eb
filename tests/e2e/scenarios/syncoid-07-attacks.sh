#!/bin/bash
# Attacks over real ssh with the backup key of identity `corpus` (the test identity
# tests/corpus/reject.txt assumes: tank/data and 'tank/my data', syncoid-pull, destroy allowed,
# every compressor, no socat). Pool `tank` holds those datasets, their look-alikes and
# snapshots, with a deliberately broad `zfs allow` for zbackup: only the gatekeeper stands between
# the key and the data.
#
# Sent: ZG_ATTACKS_PER_GROUP (default 3; 0 = all) entries of every CLASS/LAYER group of the reject
# corpus that ssh can carry (no NUL, not empty, at most 100000 bytes), plus canary attacks that
# would create /tmp/pwned. Each must exit 126 with empty stdout and the one client line on stderr,
# and add exactly one audit record: a deny decision with the command byte for byte. Afterwards:
# no canary, every dataset/snapshot/bookmark (name and guid) still there, no outcome record.
source "$(dirname "$0")/lib.sh"
zg_setup
CORPUS=$ZG_SCENARIO_DIR/reject.txt
need corpus-present test -s "$CORPUS"

# The tank pool: the corpus's in-scope datasets and their look-alikes.
if ! zpool list -H tank >/dev/null 2>&1; then
  truncate -s 1G "$VDEV/tank.img"
  need tank-pool zpool create -f -o ashift=12 -O mountpoint=/tank tank "$VDEV/tank.img"
fi
for ds in tank/data tank/data/child "tank/my data" tank/database tank/datax tank/other; do
  zfs list -H "$ds" >/dev/null 2>&1 || need "create-$ds" zfs create "$ds"
  echo "$ds" >"/$ds/file"
done
for s in autosnap_2024-01-01_00:00:01_daily autosnap_2024-01-02_00:00:01_daily \
         syncoid_vm_2026-11-27:02:46:41-GMT00:00 syncoid_vm_2026-11-27:02:46:43-GMT00:00 s1; do
  zfs list -H "tank@$s" >/dev/null 2>&1 || zfs snapshot -r "tank@$s"
done
zfs bookmark tank/data@s1 tank/data#s1 2>/dev/null
zfs hold keep tank/data@s1 2>/dev/null
zfs allow -u "$SRC_USER" create,destroy,mount,rename,rollback,receive,send,snapshot,hold,release,bookmark,userprop,clone,promote tank
rm -f /tmp/pwned

state() { zfs list -H -t all -o name,guid -s name; zfs list -H -t snapshot -o name -r tank | xargs -d '\n' zfs holds -H; }
state >"$SCRATCH/before"
mark=$(audit_mark)

ctl=$SCRATCH/mux
need mux-master ssh -i /root/.ssh/zg_corpus -o ControlMaster=yes -o ControlPath="$ctl" -o ControlPersist=600 -fN "$SRC_USER@localhost"

python3 - "$CORPUS" "$ctl" "${ZG_ATTACKS_PER_GROUP:-3}" "$LOGDIR/attacks.txt" <<'PY'
import json, os, re, subprocess, sys
sys.path.insert(0, "/run/zg-e2e")
from zgaudit import lines, AUDIT

corpus, ctl, per_group, report = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
MAX_RECORDED = 8192   # audit_record.hpp max_recorded_command: kept whole up to this size,
END_BYTES = 4096      # else its first and last recorded_end_bytes (command, command_tail)

def unescape(s):
    out, i = bytearray(), 0
    while i < len(s):
        if s[i] == "\\":
            if s[i + 1] == "\\":
                out.append(0x5C); i += 2; continue
            assert s[i + 1] == "x", s
            out.append(int(s[i + 2:i + 4], 16)); i += 4; continue
        out += s[i].encode("ascii"); i += 1
    return bytes(out)

groups, order = {}, []
for line in open(corpus, encoding="ascii"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    cls, layer, cmd = line.split("\t", 2)
    if cmd.startswith("@repeat:"):
        _, n, rest = cmd.split(":", 2)
        b = unescape(rest) * int(n)
    else:
        b = unescape(cmd)
    if not b or b"\0" in b or len(b) > 100000:
        continue                                   # ssh cannot carry these
    key = (cls, layer)
    if key not in groups:
        groups[key] = []; order.append(key)
    groups[key].append(b)

attacks = []
for key in order:
    g = groups[key]
    if per_group and len(g) > per_group:         # spread over the group: first, middle, last...
        idx = sorted({round(i * (len(g) - 1) / (per_group - 1)) for i in range(per_group)}) if per_group > 1 else [0]
        g = [g[i] for i in idx]
    attacks += [("%s/%s" % key, b) for b in g]
corpus_count = len(attacks)

canary = [
    b"zfs list; touch /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data' && touch /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data' || touch /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data'\ntouch /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data' > /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data' 2>/tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data' & touch /tmp/pwned",
    b"zfs get -H syncoid:sync 'tank/data'$(touch /tmp/pwned)",
    b"zfs get -H syncoid:sync `touch /tmp/pwned`",
    b"touch /tmp/pwned",
    b"sudo touch /tmp/pwned",
    b"/usr/bin/touch /tmp/pwned",
    b"exit; touch /tmp/pwned",
    b"echo -n > /tmp/pwned",
    b"command -v lzop; touch /tmp/pwned",
    b"() { :; }; touch /tmp/pwned",
    b" zfs send  'tank/data'@'s1' | touch /tmp/pwned",
    b" zfs send  'tank/data'@'s1' | lzop  | mbuffer  -q -s 128k -m 16M -o /tmp/pwned 2>/dev/null",
    b" zfs send  'tank/data'@'s1' | lzop  | mbuffer  -q -s 128k -m 16M 2>/tmp/pwned",
    b"zfs program tank /tmp/pwned",
    b"zfs set mountpoint=/tmp/pwned tank/data",
    b"zfs create tank/data/pwned",
    b"zfs snapshot 'tank/data'@pwned",
    b"zfs destroy -r tank",
    b"zfs list; rm -rf /",
]
attacks += [("canary", b) for b in canary]

base = ["ssh", "-i", "/root/.ssh/zg_corpus", "-o", "ControlMaster=no", "-o", "ControlPath=" + ctl, "zbackup@localhost"]
failures, rep = 0, open(report, "w")
for n, (group, cmd) in enumerate(attacks, 1):
    before = len(lines())
    r = subprocess.run([a.encode() for a in base] + [cmd], stdin=subprocess.DEVNULL,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
    new = lines(before)
    problems = []
    if r.returncode != 126:
        problems.append("exit %d" % r.returncode)
    if r.stdout:
        problems.append("stdout %r" % r.stdout[:80])
    if r.stderr != b"zfs-gatekeeper: command not permitted\n":
        problems.append("stderr %r" % r.stderr[:120])
    rec = None
    if len(new) != 1:
        problems.append("%d audit records" % len(new))
    else:
        try:
            rec = json.loads(new[0])
        except ValueError as e:
            problems.append("record is not JSON: %s" % e)
    if rec is not None:
        if rec.get("event") != "decision" or rec.get("decision") != "deny":
            problems.append("record %s/%s" % (rec.get("event"), rec.get("decision")))
        if rec.get("identity") != "corpus":
            problems.append("identity %r" % rec.get("identity"))
        head = cmd if len(cmd) <= MAX_RECORDED else cmd[:END_BYTES]
        tail = None if len(cmd) <= MAX_RECORDED else cmd[-END_BYTES:].decode("latin-1")
        if (rec.get("command") != head.decode("latin-1") or rec.get("command_tail") != tail
                or rec.get("command_bytes") != len(cmd)):
            problems.append("recorded command differs from the bytes sent")
        if rec.get("command_truncated") != (len(cmd) > MAX_RECORDED):
            problems.append("command_truncated %r" % rec.get("command_truncated"))
    where = rec and "%s: %s" % (rec.get("rule", rec.get("stage")), (rec.get("reason") or "")[:70])
    shown = cmd[:90].decode("latin-1").encode("unicode_escape").decode("ascii")
    rep.write("%-4d %-30s %s  [%s]  %s\n" % (n, group, "ok" if not problems else "BAD " + "; ".join(problems), where, shown))
    if problems:
        failures += 1
        print("FAIL %s:attack-%d: %s: %s (sent %s)" % (os.environ.get("SCENARIO", "attacks"), n, group, "; ".join(problems), shown))
rep.close()
print("PASS %s:attacks-denied (%d corpus strings from %d groups + %d canary attacks, each exit 126 with one deny record)"
      % (os.environ.get("SCENARIO", "attacks"), corpus_count, len(order), len(canary)) if failures == 0 else
      "FAIL %s:attacks-denied: %d of %d attacks misbehaved (see results/%s/attacks.txt)" % (os.environ.get("SCENARIO", "attacks"), failures, len(attacks), os.environ.get("SCENARIO", "attacks")))
open(report + ".count", "w").write("%d %d\n" % (corpus_count, len(canary)))
PY
ssh -o ControlPath="$ctl" -O exit "$SRC_USER@localhost" 2>/dev/null

check no-canary test ! -e /tmp/pwned
state >"$SCRATCH/after"
if cmp -s "$SCRATCH/before" "$SCRATCH/after"; then
  pass nothing-lost "$(grep -c . "$SCRATCH/before") datasets, snapshots, bookmarks and holds unchanged (name, guid)"
else
  fail nothing-lost "$(diff "$SCRATCH/before" "$SCRATCH/after" | head -n 5 | tr '\n' ' ')"
fi
read -r ncorpus _ <"$LOGDIR/attacks.txt.count" 2>/dev/null
[ "${ncorpus:-0}" -ge 40 ] && pass at-least-40-corpus-strings "$ncorpus" || fail at-least-40-corpus-strings "only ${ncorpus:-0}"
out=$(audit_py "$mark" <<'PY'
ev = {}
for r in recs:
    ev[(r["event"], r.get("decision"))] = ev.get((r["event"], r.get("decision")), 0) + 1
print(ev)
sys.exit(0 if set(ev) == {("decision", "deny")} else 1)
PY
) && pass only-deny-records "$out" || fail only-deny-records "$out"
zfs unallow -u "$SRC_USER" tank
zg_finish

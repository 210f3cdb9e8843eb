#!/bin/bash
# Audit log: one decision and one outcome record per allowed session (builtins included: the
# gatekeeper writes an outcome after answering them), exactly one decision and no outcome per
# denied session, every line one valid JSON object with the documented fields. First a known
# sequence of sessions is checked record by record, then the whole log of this boot (every
# scenario before this one) is checked as a whole.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/audit DST=dst/audit

destroy_ds "$DST" "$SRC"
need create zfs create "$SRC"
fill /src/audit 1 a
zfs snapshot "$SRC@a1"

# Known sessions: command, expected decision, expected exit status seen by ssh.
mark=$(audit_mark)
expect=$SCRATCH/expect
: >"$expect"
session() {
  local cmd=$1 want=$2 status=$3 rc
  gk_ssh backup "$cmd" >/dev/null 2>&1
  rc=$?
  printf '%s\t%s\t%s\t%s\n' "$want" "$status" "$rc" "$cmd" >>"$expect"
}
session 'exit' allow 0
session 'echo -n' allow 0
session 'command -v lzop' allow 0
session 'command -v socat' allow 1
session "sudo zfs get -H syncoid:sync 'src/audit'" allow 0
session "zfs get -Hpd 1 -t snapshot guid,creation 'src/audit'" allow 0
session "zfs get -H syncoid:sync 'src/audit/missing'" allow 1
session 'zfs list; rm -rf /' deny 126
session "zfs get -H syncoid:sync 'src/data'x" deny 126
session "zfs get -H syncoid:sync 'src/other'" deny 126
session "zfs send -nvP 'src/audit@a1'" allow 0
session " zfs send  'src/audit'@'a1' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null" allow 0
session '' deny 126

out=$(audit_py "$mark" "$expect" <<'PY'
exp = [l.rstrip("\n").split("\t", 3) for l in open(sys.argv[1])]
sess, problems = sessions(recs)
for r in recs:
    problems += shape_problems(r)
if len(sess) != len(exp):
    problems.append("%d sessions recorded, %d made" % (len(sess), len(exp)))
for (d, o), (want, status, rc, cmd) in zip(sess, exp):
    if d["command"] != cmd:
        problems.append("session order: recorded %r, sent %r" % (d["command"], cmd))
        break
    if d["decision"] != want:
        problems.append("%r: %s, expected %s" % (cmd, d["decision"], want))
    if rc != status:
        problems.append("%r: ssh exit %s, expected %s" % (cmd, rc, status))
    if want == "allow":
        if o is None:
            problems.append("%r: no outcome record" % cmd)
        elif str(o["exit_status"]) != status:
            problems.append("%r: outcome exit_status %s, expected %s" % (cmd, o["exit_status"], status))
        elif d["client"]["address"] not in ("127.0.0.1", "::1") or not isinstance(d["client"]["port"], int):
            problems.append("%r: client %r" % (cmd, d["client"]))
    elif o is not None:
        problems.append("%r: denied but has an outcome" % cmd)
    if d["identity"] != "backup":
        problems.append("identity %r" % d["identity"])
n_out = sum(1 for r in recs if r["event"] == "outcome")
print("%d sessions, %d records (%d outcomes)" % (len(sess), len(recs), n_out)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass known-sessions "$out" || fail known-sessions "$(echo "$out" | grep PROBLEM | head -n 4 | tr '\n' ' ')"

# A pull, so the log certainly holds a multi-stage pipeline and a prune.
run_syncoid pull --sshkey "$KEY" "$SRC_USER@localhost:$SRC" "$DST" && pass pull || fail pull "syncoid failed"

# The whole log of this boot.
cp "$AUDIT" "$LOGDIR/audit.jsonl" 2>/dev/null
out=$(audit_py 0 <<'PY'
problems = []
try:
    allrecs = records(0)
except Exception as e:
    print("PROBLEM a line is not a JSON object: %s" % e); sys.exit(1)
for r in allrecs:
    problems += shape_problems(r)
sess, p2 = sessions(allrecs)
problems += p2
allowed = sum(1 for d, o in sess if d["decision"] == "allow")
denied = len(sess) - allowed
with_outcome = sum(1 for d, o in sess if o is not None)
if with_outcome != allowed:
    problems.append("%d allowed sessions, %d outcomes" % (allowed, with_outcome))
print("%d records: %d sessions, %d allowed each with one outcome, %d denied with none" % (len(allrecs), len(sess), allowed, denied))
[print("PROBLEM " + p) for p in problems[:10]]
sys.exit(1 if problems else 0)
PY
) && pass whole-log "$out" || fail whole-log "$(echo "$out" | grep PROBLEM | head -n 4 | tr '\n' ' ')"
# What an operator's timer runs (zfs-gatekeeper audit-report, issue 15): on this boot's real log,
# after the attack scenarios, it alarms (exit 1), its per-identity denials add up to the deny
# records, and the injection made above is among them, decoded; a forged line is an alarm by itself.
report=$SCRATCH/report.json
"$GK" audit-report "$AUDIT" --json >"$report" 2>"$SCRATCH/report.err"
rc=$?
out=$(python3 - "$report" "$AUDIT" "$rc" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
recs = [json.loads(l) for l in open(sys.argv[2])]
denied = sum(1 for r in recs if r.get("event") == "decision" and r.get("decision") == "deny")
allowed = sum(1 for r in recs if r.get("event") == "decision" and r.get("decision") == "allow")
problems = []
if sys.argv[3] != "1":
    problems.append("exit %s, expected 1 (denials in the window)" % sys.argv[3])
if rep["denied"] != denied or sum(p["denied"] for p in rep["peers"]) != denied:
    problems.append("report denied %s, log holds %d deny records" % (rep["denied"], denied))
if sum(p["allowed"] for p in rep["peers"]) != allowed:
    problems.append("report allowed %d, log holds %d" % (sum(p["allowed"] for p in rep["peers"]), allowed))
if rep["bad_records"]:
    problems.append("bad records in a clean log: %r" % rep["bad_records"][:2])
listed = {(p["identity"], d["command"]) for p in rep["peers"] for d in p["denials"]}
if ("backup", "zfs list; rm -rf /") not in listed:
    problems.append("the injection is not among the backup identity's denials")
if sum(d["count"] for p in rep["peers"] for d in p["denials"]) != denied:
    problems.append("de-duplicated denials do not count every deny record")
print("exit %s; %d allowed, %d denied in %d distinct commands over %d identity/client pairs"
      % (sys.argv[3], allowed, denied, len(listed), len(rep["peers"])))
[print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass audit-report "$out" || fail audit-report "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"
jq -c 'select(.decision != "deny")' "$AUDIT" >"$SCRATCH/allowed-only.jsonl"
"$GK" audit-report "$SCRATCH/allowed-only.jsonl" >"$SCRATCH/allowed-only.txt" 2>&1
assert_eq audit-report-quiet-without-denials 0 "$?"
{ cat "$SCRATCH/allowed-only.jsonl"; echo '{"event":"decision","decision":"allow"'; } >"$SCRATCH/torn.jsonl"
"$GK" audit-report "$SCRATCH/torn.jsonl" >"$SCRATCH/torn.txt" 2>&1
assert_eq audit-report-torn-line-alarms 1 "$?"
# jq agrees that every line is JSON.
if jq -e . "$AUDIT" >/dev/null 2>&1; then pass jq-parses-every-line "$(wc -l <"$AUDIT") lines"; else fail jq-parses-every-line "jq rejects $AUDIT"; fi
# The audit file: created by the gatekeeper as zbackup, 0600, in a 0700 directory.
assert_eq audit-file-mode "$SRC_USER 600 $SRC_USER 700" "$(stat -c '%U %a' "$AUDIT") $(stat -c '%U %a' "$AUDIT_DIR")"

destroy_ds "$DST" "$SRC"
zg_finish

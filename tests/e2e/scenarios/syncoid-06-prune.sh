#!/bin/bash
# Sync-snapshot pruning on the source destroys only this host's `syncoid_*` snapshots. The source
# starts with 12 stale sync snapshots of this host (syncoid prunes them in two `;` chains: 11 + 1),
# sanoid-style and manual snapshots, another host's sync snapshot and names that merely contain
# "syncoid". Three pulls later exactly the stale and superseded sync snapshots are gone, each by an
# allowed single-snapshot destroy, and a hand-made chain that slips a non-syncoid snapshot in
# among sync snapshots is refused as a whole.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/prune DST=dst/prune
H=$HOSTNAME_

destroy_ds "$DST" "$SRC"
need create zfs create "$SRC"
fill /src/prune 2 p0
KEEP="autosnap_2020-01-01_00:00:01_daily manual-1 syncoid_otherhost_2020-01-01:00:00:00-GMT00:00 keep-syncoid_${H}_x"
for s in $KEEP; do zfs snapshot "$SRC@$s"; done
STALE=
for i in $(seq -w 0 11); do
  s="syncoid_${H}_2020-01-01:00:00:$i-GMT00:00"
  zfs snapshot "$SRC@$s"
  STALE="$STALE $s"
done
zfs snapshot "$SRC@hourly-after-stale"
KEEP="$KEEP hourly-after-stale"

mark=$(audit_mark)
if run_syncoid first --sshkey "$KEY" "$SRC_USER@localhost:$SRC" "$DST"; then pass first-pull; else fail first-pull "syncoid failed"; fi
assert_snaps first-source-snapshots "$SRC" "$KEEP SYNC"
sync1=$(sync_snaps "$SRC")
out=$(audit_py "$mark" "$STALE" <<'PY'
stale = sys.argv[1].split()
sess, problems = sessions(recs)
destroys = [s for s in sess if s[0].get("rule") == "destroy"]
chains = [len(s[0]["argv"]) for s in destroys]
if sorted(chains) != [1, 11]:
    problems.append("destroy chains of %s snapshots, expected 11 and 1" % chains)
gone = [argv[-1].split("@", 1)[1] for d, o in destroys for argv in d["argv"]]
if sorted(gone) != sorted(stale):
    problems.append("destroyed %s" % gone)
for d, o in destroys:
    if o is None or o["exit_status"] != 0 or any(st.get("exit_code") != 0 for st in o["stages"]):
        problems.append("destroy chain did not run cleanly")
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("%d destroys in chains of %s" % (len(gone), chains)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass first-prune-audit "$out" || fail first-prune-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

fill /src/prune 1 p1
zfs snapshot "$SRC@manual-2"
sleep 1
if run_syncoid second --sshkey "$KEY" --no-privilege-elevation "$SRC_USER@localhost:$SRC" "$DST"; then pass second-pull; else fail second-pull "syncoid failed"; fi
sleep 1
if run_syncoid third --sshkey "$KEY" "$SRC_USER@localhost:$SRC" "$DST"; then pass third-pull; else fail third-pull "syncoid failed"; fi
assert_snaps final-source-snapshots "$SRC" "$KEEP manual-2 SYNC"
# The target prunes its own copies locally (no gatekeeper involved); the stale ones arrived with
# the first pull's -I stream and went with the second.
assert_snaps final-target-snapshots "$DST" "$KEEP manual-2 SYNC"
assert_same_snaps final-guids "$SRC" "$DST"
assert_same_tree final-contents /src/prune /dst/prune
sync3=$(sync_snaps "$SRC")
[ "$sync1" != "$sync3" ] && pass sync-snapshot-rotated "$sync1 -> $sync3" || fail sync-snapshot-rotated "still $sync1"

# Every snapshot that ever went missing on the source was one of this host's sync snapshots.
out=$(audit_py 0 "$SRC" <<'PY'
import re
ds = sys.argv[1]
host = __import__("socket").gethostname()
sess, problems = sessions(recs)
n = 0
for d, o in sess:
    if d.get("rule") != "destroy" or d["decision"] != "allow" or ("'%s'@" % ds) not in d["command"]:
        continue
    for argv in d["argv"]:
        n += 1
        snap = argv[-1].split("@", 1)[1]
        if argv[-2] != "--" or not snap.startswith("syncoid_%s_" % host):
            problems.append("allowed destroy of %r" % argv)
print("%d allowed destroys, all syncoid_%s_*" % (n, host)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems or n < 14 else 0)
PY
) && pass only-sync-snapshots-destroyed "$out" || fail only-sync-snapshots-destroyed "$out"

# A forged prune chain: sync snapshots around one that is not. All or nothing: nothing runs.
cur=$(sync_snaps "$SRC")
before=$(snap_guids "$SRC")
m=$(audit_mark)
gk_ssh backup " zfs destroy 'src/prune'@$cur;  zfs destroy 'src/prune'@autosnap_2020-01-01_00:00:01_daily;  zfs destroy 'src/prune'@$cur" >/dev/null 2>&1
assert_eq mixed-chain-exit 126 "$?"
gk_ssh backup " zfs destroy 'src/prune'@keep-syncoid_${H}_x" >/dev/null 2>&1
assert_eq lookalike-destroy-exit 126 "$?"
gk_ssh backup " zfs destroy 'src/prune'@syncoid_otherhost_2020-01-01:00:00:00-GMT00:00%syncoid_zzz" >/dev/null 2>&1
assert_eq range-destroy-exit 126 "$?"
assert_eq nothing-destroyed-by-denied-chains "$before" "$(snap_guids "$SRC")"
out=$(audit_py "$m" <<'PY'
print(" ".join("%s/%s" % (r["decision"], r.get("rule", r.get("stage"))) for r in recs))
sys.exit(0 if len(recs) == 3 and all(r["event"] == "decision" and r["decision"] == "deny" for r in recs) else 1)
PY
) && pass denied-chains-audit "$out" || fail denied-chains-audit "$out"

destroy_ds "$DST" "$SRC"
zg_finish

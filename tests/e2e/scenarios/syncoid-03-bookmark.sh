#!/bin/bash
# syncoid --no-sync-snap --create-bookmark, then an incremental from the bookmark: after the first
# pull the source's retention destroys the common snapshot (root, as sanoid would) and keeps the
# bookmark syncoid made; the target keeps its last snapshot. Two newer snapshots b2, b3 exist by
# the second pull, which finds no common snapshot, lists the source's bookmarks, sends
# `-i 'src/bm'#'b1' 'src/bm'@'b2'`, then `-I @b2 @b3` as usual, and bookmarks b3.
# (With only one new snapshot, syncoid 2.1.0 returns right after the bookmark send, at its "edge
# case: bookmark replication used the latest snapshot", and creates no bookmark.)
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/bm DST=dst/bm
OPTS=(--sshkey "$KEY" --no-sync-snap --create-bookmark --no-privilege-elevation)

destroy_ds "$DST" "$SRC"
need create zfs create "$SRC"
fill /src/bm 4 one
zfs snapshot "$SRC@b1"

mark=$(audit_mark)
if run_syncoid first "${OPTS[@]}" "$SRC_USER@localhost:$SRC" "$DST"; then pass first-pull; else fail first-pull "syncoid failed"; fi
assert_eq first-source-snapshots "b1" "$(snaps "$SRC")"
assert_eq first-source-bookmarks "b1" "$(bookmarks "$SRC")"
assert_eq first-target-snapshots "b1" "$(snaps "$DST")"
assert_same_snaps first-guids "$SRC" "$DST"
assert_eq bookmark-guid "$(zfs get -H -p -o value guid "$SRC@b1")" "$(zfs get -H -p -o value guid "$SRC#b1")"
assert_same_tree first-contents /src/bm /dst/bm
out=$(audit_py "$mark" <<'PY'
sess, problems = sessions(recs)
bm = [s for s in sess if s[0].get("rule") == "bookmark"]
if len(bm) != 1 or bm[0][0]["command"] != " zfs bookmark 'src/bm'@'b1' 'src/bm'#'b1'":
    problems.append("bookmark sessions: %r" % [s[0]["command"] for s in bm])
elif bm[0][1] is None or bm[0][1]["exit_status"] != 0:
    problems.append("bookmark did not run cleanly")
if any(s[0].get("rule") in ("snapshot", "destroy") for s in sess):
    problems.append("--no-sync-snap run created or destroyed snapshots")
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("%d sessions" % len(sess)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass first-audit "$out" || fail first-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

# Source retention: the common snapshot goes, its bookmark stays.
need retention zfs destroy "$SRC@b1"
fill /src/bm 2 two
zfs snapshot "$SRC@b2"
fill /src/bm 1 three
zfs snapshot "$SRC@b3"
assert_eq before-second-source "b2 b3 / b1" "$(snaps "$SRC") / $(bookmarks "$SRC")"

mark=$(audit_mark)
if run_syncoid second "${OPTS[@]}" "$SRC_USER@localhost:$SRC" "$DST"; then pass bookmark-pull; else fail bookmark-pull "syncoid failed"; fi
assert_eq second-source-snapshots "b2 b3" "$(snaps "$SRC")"
assert_eq second-source-bookmarks "b1 b3" "$(bookmarks "$SRC")"
assert_eq second-target-snapshots "b1 b2 b3" "$(snaps "$DST")"
for s in b2 b3; do
  assert_eq "second-guid-$s" "$(zfs get -H -p -o value guid "$SRC@$s")" "$(zfs get -H -p -o value guid "$DST@$s")"
done
assert_eq second-guid-b1 "$(zfs get -H -p -o value guid "$SRC#b1")" "$(zfs get -H -p -o value guid "$DST@b1")"
assert_same_tree second-contents /src/bm /dst/bm
out=$(audit_py "$mark" <<'PY'
sess, problems = sessions(recs)
cmds = [s[0]["command"] for s in sess]
want = [
    "zfs get -Hpd 1 -t bookmark guid,creation 'src/bm'",
    " zfs send  -i 'src/bm'#'b1' 'src/bm'@'b2' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null",
    " zfs send  -I 'src/bm'@'b2' 'src/bm'@'b3' | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null",
    " zfs bookmark 'src/bm'@'b3' 'src/bm'#'b3'",
]
for w in want:
    m = [s for s in sess if s[0]["command"] == w]
    if len(m) != 1:
        problems.append("expected one session %r, found %d" % (w, len(m)))
    elif m[0][0]["decision"] != "allow" or m[0][1] is None or m[0][1]["exit_status"] != 0:
        problems.append("%r did not run cleanly" % w)
send = [s for s in sess if s[0]["command"] == want[1]]
if send and send[0][0].get("rule") != "send.incremental":
    problems.append("bookmark send rule %r" % send[0][0].get("rule"))
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("%d sessions" % len(sess)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass bookmark-audit "$out" || fail bookmark-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

destroy_ds "$DST" "$SRC"
zg_finish

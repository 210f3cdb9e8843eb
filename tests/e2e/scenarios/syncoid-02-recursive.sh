#!/bin/bash
# syncoid --recursive over a tree with children, a grandchild and a clone (2.1.0 defers the clone
# and sends it as `-i 'src/tree/a@s1' 'src/tree/clone'@'s2'`, so the target gets a real clone of
# dst/tree/a@s1). Full, then incremental.
source "$(dirname "$0")/lib.sh"
zg_setup
KEY=/root/.ssh/zg_backup
SRC=src/tree DST=dst/tree
CHILDREN="a a/deep b"

destroy_ds "$DST" "$SRC"
need create zfs create "$SRC"
for c in $CHILDREN; do zfs create "$SRC/$c"; done
fill /src/tree 2 root
fill /src/tree/a 2 a
fill /src/tree/a/deep 1 deep
fill /src/tree/b 1 b
zfs snapshot -r "$SRC@s1"
need clone zfs clone "$SRC/a@s1" "$SRC/clone"
fill /src/tree/clone 1 clone
rm -f /src/tree/clone/random-a.bin
zfs snapshot -r "$SRC@s2"

compare() {
  local phase=$1 c sd dd expect
  for c in "" $CHILDREN clone; do
    sd=$SRC${c:+/$c} dd=$DST${c:+/$c}
    case $c in clone) expect="s2 SYNC" ;; *) expect="s1 s2 SYNC" ;; esac
    [ "$phase" = incremental ] && case $c in clone) expect="s2 s3 SYNC" ;; *) expect="s1 s2 s3 SYNC" ;; esac
    assert_snaps "$phase-snapshots-source-${c:-root}" "$sd" "$expect"
    assert_snaps "$phase-snapshots-target-${c:-root}" "$dd" "$expect"
    assert_same_snaps "$phase-guids-${c:-root}" "$sd" "$dd"
    assert_same_tree "$phase-contents-${c:-root}" "/$sd" "/$dd"
  done
  assert_eq "$phase-target-clone-origin" "$DST/a@s1" "$(zfs get -H -o value origin "$DST/clone")"
  assert_eq "$phase-target-datasets" "$(zfs list -H -r -o name "$SRC" | sed "s|^$SRC|$DST|" | sort)" "$(zfs list -H -r -o name "$DST" | sort)"
}

mark=$(audit_mark)
if run_syncoid full --sshkey "$KEY" --recursive "$SRC_USER@localhost:$SRC" "$DST"; then pass full-pull; else fail full-pull "syncoid failed"; fi
compare full
out=$(audit_py "$mark" <<'PY'
sess, problems = sessions(recs)
cmds = [s[0]["command"] for s in sess]
if not any(c.lstrip().startswith("sudo zfs list -o name,origin -t filesystem,volume -Hr 'src/tree'") for c in cmds):
    problems.append("no recursive listing")
if not any("-i 'src/tree/a@s1' 'src/tree/clone'@" in c for c in cmds):
    problems.append("no clone send from the origin")
problems += ["denied: %s" % s[0]["command"] for s in sess if s[0]["decision"] != "allow"]
print("%d sessions" % len(sess)); [print("PROBLEM " + p) for p in problems]
sys.exit(1 if problems else 0)
PY
) && pass full-audit "$out" || fail full-audit "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"

for c in "" $CHILDREN clone; do echo "incremental $c" >"/src/tree${c:+/$c}/later.txt"; done
zfs snapshot -r "$SRC@s3"
sleep 1
if run_syncoid incremental --sshkey "$KEY" --recursive "$SRC_USER@localhost:$SRC" "$DST"; then pass incremental-pull; else fail incremental-pull "syncoid failed"; fi
compare incremental

destroy_ds "$DST" "$SRC"
zg_finish

#!/bin/bash
# zfs-puller --recursive: a tree with children, a volume and a clone (whose origin sorts after
# it by name, so the puller must order origins before clones). Every dataset arrives with all its
# snapshots (same guids), the clone arrives as a clone of the replicated origin (not a full copy),
# and a second run after changes in some datasets sends only those.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/tree D=$PL_DST/tree
pl_destroy "$D" "$S"
need create zfs create "$S"
zfs create "$S/kids"
zfs create "$S/kids/one"
zfs create "$S/zorigin"
zfs create -V 8M "$S/vol"
fill "/$S" 1 root
fill "/$S/kids/one" 2 one
fill "/$S/zorigin" 2 origin
VOLDEV=$(zvol_dev "$S/vol")
need volume-device test -b "$VOLDEV"
dd if=/dev/urandom of="$VOLDEV" bs=1M count=4 status=none
zfs snapshot -r "$S@base"
# The clone sorts before its origin by name ("aclone" < "zorigin").
need clone zfs clone "$S/zorigin@base" "$S/aclone"
echo "clone change" >"/$S/aclone/clone-file"
zfs snapshot "$S/aclone@c1"

mark=$(pl_mark)
if pull rec1 tree --recursive; then pass recursive-pull; else fail recursive-pull "exit $?"; fi
for ds in "" /kids /kids/one /zorigin /vol /aclone; do
  assert_same_snaps "guids${ds//\//-}" "$S$ds" "$D$ds"
done
assert_eq clone-origin "$D/zorigin@base" "$(zfs get -H -o value origin "$D/aclone")"
assert_eq volume-type volume "$(zfs get -H -o value type "$D/vol")"
assert_eq volume-readonly on "$(zfs get -H -o value readonly "$D/vol")"
new=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
for ds in /kids/one /aclone; do
  m=$(peek_mount "$D$ds")
  assert_same_tree "contents${ds//\//-}" "/$S$ds/.zfs/snapshot/$new" "$m"
  peek_umount "$m"
done
# The clone's first send was `-i ORIGIN@base CLONE@c1` (clone-aware), not a full stream.
if grep -q "^allow send.incremental zfs send -L -c -e -i $S/zorigin@base -- $S/aclone@c1\$" <(pl_audit_summary "$mark" rec1 >/dev/null; cat "$LOGDIR/rec1.audit"); then
  pass clone-aware-send
else
  fail clone-aware-send "no -i from the origin in $LOGDIR/rec1.audit"
fi
# One atomic snapshot command for all six datasets.
n=$(grep -c "^allow snapshot zfs snapshot -- $S@zfs-puller_.* $S/zorigin@zfs-puller_" "$LOGDIR/rec1.audit")
assert_eq one-snapshot-command 1 "$n"
for ds in "" /kids /kids/one /zorigin /vol /aclone; do
  h=$(zfs holds -H "$S$ds@$new" | cut -f2)
  [ "$h" = zfs-puller_keep ] || fail "hold${ds//\//-}" "holds on $S$ds@$new: [$h]"
done
# ... placed by one `zfs hold` naming all six snapshots (a first pull releases nothing).
assert_eq one-hold-command "1 6" "$(grep "^allow hold zfs hold -- zfs-puller_keep " "$LOGDIR/rec1.audit" | awk '{print NR, NF - 6}' | tail -n 1)"
assert_eq no-release-first 0 "$(grep -c "^allow release " "$LOGDIR/rec1.audit")"

# Second run: only kids/one and the volume changed.
sleep 1
fill "/$S/kids/one" 1 two
dd if=/dev/urandom of="$VOLDEV" bs=1M count=1 seek=2 conv=notrunc status=none
sync
mark=$(pl_mark)
if pull rec2 tree --recursive; then pass recursive-incremental; else fail recursive-incremental "exit $?"; fi
assert_eq changed-kids transferred "$(json_field rec2 dataset "$S/kids/one" status)"
assert_eq changed-vol transferred "$(json_field rec2 dataset "$S/vol" status)"
assert_eq unchanged-root unchanged "$(json_field rec2 dataset "$S/kids" status)"
assert_eq unchanged-clone unchanged "$(json_field rec2 dataset "$S/aclone" status)"
for ds in "" /kids /kids/one /zorigin /vol /aclone; do
  assert_same_snaps "guids2${ds//\//-}" "$S$ds" "$D$ds"
done
# listing + one snapshot + 2 sends + one hold and one release for both datasets
assert_eq incremental-sessions 6 "$(pl_sessions "$mark")"
assert_eq hold-moved-kids "zfs-puller_keep|" "$(zfs holds -H "$S/kids/one@$(snaps "$S/kids/one" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)" | cut -f2)|$(zfs holds -H "$S/kids/one@$new" | cut -f2)"
assert_eq hold-kept-unchanged zfs-puller_keep "$(zfs holds -H "$S/kids@$new" | cut -f2)"

pl_destroy "$D" "$S"
pl_finish

#!/bin/bash
# A target changed after the last pull is refused with a clear one-line message and exit 3;
# nothing is destroyed or rolled back on either side, and no sync snapshot is taken. With
# --force-rollback the same run succeeds. Two ways to diverge: data written to the target, and a
# snapshot taken on the target.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/div D=$PL_DST/div
pl_destroy "$D" "$S"
need create zfs create "$S"
fill "/$S" 1 a
if pull div0 div; then pass first-pull; else fail first-pull "exit $?"; fi

# --- A: data written on the target ---------------------------------------------------------
zfs set readonly=off "$D"
dir=$SCRATCH/rw; mkdir -p "$dir"
need mount-rw mount -t zfs -o zfsutil,rw "$D" "$dir"
echo "written on the backup host" >"$dir/local-change"
umount "$dir"
zfs set readonly=on "$D"
fill "/$S" 1 b
sleep 1
src_before=$(snaps "$S"); dst_before=$(snaps "$D")
pull divA div
rc=$?
assert_eq written-refused-exit 3 "$rc"
assert_eq written-status refused "$(json_field divA dataset "$S" status)"
if grep -q "^zfs-puller: pull: target $D diverged from the source since @zfs-puller_.*bytes were written to it after its newest snapshot; nothing was changed; .*--force-rollback" "$LOGDIR/divA.err"; then
  pass written-message
else
  fail written-message "$(grep '^zfs-puller' "$LOGDIR/divA.err" | head -n 2)"
fi
assert_eq written-source-untouched "$src_before" "$(snaps "$S")"
assert_eq written-target-untouched "$dst_before" "$(snaps "$D")"
m=$(peek_mount "$D")
if [ -f "$m/local-change" ]; then pass written-data-kept; else fail written-data-kept "local-change is gone"; fi
peek_umount "$m"

if pull divA2 div --force-rollback; then pass written-force; else fail written-force "exit $?"; fi
assert_same_snaps written-force-guids "$S" "$D"
new=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
m=$(peek_mount "$D")
assert_same_tree written-force-contents "/$S/.zfs/snapshot/$new" "$m"
peek_umount "$m"

# --- B: a snapshot taken on the target -------------------------------------------------------
need target-snapshot zfs snapshot "$D@made-on-target"
fill "/$S" 1 c
sleep 1
src_before=$(snaps "$S"); dst_before=$(snaps "$D")
pull divB div
rc=$?
assert_eq snapshot-refused-exit 3 "$rc"
if grep -q "^zfs-puller: pull: target $D diverged .*newer snapshots the source does not (@made-on-target)" "$LOGDIR/divB.err"; then
  pass snapshot-message
else
  fail snapshot-message "$(grep '^zfs-puller' "$LOGDIR/divB.err" | head -n 2)"
fi
assert_eq snapshot-source-untouched "$src_before" "$(snaps "$S")"
assert_eq snapshot-target-untouched "$dst_before" "$(snaps "$D")"

if pull divB2 div --force-rollback; then pass snapshot-force; else fail snapshot-force "exit $?"; fi
assert_same_snaps snapshot-force-guids "$S" "$D"
if zfs list -H "$D@made-on-target" >/dev/null 2>&1; then fail snapshot-force-rolled-back "still there"; else pass snapshot-force-rolled-back; fi

# --- C: an unrelated dataset in the way is refused even with --force-rollback -----------------
pl_destroy "$D"
need unrelated zfs create "$D"
zfs snapshot "$D@unrelated"
pull divC div --force-rollback
assert_eq unrelated-refused-exit 3 "$?"
assert_eq unrelated-kept unrelated "$(snaps "$D")"

pl_destroy "$D" "$S"
pl_finish

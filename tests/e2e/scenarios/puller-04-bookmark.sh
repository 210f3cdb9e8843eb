#!/bin/bash
# Incremental from a bookmark: the newest common snapshot is gone from the source (an admin
# released the puller's hold and destroyed it) but a bookmark of it is left, so the next pull
# sends `-i DS#BM DS@next` and then -I, instead of starting over. Also: `--bookmark` makes the
# puller bookmark its newest sync snapshot itself (zfs bookmark through the gatekeeper).
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/bm D=$PL_DST/bm
pl_destroy "$D" "$S"
need create zfs create "$S"
fill "/$S" 2 a
if pull bm1 bm --bookmark; then pass first-pull; else fail first-pull "exit $?"; fi
first=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
assert_eq puller-bookmark "$first" "$(bookmarks "$S")"
assert_eq bookmark-guid "$(zfs get -H -o value guid "$S@$first")" "$(zfs get -H -o value guid "$S#$first")"

# The admin prunes the common snapshot on the source, keeping only the bookmark.
need release zfs release zfs-puller_keep "$S@$first"
need destroy-common zfs destroy "$S@$first"
fill "/$S" 1 b
zfs snapshot "$S@manual"
fill "/$S" 1 c
sleep 1
mark=$(pl_mark)
if pull bm2 bm; then pass pull-from-bookmark; else fail pull-from-bookmark "exit $?"; fi
pl_audit_summary "$mark" bm2 >/dev/null
if grep -q "^allow send.incremental zfs send -L -c -e -i $S#$first -- $S@manual\$" "$LOGDIR/bm2.audit" &&
   grep -q "^allow send.incremental zfs send -L -c -e -I $S@manual -- $S@zfs-puller_" "$LOGDIR/bm2.audit"; then
  pass bookmark-then-intermediates
else
  fail bookmark-then-intermediates "see $LOGDIR/bm2.audit"
fi
assert_eq not-a-full-send false "$(json_field bm2 dataset "$S" full)"
# The target keeps the snapshot the source lost, and has everything newer.
assert_eq target-snapshots "$first manual $(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)" "$(snaps "$D")"
new=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
m=$(peek_mount "$D")
assert_same_tree contents "/$S/.zfs/snapshot/$new" "$m"
peek_umount "$m"
assert_eq hold-on-new zfs-puller_keep "$(zfs holds -H "$S@$new" | cut -f2)"

pl_destroy "$D" "$S"
pl_finish

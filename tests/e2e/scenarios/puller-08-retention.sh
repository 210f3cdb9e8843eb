#!/bin/bash
# Retention: --keep-source 2 --keep-target 3 over six pulls with changes. Only the puller's own
# sync snapshots (prefix zfs-puller_) are ever destroyed, the source through `;`-chained
# `zfs destroy` (allowed for the identity), the target locally; foreign snapshots stay on both
# sides; only the newest common snapshot carries the puller's hold.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/ret D=$PL_DST/ret
pl_destroy "$D" "$S"
need create zfs create "$S"
fill "/$S" 1 a
zfs snapshot "$S@manual-1"
for i in 1 2 3 4 5 6; do
  echo "run $i" >"/$S/run-$i"
  [ "$i" = 3 ] && zfs snapshot "$S@autosnap_daily"
  if ! pull "ret$i" ret --keep-source 2 --keep-target 3; then fail "pull-$i" "exit $?"; fi
  sleep 1
done
pass six-pulls
assert_eq source-own 2 "$(own_snaps "$S")"
assert_eq target-own 3 "$(own_snaps "$D")"
src_foreign=$(snaps "$S" | tr ' ' '\n' | grep -v '^zfs-puller_' | tr '\n' ' ' | sed 's/ $//')
dst_foreign=$(snaps "$D" | tr ' ' '\n' | grep -v '^zfs-puller_' | tr '\n' ' ' | sed 's/ $//')
assert_eq source-foreign-kept "manual-1 autosnap_daily" "$src_foreign"
assert_eq target-foreign-kept "manual-1 autosnap_daily" "$dst_foreign"
newest=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
assert_eq newest-common "$newest" "$(snaps "$D" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)"
held=""
for s in $(snaps "$S"); do
  [ -n "$(zfs holds -H "$S@$s")" ] && held="$held $s"
done
assert_eq only-newest-held " $newest" "$held"
# The newest two source sync snapshots are the newest two on the target.
assert_eq source-keeps-newest "$(snaps "$D" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 2 | tr '\n' ' ')" \
  "$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tr '\n' ' ')"

# A zero keep never destroys anything.
echo more >"/$S/more"
before=$(own_snaps "$D")
if pull ret7 ret --keep-source 0 --keep-target 0; then pass keep-zero; else fail keep-zero "exit $?"; fi
assert_eq keep-zero-target $((before + 1)) "$(own_snaps "$D")"
assert_eq keep-zero-source 3 "$(own_snaps "$S")"

pl_destroy "$D" "$S"
pl_finish

#!/bin/bash
# Retention: --keep-source 2 --keep-target 3 over six pulls with changes. Only the puller's own
# sync snapshots (prefix zfs-puller_) are ever destroyed, the source through `;`-chained
# `zfs destroy` (allowed for the identity), the target locally; foreign snapshots stay on both
# sides; only the newest common snapshot carries the puller's hold. The count rule is checked
# with the target's age floor and per-run share turned off (--prune-min-age-days 0
# --prune-max-percent 100); then, with the defaults, a source that suddenly has many new sync
# snapshots cannot make a run destroy the target's history (issue 21, finding 2).
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
  if ! pull "ret$i" ret --keep-source 2 --keep-target 3 --prune-min-age-days 0 --prune-max-percent 100; then fail "pull-$i" "exit $?"; fi
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

# A flood, with the default limits and only the options the puller always had: a history of
# four pulls (keep_target 3), then the source suddenly has six new snapshots carrying the prefix.
# The old count rule destroyed every older backup in that one run; now nothing younger than a
# week goes, and everything that arrived is there.
S=$PL_SRC/flood D=$PL_DST/flood
pl_destroy "$D" "$S"
need create-flood zfs create "$S"
for i in 1 2 3 4; do
  echo "day $i" >"/$S/day-$i"
  zpool sync src # `written` counts only what a txg committed
  pull "hist$i" flood --keep-target 3 || fail "history-pull-$i" "exit $?"
  sleep 1
done
history=$(snaps "$D" | tr ' ' '\n' | grep '^zfs-puller_' | tr '\n' ' ')
note "target history before the flood: $history"
assert_eq flood-history-built 4 "$(own_snaps "$D")" # the floor keeps all four (keep_target 3)
for i in 1 2 3 4 5 6; do echo "flood $i" >"/$S/flood-$i"; zfs snapshot "$S@zfs-puller_flood$i"; done
if pull flood flood --keep-target 3; then pass flood-pull; else fail flood-pull "exit $?"; fi
kept=""
for s in $history; do zfs list -H "$D@$s" >/dev/null 2>&1 && kept="$kept$s "; done
assert_eq flood-history-kept "$history" "$kept"
assert_eq flood-arrived 6 "$(snaps "$D" | tr ' ' '\n' | grep -c '^zfs-puller_flood')"
# Without the age floor, one run still destroys at most 10 % of the dataset's own snapshots.
before=$(own_snaps "$D")
for i in 7 8 9 10 11 12; do zfs snapshot "$S@zfs-puller_flood$i"; done
sleep 1
if pull flood2 flood --keep-target 3 --prune-min-age-days 0; then pass flood-no-floor; else fail flood-no-floor "exit $?"; fi
# received 7 (six and the sync snapshot); 10 % of the own snapshots, at least one, destroyed
want_gone=$(((before + 7) / 10)); [ "$want_gone" -ge 1 ] || want_gone=1
assert_eq flood-share-per-run "$((before + 7 - want_gone))" "$(own_snaps "$D")"
# What arrived carries the local marker the age floor counts from.
v=$(zfs get -H -s local -o value zfs-puller:received "$D@zfs-puller_flood12")
case $v in '' | *[!0-9]*) fail received-marker "[$v]" ;; *) pass received-marker "$v" ;; esac

pl_destroy "$D" "$S"
pl_finish

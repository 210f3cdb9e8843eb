#!/bin/bash
# syncoid master's two feature probes (vocabulary #9, #10) through the gatekeeper on real zfs.
# syncoid master reads only the first line of each answer (stdout and stderr together):
#   `zfs get -H -t snapshot  `  -> "-t supported" unless the line starts with `invalid option`
#   `zfs get -H createtxg `     -> "createtxg supported" unless it starts with
#                                  `bad property list: invalid property`
# The gatekeeper runs the first unchanged (zfs stops at its usage message, listing nothing) and
# the second scoped to the identity's datasets; this checks that both answers send syncoid
# master down its createtxg path, and that no dataset outside the identity is revealed.
source "$(dirname "$0")/lib.sh"
zg_setup

destroy_ds src/data
need create-data zfs create src/data
zfs snapshot src/data@probe1
need create-outside zfs create -p src/enc-probe-outside/secret

out=$(gk_ssh backup 'zfs get -H -t snapshot  ' 2>&1)
first=$(head -n 1 <<<"$out")
note "probe -t snapshot first line: $first"
case "$first" in
  "invalid option"*) fail t-snapshot-probe "syncoid master would fall back: $first" ;;
  *) pass t-snapshot-probe "first line: $first" ;;
esac
if grep -q 'src/' <<<"$out"; then fail t-snapshot-probe-no-listing "names datasets"; else pass t-snapshot-probe-no-listing; fi

out=$(gk_ssh backup 'zfs get -H createtxg ' 2>&1)
first=$(head -n 1 <<<"$out")
note "probe createtxg first line: $first"
case "$first" in
  "bad property list: invalid property"*) fail createtxg-probe "syncoid master would not use createtxg" ;;
  *) pass createtxg-probe "first line: $first" ;;
esac
if grep -q 'enc-probe-outside\|^dst' <<<"$out"; then
  fail createtxg-probe-scoped "revealed a dataset outside the identity: $out"
else
  pass createtxg-probe-scoped
fi
check createtxg-probe-answers-own-dataset grep -q $'^src/data\tcreatetxg\t' <<<"$out"

# What syncoid master sends next when both probes say "supported": the createtxg listing.
out=$(gk_ssh backup "zfs get -Hpd 1 -t snapshot guid,creation,createtxg 'src/data'" 2>&1)
check master-listing-works grep -q $'^src/data@probe1\tcreatetxg\t' <<<"$out"

destroy_ds src/data src/enc-probe-outside
zg_finish

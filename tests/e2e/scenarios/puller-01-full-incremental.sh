#!/bin/bash
# zfs-puller through the gatekeeper (identity `puller`, preset "puller"): a first full pull (full
# of the oldest snapshot, then -I so every snapshot arrives), an incremental pull after changes,
# and a no-change run that must cost exactly one SSH session (the listing). Checks contents,
# guids, the hardened receive properties, the JSON summaries and the hold on the newest snapshot.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/basic D=$PL_DST/basic
pl_destroy "$D" "$S"
need create zfs create "$S"
fill "/$S" 6 a
zfs snapshot "$S@s1"
fill "/$S" 2 b
zfs snapshot "$S@s2"

# --- first pull ------------------------------------------------------------------------------
mark=$(pl_mark)
if pull full basic; then pass full-pull; else fail full-pull "exit $?"; fi
first=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_')
assert_eq full-one-sync-snapshot 1 "$(own_snaps "$S")"
assert_same_snaps full-guids "$S" "$D"
assert_eq full-summary-status transferred "$(json_field full dataset "$S" status)"
assert_eq full-summary-full true "$(json_field full dataset "$S" full)"
assert_eq full-summary-snapshots 3 "$(json_field full dataset "$S" snapshots_sent)"
bytes=$(json_field full dataset "$S" bytes)
if [ "${bytes:-0}" -gt $((7 * 1048576)) ]; then pass full-summary-bytes "$bytes"; else fail full-summary-bytes "bytes=$bytes"; fi
assert_eq full-hardened "on noauto off off off no inherited from dst" "$(hardening "$D" | sed 's/ *$//')"
m=$(peek_mount "$D")
assert_same_tree full-contents "/$S/.zfs/snapshot/$first" "$m"
peek_umount "$m"
holds=$(zfs holds -H "$S@$first" | cut -f2)
assert_eq full-hold-on-newest zfs-puller_keep "$holds"
assert_eq full-audit "allow 6 deny 0" "$(pl_audit_summary "$mark" full)"
# The exact sequence: listing, snapshot, estimate + full, -I, hold (no release on a first pull).
pl_audit_py "$mark" <<'PY' && pass full-audit-commands || fail full-audit-commands "see $LOGDIR/full.audit"
import re
cmds = [r["command"] for r in recs if r.get("event") == "decision"]
want = [r"^zfs list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- src/pl/basic$",
        r"^zfs snapshot -- src/pl/basic@zfs-puller_\d{8}T\d{6}Z$",
        r"^zfs send -L -c -e -nvP -- src/pl/basic@s1$",
        r"^zfs send -L -c -e -- src/pl/basic@s1$",
        r"^zfs send -L -c -e -I src/pl/basic@s1 -- src/pl/basic@zfs-puller_\d{8}T\d{6}Z$",
        r"^zfs hold -- zfs-puller_keep src/pl/basic@zfs-puller_\d{8}T\d{6}Z$"]
# -nvP estimate of the -I step is not sent (its size comes from `written`).
ok = len(cmds) >= len(want) and all(re.match(w, c) for w, c in zip(want, cmds))
if not ok:
    print("\n".join(cmds))
sys.exit(0 if ok else 1)
PY

# --- incremental -----------------------------------------------------------------------------
fill "/$S" 3 c
rm -f "/$S/random-a.bin"
echo changed >>"/$S/sub-b/tiny"
zfs snapshot "$S@s3"
sleep 1
mark=$(pl_mark)
if pull incr basic; then pass incremental-pull; else fail incremental-pull "exit $?"; fi
second=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
assert_same_snaps incremental-guids "$S" "$D"
assert_eq incremental-status transferred "$(json_field incr dataset "$S" status)"
assert_eq incremental-not-full false "$(json_field incr dataset "$S" full)"
assert_eq incremental-snapshots 2 "$(json_field incr dataset "$S" snapshots_sent)"
m=$(peek_mount "$D")
assert_same_tree incremental-contents "/$S/.zfs/snapshot/$second" "$m"
peek_umount "$m"
assert_eq incremental-hold-moved "zfs-puller_keep|" "$(zfs holds -H "$S@$second" | cut -f2)|$(zfs holds -H "$S@$first" | cut -f2)"
# listing, snapshot, send -I, hold, release (no estimate session for an incremental)
assert_eq incremental-audit "allow 5 deny 0" "$(pl_audit_summary "$mark" incr)"

# --- no change: one session ------------------------------------------------------------------
mark=$(pl_mark)
t=$SECONDS
before=$(snaps "$S")
if pull nochange basic; then pass nochange-pull; else fail nochange-pull "exit $?"; fi
assert_eq nochange-status unchanged "$(json_field nochange dataset "$S" status)"
assert_eq nochange-one-session 1 "$(pl_sessions "$mark")"
assert_eq nochange-summary-sessions 1 "$(json_field nochange job "" ssh_sessions)"
assert_eq nochange-no-new-snapshot "$before" "$(snaps "$S")"
note "no-change run took $((SECONDS - t))s"

# --- dry run: lists, prints, changes nothing -------------------------------------------------
echo more >"/$S/more"
before=$(snaps "$S")
mark=$(pl_mark)
if pull dry basic --dry-run; then pass dry-run; else fail dry-run "exit $?"; fi
assert_eq dry-run-no-snapshot "$before" "$(snaps "$S")"
assert_eq dry-run-one-session 1 "$(pl_sessions "$mark")"
if grep -q '^remote: zfs snapshot -- src/pl/basic@zfs-puller_' "$LOGDIR/dry.json" &&
   grep -q '^remote: zfs send -L -c -e -I src/pl/basic@zfs-puller_.* | local: /usr/sbin/zfs receive -s -u -x mountpoint' "$LOGDIR/dry.json"; then
  pass dry-run-prints-commands
else
  fail dry-run-prints-commands "see $LOGDIR/dry.json"
fi

pl_destroy "$D" "$S"
pl_finish

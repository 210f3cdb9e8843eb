#!/bin/bash
# Resume: a first pull is stopped mid-stream (SIGTERM to zfs-puller once its JSON progress shows
# data flowing); the target keeps a receive_resume_token; the next run sends `zfs send -t TOKEN`
# (accepted by the gatekeeper after its guid pre-flight), completes, and reports resumed=true.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/resume D=$PL_DST/resume
pl_destroy "$D" "$S"
need create zfs create -o compression=off "$S"
fill "/$S" 160 big
zfs snapshot "$S@big"

log=$LOGDIR/resume1
"$PL" pull "$SRC_USER@localhost:$S" "$D" --ssh-key "$PL_KEY" --known-hosts "$PL_KNOWN" \
  --progress json --progress-interval 1 >"$log.json" 2>"$log.err" &
pid=$!
stopped=no
stop_after_bytes "$pid" "$log.err" $((16 * 1048576)) && stopped=yes
wait "$pid"
rc=$?
assert_eq stopped-mid-stream yes "$stopped"
assert_eq exit-status-sigterm 143 "$rc"
token=$(zfs get -H -o value receive_resume_token "$D" 2>/dev/null)
if [ -n "$token" ] && [ "$token" != - ]; then pass resume-token-kept; else fail resume-token-kept "no token on $D"; fi
assert_eq partial-not-complete "" "$(snaps "$D")"
if pgrep -f "zfs receive .* $D" >/dev/null || pgrep -f "ControlPath=$SCRATCH" >/dev/null; then
  fail no-leftover-processes "$(pgrep -af "zfs receive")"
else
  pass no-leftover-processes
fi

mark=$(pl_mark)
if pull resume2 resume; then pass resumed-run; else fail resumed-run "exit $?"; fi
assert_eq summary-resumed true "$(json_field resume2 dataset "$S" resumed)"
pl_audit_summary "$mark" resume2 >/dev/null
if grep -q '^allow send.resume zfs send -t 1-' "$LOGDIR/resume2.audit"; then pass sent-with-token; else fail sent-with-token "see $LOGDIR/resume2.audit"; fi
assert_same_snaps guids "$S" "$D"
assert_eq token-gone - "$(zfs get -H -o value receive_resume_token "$D")"
new=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
m=$(peek_mount "$D")
assert_same_tree contents "/$S/.zfs/snapshot/$new" "$m"
peek_umount "$m"
assert_eq hold-after-resume zfs-puller_keep "$(zfs holds -H "$S@$new" | cut -f2)"

pl_destroy "$D" "$S"
pl_finish

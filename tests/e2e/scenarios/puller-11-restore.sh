#!/bin/bash
# zfs-puller restore on real OpenZFS (issue 17): a dataset backed up through the gatekeeper (the
# puller identity) comes back through the restore identity (lib.sh: preset "restore",
# restore_root src/restore, key /root/.ssh/zg_restore), and the commands zfs-puller prints put it
# in place.
#  1. Full: back up src/pl/rs, destroy it on the source, restore, run the printed commands: the
#     files are equal (sha256), the dataset is mounted where it was, writable; nothing on the
#     backup host changed; the audit log holds the probe and the receive, allowed.
#  2. Raw: an encrypted dataset is sent raw; still locked on arrival; with the source's key
#     loaded (the printed load-key, fed the passphrase) the files are equal.
#  3. Interrupted: a restore stopped mid-stream (SIGTERM once progress shows data) leaves a
#     resumable receive on the source; the same command again resumes it (zfs send -t), and the
#     files are equal.
#  4. Denied and audited: a job whose restore_root is not the identity's (its probe is refused,
#     zfs-puller says so, exit 4), and a receive outside restore_root through the restore key.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

R=src/restore
RKEY=/root/.ssh/zg_restore
KEYFILE=/root/zg-pl-restore.key
CFG=$SCRATCH/config.toml
pl_destroy "$PL_DST/rs" "$PL_DST/rsenc" "$PL_DST/rsbig" "$PL_SRC/rs" "$PL_SRC/rsenc" "$PL_SRC/rsbig"
destroy_ds "$R"
need create-root zfs create -o mountpoint=/src/restore "$R"
# What the restore identity's user needs (restore-01-gatekeeper.sh): receive and create (and
# mount, which create requires), and the properties the receive sets.
need allow-restore zfs allow -u "$SRC_USER" receive,create,mount,readonly,canmount,setuid,exec,devices,mountpoint "$R"

cat >"$CFG" <<EOF
[defaults]
ssh_key = "$PL_KEY"
known_hosts = "$PL_KNOWN"
restore_ssh_key = "$RKEY"
restore_root = "$R"

[job.rs]
source = "$SRC_USER@localhost:$PL_SRC/rs"
target = "$PL_DST/rs"

[job.rsenc]
source = "$SRC_USER@localhost:$PL_SRC/rsenc"
target = "$PL_DST/rsenc"

[job.rsbig]
source = "$SRC_USER@localhost:$PL_SRC/rsbig"
target = "$PL_DST/rsbig"

[job.wrongroot]
source = "$SRC_USER@localhost:$PL_SRC/rs"
target = "$PL_DST/rs"
restore_root = "$PL_SRC"
EOF
chmod 0600 "$CFG"

# restore LOGNAME ARGS...: zfs-puller --config CFG restore ARGS; stdout in LOGNAME.out (the
# put-in-place text), stderr in LOGNAME.err. Returns its exit status.
restore() {
  local log=$LOGDIR/$1 t=$SECONDS rc
  shift
  "$PL" --config "$CFG" restore "$@" --progress json --verbose >"$log.out" 2>"$log.err"
  rc=$?
  note "zfs-puller restore $* -> rc=$rc in $((SECONDS - t))s"
  if [ "$rc" != 0 ]; then sed 's/^/#   | /' "$log.err" | tail -n 8; fi
  return "$rc"
}
# put_in_place LOGNAME [STDIN]: runs every line of the printed text that is not a comment, as a
# person would (as root, in order), stopping at the first that fails.
put_in_place() {
  grep -v '^#' "$LOGDIR/$1.out" | grep -v '^$' >"$SCRATCH/$1.sh"
  sed 's/^/#   $ /' "$SCRATCH/$1.sh"
  bash -e "$SCRATCH/$1.sh" <"${2:-/dev/null}" >"$LOGDIR/$1.put" 2>&1
}
# state of the backup host below DS: names, guids, and every locally set property
backup_state() {
  zfs list -H -p -r -t all -o name,guid,createtxg "$1"
  zfs get -H -p -r -s local -o name,property,value all "$1"
}
restore_audit() { # MARK: the restore identity's decisions, one "decision rule dataset" line each
  audit_py "$1" <<'PY'
for r in recs:
    if r.get("identity") == "restore" and r.get("event") == "decision":
        print("%s %s %s" % (r["decision"], r.get("rule", r.get("stage")), r["command"].split(" -- ")[-1]))
PY
}

# 1. Full restore.
need create-rs zfs create "$PL_SRC/rs"
fill "/$PL_SRC/rs" 8 one
fill "/$PL_SRC/rs" 1 two
zfs snapshot "$PL_SRC/rs@before"
if run_puller pull-rs --config "$CFG" --job rs --progress none; then pass backup-pulled; else fail backup-pulled "exit $?"; fi
tree_sum "/$PL_SRC/rs" >"$SCRATCH/rs.sum"
pl_destroy "$PL_SRC/rs"
backup_before=$(backup_state "$PL_DST/rs" | sha256sum)
m=$(audit_mark)
if restore restore-rs rs "$PL_DST/rs"; then pass full-restore; else fail full-restore "exit $?"; fi
assert_eq full-restore-quarantined "on noauto off off off no inherited from src/restore" "$(hardening "$R/rs" | tr -s ' \t' ' ' | sed 's/ $//')"
assert_eq backup-host-unchanged "$backup_before" "$(backup_state "$PL_DST/rs" | sha256sum)"
assert_eq full-restore-audit "allow get $R/rs;allow receive $R/rs;allow get $R/rs;" "$(restore_audit "$m" | tr '\n' ';')"
if put_in_place restore-rs; then pass full-put-in-place "$(wc -l <"$SCRATCH/restore-rs.sh") commands"; else fail full-put-in-place "$(tail -n 3 "$LOGDIR/restore-rs.put")"; fi
assert_eq full-in-place "yes off on /src/pl/rs" "$(zfs get -H -o value mounted,readonly,canmount,mountpoint "$PL_SRC/rs" | tr '\n' ' ' | sed 's/ $//')"
assert_eq full-restore-files "$(cat "$SCRATCH/rs.sum")" "$(tree_sum "/$PL_SRC/rs")"
if touch "/$PL_SRC/rs/written-after-restore"; then pass full-restore-writable; else fail full-restore-writable; fi

# 2. Raw (encrypted) restore.
echo 'zg-pl-restore-passphrase' >"$KEYFILE"
need create-rsenc zfs create -o encryption=on -o keyformat=passphrase -o "keylocation=file://$KEYFILE" "$PL_SRC/rsenc"
fill "/$PL_SRC/rsenc" 4 enc
zfs snapshot "$PL_SRC/rsenc@before"
if run_puller pull-rsenc --config "$CFG" --job rsenc --progress none; then pass raw-backup-pulled; else fail raw-backup-pulled "exit $?"; fi
tree_sum "/$PL_SRC/rsenc" >"$SCRATCH/rsenc.sum"
pl_destroy "$PL_SRC/rsenc"
if restore restore-rsenc rsenc "$PL_DST/rsenc"; then pass raw-restore; else fail raw-restore "exit $?"; fi
assert_eq raw-restore-locked unavailable "$(zfs get -H -o value keystatus "$R/rsenc")"
if grep -qx "zfs load-key $R/rsenc" "$LOGDIR/restore-rsenc.out"; then pass raw-text-loads-key; else fail raw-text-loads-key "see $LOGDIR/restore-rsenc.out"; fi
if put_in_place restore-rsenc "$KEYFILE"; then pass raw-put-in-place; else fail raw-put-in-place "$(tail -n 3 "$LOGDIR/restore-rsenc.put")"; fi
assert_eq raw-restore-files "$(cat "$SCRATCH/rsenc.sum")" "$(tree_sum "/$PL_SRC/rsenc")"

# 3. Interrupted, then resumed.
need create-rsbig zfs create -o compression=off "$PL_SRC/rsbig"
fill "/$PL_SRC/rsbig" 128 big
zfs snapshot "$PL_SRC/rsbig@before"
if run_puller pull-rsbig --config "$CFG" --job rsbig --progress none; then pass big-backup-pulled; else fail big-backup-pulled "exit $?"; fi
tree_sum "/$PL_SRC/rsbig" >"$SCRATCH/rsbig.sum"
pl_destroy "$PL_SRC/rsbig"
log=$LOGDIR/restore-rsbig-1
"$PL" --config "$CFG" restore rsbig "$PL_DST/rsbig" --progress json --progress-interval 1 >"$log.out" 2>"$log.err" &
pid=$!
stopped=no
stop_after_bytes "$pid" "$log.err" $((8 * 1048576)) && stopped=yes
wait "$pid"
rc=$?
assert_eq restore-stopped-mid-stream yes "$stopped"
assert_eq restore-stopped-exit 143 "$rc"
token=$(zfs get -H -o value receive_resume_token "$R/rsbig" 2>/dev/null)
if [ -n "$token" ] && [ "$token" != - ]; then pass partial-restore-has-token; else fail partial-restore-has-token "no token on $R/rsbig"; fi
if grep -q 'run the same command again to resume' "$log.err"; then pass stop-says-resume; else fail stop-says-resume "$(tail -n 2 "$log.err")"; fi
if restore restore-rsbig-2 rsbig "$PL_DST/rsbig"; then pass resumed-restore; else fail resumed-restore "exit $?"; fi
if grep -q 'resuming the interrupted restore' "$LOGDIR/restore-rsbig-2.err" &&
  grep -q "exit 0: stream [0-9]* bytes: /usr/sbin/zfs send -t 1-" "$LOGDIR/restore-rsbig-2.err"; then
  pass resumed-with-token
else
  fail resumed-with-token "see $LOGDIR/restore-rsbig-2.err"
fi
if put_in_place restore-rsbig-2; then pass resumed-put-in-place; else fail resumed-put-in-place "$(tail -n 3 "$LOGDIR/restore-rsbig-2.put")"; fi
assert_eq resumed-restore-files "$(cat "$SCRATCH/rsbig.sum")" "$(tree_sum "/$PL_SRC/rsbig")"

# 4. Denied and audited.
m=$(audit_mark)
restore restore-wrongroot wrongroot "$PL_DST/rs"
rc=$?
if [ "$rc" = 4 ] && grep -q 'preset "restore"' "$LOGDIR/restore-wrongroot.err"; then
  pass restore-root-not-the-identitys "$(tail -n 1 "$LOGDIR/restore-wrongroot.err")"
else
  fail restore-root-not-the-identitys "exit $rc: $(tail -n 1 "$LOGDIR/restore-wrongroot.err")"
fi
assert_eq restore-root-denial-audited "deny scope $PL_SRC/rs" "$(restore_audit "$m")"
m=$(audit_mark)
zfs snapshot "$PL_SRC/rs@outside"
zfs send "$PL_SRC/rs@outside" | ssh -i "$RKEY" "$SRC_USER@localhost" \
  "zfs receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o devices=off -x mountpoint -- $PL_SRC/outside" \
  >"$LOGDIR/outside.out" 2>&1
rc=${PIPESTATUS[1]}
assert_eq receive-outside-restore-root-denied 126 "$rc"
assert_eq receive-outside-audited "deny scope $PL_SRC/outside" "$(restore_audit "$m")"
if zfs list -H "$PL_SRC/outside" >/dev/null 2>&1; then fail nothing-received-outside; else pass nothing-received-outside; fi

zfs unallow -u "$SRC_USER" "$R"
pl_destroy "$PL_DST/rs" "$PL_DST/rsenc" "$PL_DST/rsbig" "$PL_SRC/rs" "$PL_SRC/rsenc" "$PL_SRC/rsbig"
destroy_ds "$R"
rm -f "$KEYFILE"
cp "$AUDIT" "$LOGDIR/audit.jsonl" 2>/dev/null
pl_finish

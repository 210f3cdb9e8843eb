#!/bin/bash
# An encrypted source dataset is always sent raw (-w): the target gets the ciphertext, its key is
# never loaded on the backup host (keystatus unavailable), full and incremental. `--raw` makes an
# unencrypted dataset go raw too.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/enc D=$PL_DST/enc
pl_destroy "$D" "$S" "$PL_DST/plainraw" "$PL_SRC/plainraw"
if ! echo "pl-e2e-passphrase" | zfs create -o encryption=aes-256-gcm -o keyformat=passphrase "$S"; then
  fail create "zfs create of an encrypted dataset failed"
  zg_finish
fi
fill "/$S" 3 secret
zfs snapshot "$S@e1"
mark=$(pl_mark)
if pull enc1 enc; then pass raw-full; else fail raw-full "exit $?"; fi
assert_same_snaps raw-full-guids "$S" "$D"
assert_eq target-encryption aes-256-gcm "$(zfs get -H -o value encryption "$D")"
assert_eq target-keystatus unavailable "$(zfs get -H -o value keystatus "$D")"
assert_eq summary-raw true "$(json_field enc1 dataset "$S" raw)"
pl_audit_summary "$mark" enc1 >/dev/null
n=$(grep -c '^allow send\.[a-z.]* zfs send -w ' "$LOGDIR/enc1.audit")
m=$(grep -c '^allow send\.[a-z.]* zfs send ' "$LOGDIR/enc1.audit")
if [ "$n" -ge 2 ] && [ "$n" = "$m" ]; then pass raw-every-send "$n sends with -w"; else fail raw-every-send "$n of $m sends raw"; fi

fill "/$S" 1 more
sleep 1
if pull enc2 enc; then pass raw-incremental; else fail raw-incremental "exit $?"; fi
assert_same_snaps raw-incremental-guids "$S" "$D"
assert_eq raw-incremental-status transferred "$(json_field enc2 dataset "$S" status)"
# The target can be opened with the source's passphrase (it is the same ciphertext).
echo "pl-e2e-passphrase" | zfs load-key "$D" >/dev/null 2>&1 && pass target-key-loads || fail target-key-loads "load-key failed"
m=$(peek_mount "$D")
new=$(snaps "$S" | tr ' ' '\n' | grep '^zfs-puller_' | tail -n 1)
assert_same_tree raw-contents "/$S/.zfs/snapshot/$new" "$m"
peek_umount "$m"
zfs unload-key "$D" 2>/dev/null

# --raw on a plain dataset: -w as well.
need create-plain zfs create "$PL_SRC/plainraw"
fill "/$PL_SRC/plainraw" 1 p
mark=$(pl_mark)
if pull plainraw plainraw --raw; then pass raw-option; else fail raw-option "exit $?"; fi
pl_audit_summary "$mark" plainraw >/dev/null
n=$(grep -c '^allow send\.[a-z.]* zfs send -w ' "$LOGDIR/plainraw.audit")
assert_eq raw-option-sends 2 "$n"   # estimate and send
assert_same_snaps raw-option-guids "$PL_SRC/plainraw" "$PL_DST/plainraw"

pl_destroy "$D" "$S" "$PL_DST/plainraw" "$PL_SRC/plainraw"
pl_finish

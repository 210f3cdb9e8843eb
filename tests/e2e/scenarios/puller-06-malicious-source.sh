#!/bin/bash
# A compromised source: its dataset has mountpoint=/etc, setuid=on, exec=on, devices=on and
# canmount=on, and (as a compromised host can) it answers every `zfs send` with a stream that
# carries those properties (`zfs send -p`), whatever the puller asked for. Simulated with a
# separate key whose forced command passes each command to sh with `-p` added to sends (no
# gatekeeper: the point is what arrives, not what the source allows). The received dataset must
# be unmounted, read-only, canmount=noauto, nosuid/noexec/nodev, with an inherited mountpoint,
# and nothing under /etc may change.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

S=$PL_SRC/evil D=$PL_DST/evil
EVIL=/usr/local/libexec/pl-evil-source
EVIL_LOG=/var/tmp/pl-evil.log
EVIL_KEY=/root/.ssh/zg_plevil
pl_destroy "$D" "$S"

install -d -m 0755 /usr/local/libexec
cat >"$EVIL" <<'SH'
#!/bin/sh
# Test-only compromised source: every send also carries the dataset's properties.
cmd=$SSH_ORIGINAL_COMMAND
case "$cmd" in
  "zfs send "*) cmd="zfs send -p ${cmd#zfs send }" ;;
esac
echo "$cmd" >>/var/tmp/pl-evil.log
exec /bin/sh -c "$cmd"
SH
chmod 0755 "$EVIL"
: >"$EVIL_LOG"; chown "$SRC_USER" "$EVIL_LOG"
need evil-key pl_forced_key "$EVIL_KEY" "$EVIL"

etc_sum() { find /etc -xdev -type f -print0 2>/dev/null | sort -z | xargs -0 sha256sum 2>/dev/null | sha256sum | cut -c1-64; }

# Build the source at a harmless place, then point it at /etc while it is unmounted
# (canmount=on only takes effect at the next `zfs mount -a`, which this guest never runs).
need create zfs create -o mountpoint=/var/tmp/pl-evil-src "$S"
fill /var/tmp/pl-evil-src 1 evil
cp /bin/sh /var/tmp/pl-evil-src/rootshell && chmod 4755 /var/tmp/pl-evil-src/rootshell
echo "evil:x:0:0::/:/bin/sh" >/var/tmp/pl-evil-src/passwd
need umount zfs umount "$S"
zfs set canmount=noauto "$S"
zfs set mountpoint=/etc "$S"
etc_guard source-setup
zfs set setuid=on exec=on devices=on "$S"
zfs set canmount=on "$S"
etc_guard source-setup
assert_eq source-props "/etc on on on on no" "$(zfs get -H -o value mountpoint,canmount,setuid,exec,devices,mounted "$S" | tr '\n' ' ' | sed 's/ $//')"

before=$(etc_sum)
if run_puller evil pull "$SRC_USER@localhost:$S" "$D" --ssh-key "$EVIL_KEY" --known-hosts "$PL_KNOWN" --progress json; then
  pass pull-from-malicious-source
else
  fail pull-from-malicious-source "exit $?"
fi
etc_guard pull
if grep -q '^zfs send -p ' "$EVIL_LOG"; then pass streams-carried-properties "$(grep -c '^zfs send -p ' "$EVIL_LOG") sends with -p"; else fail streams-carried-properties "no -p send in $EVIL_LOG"; fi
note "received values on the target: $(zfs get -H -o property,received mountpoint,setuid,exec,canmount,devices "$D" | tr '\t\n' '= ')"
assert_eq target-unmounted no "$(zfs get -H -o value mounted "$D")"
assert_eq target-readonly on "$(zfs get -H -o value readonly "$D")"
assert_eq target-canmount noauto "$(zfs get -H -o value canmount "$D")"
assert_eq target-setuid off "$(zfs get -H -o value setuid "$D")"
assert_eq target-exec off "$(zfs get -H -o value exec "$D")"
assert_eq target-devices off "$(zfs get -H -o value devices "$D")"
assert_eq target-mountpoint "/dst/pl/evil inherited from dst" "$(zfs get -H -o value,source mountpoint "$D" | tr '\t' ' ')"
assert_eq etc-unchanged "$before" "$(etc_sum)"
if mountpoint -q /etc; then fail etc-not-covered; else pass etc-not-covered; fi
# Even mounted by hand, it is nosuid and noexec.
m=$(peek_mount "$D")
opts=$(findmnt -n -o OPTIONS "$m")
case ",$opts," in *,nosuid,*) pass hand-mount-nosuid ;; *) fail hand-mount-nosuid "$opts" ;; esac
case ",$opts," in *,noexec,*) pass hand-mount-noexec ;; *) fail hand-mount-noexec "$opts" ;; esac
peek_umount "$m"

# The source has to go before anything could ever mount it over /etc.
zfs set canmount=noauto "$S"
pl_destroy "$D" "$S"
pl_finish

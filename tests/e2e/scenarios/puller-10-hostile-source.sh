#!/bin/bash
# A hostile source against the receive hardening (issue 21, finding 1), on real OpenZFS. A
# separate key's forced command (no gatekeeper: what arrives is the point, not what the source
# allows) runs each command with sh, bent by a mode:
#   volume     the listing shows every filesystem as a volume, and every send carries the
#              dataset's properties (-p): mountpoint=/etc, canmount=on, setuid, exec, devices and
#              sharenfs on. The receive options must still be the filesystem's whole set, for a
#              new target and for an increment into an existing one.
#   replicate  every send is answered with `zfs send -R -p` of the same snapshot: a replication
#              stream whose child carries the same properties. The puller must stop the stream
#              at the child, so no child dataset ever exists on the target. For the record, the
#              same stream received directly with the puller's options shows why: zfs applies
#              -o to the top dataset only, so the child would only inherit the inheritable
#              properties and keep canmount=on.
# Also: what arrives is marked with a local zfs-puller:received.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/puller-lib.sh"
pl_setup

HOSTILE=/usr/local/libexec/pl-hostile-source
MODE=/var/tmp/pl-hostile.mode
HLOG=/var/tmp/pl-hostile.log
HKEY=/root/.ssh/zg_plhostile
S=$PL_SRC/hs D=$PL_DST/hs R=$PL_SRC/hr RD=$PL_DST/hr DIRECT=$PL_DST/hr-direct

# defuse DATASET...: nothing that carries mountpoint=/etc may stay mountable, then destroy it.
defuse() {
  local ds
  for ds in "$@"; do
    zfs list -H -r -o name "$ds" 2>/dev/null | while IFS= read -r d; do zfs set canmount=noauto "$d" 2>/dev/null; done
  done
  pl_destroy "$@"
}
defuse "$D" "$RD" "$DIRECT" "$S" "$R"

install -d -m 0755 /usr/local/libexec
cat >"$HOSTILE" <<'SH'
#!/bin/sh
# Test-only hostile source (tests/e2e/scenarios/puller-10-hostile-source.sh).
cmd=$SSH_ORIGINAL_COMMAND
mode=$(cat /var/tmp/pl-hostile.mode)
echo "$mode: $cmd" >>/var/tmp/pl-hostile.log
case "$cmd" in
  "zfs list "*)
    if [ "$mode" = volume ]; then
      /bin/sh -c "$cmd" | awk -F '\t' 'BEGIN { OFS = "\t" } $2 == "filesystem" { $2 = "volume" } { print }'
      exit $?
    fi
    ;;
  "zfs send "*"-nvP"*) ;;
  "zfs send "*)
    case "$mode" in
      volume) cmd="zfs send -p ${cmd#zfs send }" ;;
      replicate) cmd="zfs send -R -p ${cmd##* }" ;;
    esac
    echo "  sent as: $cmd" >>/var/tmp/pl-hostile.log
    ;;
esac
exec /bin/sh -c "$cmd"
SH
chmod 0755 "$HOSTILE"
: >"$HLOG"; chown "$SRC_USER" "$HLOG"
need hostile-key pl_forced_key "$HKEY" "$HOSTILE"
hpull() { # hpull LOG SOURCE TARGET [ARGS...]: through the hostile key
  local log=$1 src=$2 dst=$3; shift 3
  run_puller "$log" pull "$SRC_USER@localhost:$src" "$dst" --ssh-key "$HKEY" --known-hosts "$PL_KNOWN" --progress json --verbose "$@"
}
# make_evil DATASET: a source filesystem whose properties would mount it over /etc, setuid, shared.
make_evil() {
  need "create-$1" zfs create -o mountpoint="/var/tmp/pl-src-${1//\//_}" "$1"
  fill "/var/tmp/pl-src-${1//\//_}" 1 evil
  cp /bin/sh "/var/tmp/pl-src-${1//\//_}/rootshell" && chmod 4755 "/var/tmp/pl-src-${1//\//_}/rootshell"
  need "umount-$1" zfs umount "$1"
  zfs set canmount=noauto "$1"
  zfs set mountpoint=/etc "$1"
  etc_guard "setup-$1"
  zfs set setuid=on exec=on devices=on sharenfs=on "$1"
  zfs set canmount=on "$1"
  etc_guard "setup-$1"
}
# hardened NAME DATASET: every filesystem override is in effect and the dataset is not mounted.
hardened() {
  local name=$1 ds=$2
  assert_eq "$name-type" filesystem "$(zfs get -H -o value type "$ds")"
  assert_eq "$name-props" "on noauto off off off off off no" \
    "$(zfs get -H -o value readonly,canmount,setuid,exec,devices,sharenfs,sharesmb,mounted "$ds" | tr '\n' ' ' | sed 's/ $//')"
  assert_eq "$name-mountpoint" "/$ds inherited from dst" "$(zfs get -H -o value,source mountpoint "$ds" | tr '\t' ' ')"
}

# --- a filesystem listed as a volume ---------------------------------------------------------
make_evil "$S"
zfs snapshot "$S@s1"
echo volume >"$MODE"
before=$(find /etc -xdev -type f 2>/dev/null | wc -l)
if hpull vol1 "$S" "$D"; then pass volume-listing-pull; else fail volume-listing-pull "exit $?"; fi
etc_guard volume-listing-pull
if grep -q '^volume: zfs list ' "$HLOG" && grep -q 'sent as: zfs send -p ' "$HLOG"; then
  pass source-lied "listing said volume, sends carried -p"
else
  fail source-lied "see $HLOG"
fi
note "received: $(zfs get -H -o property,value,source mountpoint,canmount,setuid,exec,devices,sharenfs "$D" 2>&1 | tr '\t\n' ' |')"
hardened new-target "$D"
if grep -q "zfs receive -s -u -x mountpoint -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o devices=off -o sharenfs=off -o sharesmb=off -- $D" "$LOGDIR/vol1.err"; then
  pass new-target-options
else
  fail new-target-options "$(grep 'zfs receive' "$LOGDIR/vol1.err" | head -n 2)"
fi
# The increment into the now existing filesystem target, still listed as a volume.
zfs snapshot "$S@s2"
if hpull vol2 "$S" "$D"; then pass volume-listing-incremental; else fail volume-listing-incremental "exit $?"; fi
etc_guard volume-listing-incremental
hardened existing-target "$D"
assert_eq etc-untouched "$before" "$(find /etc -xdev -type f 2>/dev/null | wc -l)"
# Everything that arrived carries the puller's local marker.
unmarked=""
for s in $(snaps "$D"); do
  v=$(zfs get -H -s local -o value zfs-puller:received "$D@$s")
  case $v in '' | *[!0-9]*) unmarked="$unmarked $s" ;; esac
done
assert_eq received-marked "" "$unmarked"

# --- a replication stream instead of the one snapshot asked for -------------------------------
make_evil "$R"
zfs create -o mountpoint=/var/tmp/pl-src-hr-kid "$R/kid"
fill /var/tmp/pl-src-hr-kid 1 kid
need umount-kid zfs umount "$R/kid"
zfs set canmount=noauto "$R/kid"
zfs set mountpoint=/etc "$R/kid"
zfs set setuid=on exec=on devices=on sharenfs=on "$R/kid"
zfs set canmount=on "$R/kid"
etc_guard setup-kid
zfs snapshot -r "$R@r1"
echo replicate >"$MODE"
hpull rep1 "$R" "$RD"
rc=$?
etc_guard replicate-pull
assert_eq replicate-refused-exit 1 "$rc"
if grep -q "the source sent a stream for $R/kid@r1, not for $R" "$LOGDIR/rep1.err"; then
  pass replicate-refusal-message
else
  fail replicate-refusal-message "$(grep '^zfs-puller' "$LOGDIR/rep1.err" | tail -n 2)"
fi
if zfs list -H "$RD/kid" >/dev/null 2>&1; then
  fail no-child-on-target "$(zfs get -H -o property,value canmount,mountpoint,setuid "$RD/kid" | tr '\t\n' ' ;')"
else
  pass no-child-on-target
fi
if zfs list -H "$RD" >/dev/null 2>&1; then hardened replicate-top "$RD"; fi
# For the record: the same stream received directly with the puller's options.
if zfs send -R -p "$R@r1" | zfs receive -s -u -x mountpoint -o readonly=on -o canmount=noauto \
  -o setuid=off -o exec=off -o devices=off -o sharenfs=off -o sharesmb=off "$DIRECT" 2>"$SCRATCH/direct.err"; then
  etc_guard direct-receive
  note "zfs receive -o ... of zfs send -R: child $DIRECT/kid gets $(zfs get -H -o property,value,source readonly,canmount,setuid,exec,devices,sharenfs,mountpoint "$DIRECT/kid" | tr '\t\n' ' ;')"
  assert_eq direct-child-inherits "on off off off off" \
    "$(zfs get -H -o value readonly,setuid,exec,devices,sharenfs "$DIRECT/kid" | tr '\n' ' ' | sed 's/ $//')"
  note "direct child canmount=$(zfs get -H -o value canmount "$DIRECT/kid"): -o does not reach a child's canmount, which is why the puller refuses replication streams"
else
  note "direct zfs receive of the -R stream failed: $(tail -n 1 "$SCRATCH/direct.err")"
fi

defuse "$D" "$RD" "$DIRECT" "$S" "$R"
pl_finish

#!/bin/bash
# The minimal `zfs allow` set for the syncoid-pull preset, found by trying on OpenZFS in the guest.
# On a scratch dataset in the target pool (which has no delegation of its own) the source-side
# operations syncoid sends run as the unprivileged user:
#   - with no delegation at all: the reads (zpool get, zfs get, zfs list, send -nvP estimates);
#   - with the whole set: every operation;
#   - with the set minus one member: the operations that member is known to gate fail.
# ZG_E2E_ALLOW_MATRIX=1 (set it at the top of this file: the guest does not inherit the host's
# environment) runs every operation under every reduced set instead (slow under TCG:
# about 3 s per operation); the table lands in results/<scenario>/table.txt either way.
# Sufficiency is shown by every other scenario: they pull through the gatekeeper with exactly
# this set delegated on src.
source "$(dirname "$0")/lib.sh"
zg_setup

ds=dst/perm
destroy_ds "$ds"
need create zfs create "$ds"
fill "/dst/perm" 1 p1
zfs snapshot "$ds@p1"
fill "/dst/perm" 1 p2
zfs snapshot "$ds@p2"
zfs bookmark "$ds@p1" "$ds#b1"
zfs set syncoid:sync=true "$ds"

set -o pipefail   # `zfs send | cat` must report zfs's status
as_user() { (cd / && setpriv --reuid="$SRC_USER" --regid="$SRC_USER" --init-groups -- "$@"); }
# op NAME: runs one operation as the user; prints ok or fail. Destroy targets and holds are
# prepared by root first so that each operation is tried from the same state.
op() {
  local name=$1 n
  n=$(date +%s%N)
  case $name in
    zpool-get)      as_user zpool get -o value -H feature@extensible_dataset dst ;;
    get-sync)       as_user zfs get -H syncoid:sync "$ds" ;;
    get-snapshots)  as_user zfs get -Hpd 1 -t snapshot guid,creation "$ds" ;;
    get-bookmarks)  as_user zfs get -Hpd 1 -t bookmark guid,creation "$ds" ;;
    list-origins)   as_user zfs list -o name,origin -t filesystem,volume -Hr "$ds" ;;
    get-guid)       as_user zfs get -H -p -o value guid "$ds@p1" ;;
    send-estimate)  as_user zfs send -nvP "$ds@p1" ;;
    send-full)      as_user zfs send "$ds@p1" | cat ;;
    send-incr)      as_user zfs send -I "$ds@p1" "$ds@p2" | cat ;;
    send-bookmark)  as_user zfs send -i "$ds#b1" "$ds@p2" | cat ;;
    snapshot)       as_user zfs snapshot "$ds@syncoid_perm_$n" ;;
    bookmark)       as_user zfs bookmark "$ds@p2" "$ds#syncoid_b$n" ;;
    hold)           zfs release -r syncoid_perm "$ds@p2" 2>/dev/null; as_user zfs hold syncoid_perm "$ds@p2" ;;
    release)        zfs hold syncoid_perm "$ds@p2" 2>/dev/null; as_user zfs release syncoid_perm "$ds@p2" ;;
    destroy)        zfs snapshot "$ds@syncoid_gone_$n" && as_user zfs destroy "$ds@syncoid_gone_$n" ;;
  esac >"$SCRATCH/out.$name" 2>"$SCRATCH/err.$name"
  local rc=$?
  # Details: delegation, operation, exit status, bytes written (the stream, for sends), error.
  printf '%s\t%s\trc=%s\t%s bytes\t%s\n' "${CUR_SET:-(none)}" "$name" "$rc" "$(wc -c <"$SCRATCH/out.$name")" \
    "$(head -n 1 "$SCRATCH/err.$name")" >>"$LOGDIR/details.txt"
  # zfs send -I exits 0 after "warning: cannot send ...: permission denied" (having written only
  # the stream header), so a send succeeds only with status 0 and nothing on stderr.
  case $name in send-full|send-incr|send-bookmark) [ -s "$SCRATCH/err.$name" ] && rc=1 ;; esac
  if [ "$rc" = 0 ]; then echo ok; else echo "fail"; fi
}
READS="zpool-get get-sync get-snapshots get-bookmarks list-origins get-guid send-estimate"
WRITES="send-full send-incr send-bookmark snapshot bookmark hold release destroy"
MINIMAL=$ZG_ALLOW
# What each member gates (OpenZFS 2.1.11, found with ZG_E2E_ALLOW_MATRIX=1):
declare -A GATES=(
  [send]="send-full send-incr send-bookmark"
  [snapshot]="snapshot"
  [destroy]="destroy"
  [mount]="destroy"                 # zfs_secpolicy_destroy_perms checks mount first
  [bookmark]="bookmark"
  [hold]="send-incr hold"           # zfs send -I/-R takes temporary user holds first
  [release]="release"
)

# row SET OPS: the ops under delegation SET ("" = none) -> "op=ok op=fail ..."
row() {
  CUR_SET=$1
  zfs unallow -u "$SRC_USER" "$ds" 2>/dev/null
  [ -z "$1" ] || zfs allow -u "$SRC_USER" "$1" "$ds"
  local o out=
  for o in $2; do out="$out $o=$(op "$o")"; done
  zfs release syncoid_perm "$ds@p2" 2>/dev/null
  echo "${out# }"
}

table=$LOGDIR/table.txt
: >"$table"
: >"$LOGDIR/details.txt"
none=$(row "" "$READS $WRITES")
echo "(none): $none" >>"$table"
full=$(row "$MINIMAL" "$READS $WRITES")
echo "$MINIMAL: $full" >>"$table"

# Reads need no delegation at all (userprop is only for *setting* user properties; the -nvP
# estimate is a read).
for o in $READS; do
  case " $none " in *" $o=ok "*) pass "no-permission-needed-$o" ;; *) fail "no-permission-needed-$o" "$o fails without any delegation" ;; esac
done
for o in $WRITES; do
  case " $none " in *" $o=fail "*) pass "denied-without-delegation-$o" ;; *) fail "denied-without-delegation-$o" "$o works without any delegation" ;; esac
done
for o in $READS $WRITES; do
  case " $full " in *" $o=ok "*) pass "minimal-set-allows-$o" ;; *) fail "minimal-set-allows-$o" "$o fails with $MINIMAL: $(head -c 200 "$SCRATCH/err.$o")" ;; esac
done

# Necessity: dropping any one member breaks the operations it gates (and only those, in the
# full matrix).
for m in ${MINIMAL//,/ }; do
  set=$(echo ",$MINIMAL," | sed "s/,$m,/,/; s/^,//; s/,$//")
  if [ "${ZG_E2E_ALLOW_MATRIX:-0}" = 1 ]; then ops="$READS $WRITES"; else ops=${GATES[$m]}; fi
  r=$(row "$set" "$ops")
  echo "without $m ($set): $r" >>"$table"
  broken=$(echo "$r" | tr ' ' '\n' | grep '=fail$' | sed 's/=fail$//' | tr '\n' ' ')
  assert_eq "needed-$m" "${GATES[$m]}" "${broken% }"
done

# A candidate that is not needed: userprop.
r=$(row "$MINIMAL,userprop" "$READS $WRITES")
assert_eq userprop-changes-nothing "$full" "$r"
note "delegation table:"
sed 's/^/#   /' "$table"
note "sends in detail (delegation, operation, status, stream bytes, first error line):"
grep -P '\tsend-(full|incr|bookmark)\t' "$LOGDIR/details.txt" | sed 's/^/#   /'

zfs unallow -u "$SRC_USER" "$ds" 2>/dev/null
destroy_ds "$ds"
zg_finish

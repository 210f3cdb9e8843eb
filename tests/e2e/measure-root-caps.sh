#!/bin/bash
# Root bounding-set measurement (runs as root in the e2e guest, after a pool "tank" with
# tank/data@s1, tank/data@s2 and tank/enc@e1 exists): which capabilities does root's zfs need
# for each production the gatekeeper allows? Each one runs with the bounding set cut to a
# candidate (no SECBIT_NOROOT here, so execve gives uid 0 exactly the bounding set), and
# OUT/caps.txt gets one line per run: "<production> keep=<set> rc=<status> <stderr head>".
#
# Usage: measure-root-caps.sh OUT RESUME_TOKEN
set -u
OUT=${1:?usage: measure-root-caps.sh OUT RESUME_TOKEN}
TOKEN=${2:?usage: measure-root-caps.sh OUT RESUME_TOKEN}
CAPSH=$(command -v capsh) || { echo "capsh missing (libcap2-bin)" >&2; exit 1; }
ZFS=$(command -v zfs) ZPOOL=$(command -v zpool)
ALL=$("$CAPSH" --print | sed -n 's/^Bounding set =//p' | tr ',' ' ')
only() {  # only KEEP NAME CMD...: CMD with the bounding set = KEEP (comma list, or "none")
  local keep=$1 name=$2 drop="" c rc err; shift 2
  for c in $ALL; do case ",$keep," in *",$c,"*) ;; *) drop="$drop,$c" ;; esac; done
  err=$(cd / && env -i PATH=/nonexistent LC_ALL=C "$CAPSH" --drop="${drop#,}" -- -c 'exec "$0" "$@"' "$@" \
          </dev/null 2>&1 >/dev/null)
  rc=$?
  echo "$name keep=$keep rc=$rc ${err:0:160}" | tr '\n' ' ' >>"$OUT/caps.txt"
  echo >>"$OUT/caps.txt"
}
: >"$OUT/caps.txt"
n=0
for keep in none cap_sys_admin; do
  n=$((n + 1))
  zfs snapshot "tank/data@syncoid_c$n"
  only $keep zpool-get "$ZPOOL" get -o value -H feature@extensible_dataset -- tank
  only $keep get "$ZFS" get -Hpd 1 -t snapshot guid,creation -- tank/data
  only $keep list "$ZFS" list -o name,origin -t filesystem,volume -Hr -- tank/data
  only $keep send-full "$ZFS" send -- tank/data@s1
  only $keep send-incremental "$ZFS" send -I tank/data@s1 -- tank/data@s2
  only $keep send-raw "$ZFS" send -w -- tank/enc@e1
  only $keep send-resume "$ZFS" send -t "$TOKEN"
  only $keep send-estimate "$ZFS" send -nvP -I tank/data@s1 -- tank/data@s2
  only $keep snapshot "$ZFS" snapshot -- "tank/data@syncoid_k$n"
  only $keep hold "$ZFS" hold -- syncoid_c "tank/data@syncoid_c$n"
  zfs hold syncoid_c "tank/data@syncoid_c$n" 2>/dev/null   # make sure there is one to release
  only $keep release "$ZFS" release -- syncoid_c "tank/data@syncoid_c$n"
  only $keep bookmark "$ZFS" bookmark -- "tank/data@syncoid_c$n" "tank/data#syncoid_c$n"
  only $keep destroy "$ZFS" destroy -- "tank/data@syncoid_c$n"
done
cat "$OUT/caps.txt"

#!/bin/bash
# Guest-side script (runs as /share/guest-test.sh in the e2e guest, started by make-token-fixtures):
# cuts real OpenZFS send streams short into `zfs receive -s`, and writes each resulting resume token
# and its decoded fields (from `zfs send -nvP -t`) into /share/out/ as NAME.token + NAME.expect.
set -euo pipefail

OUT=/share/out
VDEV=/var/tmp/vdev
CUT=300000          # bytes of each stream that reach zfs receive (unless a case overrides it)
FAILS=0

rm -rf "$OUT"
mkdir -p "$OUT" "$VDEV"
step() { echo "--- [${SECONDS}s] $*"; }
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }
guid() { zfs get -Hp -o value guid "$1"; }

step "zfs version"
zfs version | tee "$OUT/zfs-version.txt"

step "pools and datasets"
truncate -s 1G "$VDEV/src.img" "$VDEV/dst.img"
zpool create -f -o ashift=12 src "$VDEV/src.img"
zpool create -f dst "$VDEV/dst.img"
# recordsize=1M makes -L (large blocks) meaningful; text compresses (-c), a tiny file embeds (-e).
zfs create -o compression=lz4 -o recordsize=1M src/data
dd if=/dev/urandom of=/src/data/random1 bs=1M count=6 status=none
{ yes 'zfs-gatekeeper fixture: compressible line of text' || true; } | head -c 2M >/src/data/text1
echo tiny >/src/data/tiny
zfs snapshot src/data@s1
dd if=/dev/urandom of=/src/data/random2 bs=1M count=4 status=none
zfs snapshot src/data@s2
zfs bookmark src/data@s1 src/data#b1

printf 'zfs-gatekeeper-fixture\n' >/root/enc.key
zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///root/enc.key src/enc
dd if=/dev/urandom of=/src/enc/random1 bs=1M count=4 status=none
zfs snapshot src/enc@r1
dd if=/dev/urandom of=/src/enc/random2 bs=1M count=4 status=none
zfs snapshot src/enc@r2
zfs get -Hp -o name,value guid -t snapshot,bookmark -r src | tee "$OUT/guids.txt"

# Base snapshots for the incremental cases, received in full first.
zfs send src/data@s1 | zfs receive -u dst/incr
zfs send src/data@s1 | zfs receive -u dst/incrbm
zfs send -w src/enc@r1 | zfs receive -u dst/rawincr

# partial NAME DST TONAME FROMNAME EXPECTED_FLAGS SEND_ARGS...: receives the first $CUT bytes of
# `zfs send SEND_ARGS` into dst/DST with -s, then records the resume token and its decoding.
partial() {
  local name=$1 dst=$2 toname=$3 fromname=$4 want_flags=$5
  shift 5
  step "$name: zfs send $* | head -c $CUT | zfs receive -s -u dst/$dst"
  # The receive is expected to fail (stream cut short); only the token it leaves matters.
  zfs send "$@" | head -c "$CUT" | zfs receive -s -u "dst/$dst" || true
  local token
  token=$(zfs get -H -o value receive_resume_token "dst/$dst")
  if [ -z "$token" ] || [ "$token" = - ]; then fail "$name: no receive_resume_token"; return; fi
  printf '%s\n' "$token" >"$OUT/$name.token"
  zfs send -nvP -t "$token" >"$OUT/$name.nvP" 2>&1 || fail "$name: zfs send -nvP -t failed"
  cat "$OUT/$name.nvP"
  local from_guid=
  [ -z "$fromname" ] || from_guid=$(guid "$fromname")
  python3 - "$OUT/$name.nvP" "$OUT/$name.expect" "$toname" "$(guid "$toname")" "$from_guid" \
    "$want_flags" "zfs send $* | head -c $CUT | zfs receive -s -u dst/$dst" <<'PY' || fail "$name: decoded fields differ"
# Turns `zfs send -nvP -t` output (nvlist_print of the token: uint64 as 0x..., strings bare,
# boolean flags as names) into key=value lines, checks them against the source's own GUIDs.
import re, sys
nvp_path, expect_path, want_toname, want_toguid, want_fromguid, want_flags, send_cmd = sys.argv[1:]
raw = open(nvp_path).read().splitlines()
fields, flags, in_nvl = {}, [], False
for line in raw:
    if line.startswith("nvlist version"):
        in_nvl = True
        continue
    if not in_nvl:
        continue
    m = re.match(r"^\t(\w+)(?: = (.*))?$", line)
    if not m:
        in_nvl = False
        continue
    key, val = m.group(1), m.group(2)
    if key in ("object", "offset", "bytes", "toguid", "fromguid", "toname"):
        fields[key] = str(int(val, 16)) if val.startswith("0x") else val
    else:
        flags.append(key)
out = [f"send={send_cmd}", f"toname={fields.get('toname', '')}"]
if "fromguid" in fields:
    out.append(f"fromguid={fields['fromguid']}")
for key in ("toguid", "object", "offset", "bytes"):
    out.append(f"{key}={fields.get(key, '')}")
out.append("flags=" + ",".join(sorted(flags)))
out += [f"nvP={line}" for line in raw]
open(expect_path, "w").write("\n".join(out) + "\n")
errors = []
if fields.get("toname") != want_toname:
    errors.append(f"toname {fields.get('toname')} != {want_toname}")
if fields.get("toguid") != want_toguid:
    errors.append(f"toguid {fields.get('toguid')} != guid of {want_toname} {want_toguid}")
if fields.get("fromguid", "") != want_fromguid:
    errors.append(f"fromguid {fields.get('fromguid')} != {want_fromguid!r}")
missing = set(filter(None, want_flags.split(","))) - set(flags)
if missing:
    errors.append(f"flags {sorted(flags)} lack {sorted(missing)}")
for key in ("object", "offset", "bytes"):
    if not fields.get(key, "").isdigit():
        errors.append(f"{key} missing")
for e in errors:
    print("mismatch:", e)
sys.exit(1 if errors else 0)
PY
  echo "token: $(cut -c1-80 "$OUT/$name.token")..."
}

partial full_data          full     src/data@s1 ""          ""                                 src/data@s1
partial incr_data          incr     src/data@s2 src/data@s1 ""                                 -i @s1 src/data@s2
partial raw_enc            raw      src/enc@r1  ""          rawok                              -w src/enc@r1
partial compressed_data    comp     src/data@s1 ""          compressok,embedok,largeblockok    -c -e -L src/data@s1
# Extra shapes: a -c -e -L stream cut after its first 1 MiB records (the 300000-byte cut above
# stops inside the first one, so its token points at object 1 offset 0), an incremental from a
# bookmark (its token equals the one from the snapshot), a raw incremental, a resumed stream cut again.
CUT=2500000 partial compressed_data_2500k comp2 src/data@s1 "" compressok,embedok,largeblockok -c -e -L src/data@s1
partial incr_bookmark_data incrbm   src/data@s2 src/data@s1 ""                                 -i src/data#b1 src/data@s2
partial raw_incr_enc       rawincr  src/enc@r2  src/enc@r1  rawok                              -w -i @r1 src/enc@r2
if [ -f "$OUT/full_data.token" ]; then
  partial full_data_resumed full    src/data@s1 ""          ""                                 -t "$(cat "$OUT/full_data.token")"
fi

rm -f "$OUT"/*.nvP
step "done, $FAILS failure(s)"
ls -l "$OUT"
exit "$FAILS"

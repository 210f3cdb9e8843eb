#!/bin/bash
# Guest-side script (runs as /share/guest-test.sh in the e2e guest, started by make-streams):
# writes real OpenZFS send streams of every shape zfs-puller receives, and some it must refuse,
# into /share/out/NAME.zstream.gz, and one line per stream into /share/out/manifest.txt:
#   NAME<TAB>DATASET<TAB>KIND<TAB>FROM_GUID<TAB>SUBSTREAMS<TAB>VERDICT
# (VERDICT: pass, or the start of the refusal the checker must give), and zstream dump's record
# counts per stream into /share/out/record-counts.txt. The datasets are small but
# have what makes records differ: many files (OBJECT, FREE), compressible and random data and
# large blocks (WRITE with and without compression), tiny files (WRITE_EMBEDDED), many xattrs
# in system attributes (SPILL), a volume, an encrypted dataset (raw), a clone and a bookmark.
set -euo pipefail

OUT=/share/out
VDEV=/var/tmp/vdev
rm -rf "$OUT"
mkdir -p "$OUT" "$VDEV"
step() { echo "--- [${SECONDS}s] $*"; }
guid() { zfs get -Hp -o value guid "$1"; }
# put NAME DATASET KIND FROM_GUID SUBSTREAMS VERDICT -- zfs send ARGS...
put() {
  local name=$1 ds=$2 kind=$3 from=$4 subs=$5 verdict=$6
  shift 7
  zfs send "$@" | gzip -9n >"$OUT/$name.zstream.gz"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$ds" "$kind" "$from" "$subs" "$verdict" >>"$OUT/manifest.txt"
  echo "$name: zfs send $* -> $(zcat "$OUT/$name.zstream.gz" | wc -c) bytes"
  # What the stream holds, by record type (zstream dump's totals), for the README.
  { echo "== $name: zfs send $*"; zcat "$OUT/$name.zstream.gz" | zstream dump | grep '^	Total DRR_'; } >>"$OUT/record-counts.txt"
}

step "zfs version"
zfs version | tee "$OUT/zfs-version.txt"

step "pool and datasets"
truncate -s 1G "$VDEV/src.img" "$VDEV/dst.img"
zpool create -f -o ashift=12 src "$VDEV/src.img"
zpool create -f dst "$VDEV/dst.img"
# Legacy dnodes: the xattrs below do not fit the bonus buffer and go to a spill block.
zfs create -o compression=lz4 -o recordsize=1M -o xattr=sa -o dnodesize=legacy src/fs
for i in $(seq 1 200); do echo "file $i" >"/src/fs/small-$i"; done   # embedded, OBJECT records
{ yes 'zfs-puller stream fixture: compressible text' || true; } | head -c 1536K >/src/fs/text
dd if=/dev/urandom of=/src/fs/random bs=64k count=1 status=none
touch /src/fs/xattrs
python3 -c 'import os
for i in range(60): os.setxattr("/src/fs/xattrs", "user.attr%d" % i, b"x" * 200)'
zfs snapshot src/fs@s1
zfs bookmark src/fs@s1 src/fs#b1
rm -f /src/fs/small-1*; echo more >>/src/fs/text
dd if=/dev/urandom of=/src/fs/random2 bs=16k count=2 status=none
zfs snapshot src/fs@s2
echo third >/src/fs/third
zfs snapshot src/fs@s3
zfs create src/fs/kid
echo kid >/src/fs/kid/file
zfs set canmount=on setuid=on exec=on devices=on sharenfs=on src/fs/kid
zfs snapshot -r src/fs@s4
zfs clone src/fs@s1 src/clone
echo clone >/src/clone/c
zfs snapshot src/clone@c1
zfs create -V 4M -o volblocksize=16k src/vol
sleep 1
dd if=/dev/urandom of=/dev/zd0 bs=16k count=4 status=none 2>/dev/null || zfs list src/vol
zfs snapshot src/vol@v1
printf 'zfs-puller-fixture\n' >/root/enc.key
zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///root/enc.key src/enc
echo secret >/src/enc/file
zfs snapshot src/enc@e1
echo more >/src/enc/file2
zfs snapshot src/enc@e2

step "streams"
put full src/fs filesystem 0 1 pass -- -L -c -e src/fs@s1
put full-plain src/fs filesystem 0 1 pass -- src/fs@s1
put incr-i src/fs filesystem "$(guid src/fs@s1)" 1 pass -- -L -c -e -i src/fs@s1 src/fs@s2
put incr-I src/fs filesystem "$(guid src/fs@s1)" 2 pass -- -L -c -e -I src/fs@s1 src/fs@s3
put bookmark src/fs filesystem "$(guid src/fs@s1)" 1 pass -- -L -c -e -i 'src/fs#b1' src/fs@s2
put clone src/clone filesystem "$(guid src/fs@s1)" 1 pass -- -L -c -e -i src/fs@s1 src/clone@c1
put volume src/vol volume 0 1 pass -- -L -c -e src/vol@v1
put raw src/enc filesystem 0 1 pass -- -w src/enc@e1
put raw-I src/enc filesystem "$(guid src/enc@e1)" 1 pass -- -w -I src/enc@e1 src/enc@e2
put props src/fs filesystem 0 1 pass -- -p src/fs@s1
# What a hostile source could answer instead: a replication stream with a child.
put replicate src/fs filesystem 0 4 "the source sent a stream for src/fs/kid@" -- -R -p src/fs@s4
# A resumable partial receive and the resume stream.
zfs send -L -c -e src/fs@s1 | head -c 200000 | zfs receive -s dst/partial || true
token=$(zfs get -H -o value receive_resume_token dst/partial)
put resume src/fs filesystem 0 1 pass -- -t "$token"
ls -l "$OUT"

#!/bin/bash
# Measures what every program the gatekeeper may start asks of the kernel: runs each allowed
# production (zfs/zpool on real OpenZFS, then each pipeline tool) under `strace -f`, with the
# gatekeeper's fixed environment, cwd /, stdin /dev/null and stdout a pipe, as root and as a
# `zfs allow`-delegated user. Raw traces land in OUT/raw/<production>.<who>.strace; strace-summary
# turns them into tests/fixtures/syscall-traces/. It never judges: it only records.
#
# Usage (as root): trace-syscalls.sh OUT [--tools-only]
#   In the e2e guest: tests/e2e/trace-syscalls (host side) boots the guest with this script.
#   On a host without zfs: --tools-only traces the pipeline tools (and socat against a local
#   listener) only.
set -u
OUT=${1:?usage: trace-syscalls.sh OUT [--tools-only]}
TOOLS_ONLY=0
[ "${2:-}" = --tools-only ] && TOOLS_ONLY=1
RAW=$OUT/raw
mkdir -p "$RAW"
chmod 0777 "$OUT" "$RAW"
STRACE=$(command -v strace) || { echo "strace missing" >&2; exit 1; }
USER_NAME=zgtrace
say() { echo "trace: $*" >&2; }

# The gatekeeper's child environment (supervisor.cpp child_environment), cwd /, stdin /dev/null.
as_root() { (cd / && exec env -i PATH=/nonexistent LC_ALL=C "$@"); }
as_user() { (cd / && exec setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups \
                 env -i PATH=/nonexistent LC_ALL=C "$@"); }

# trace NAME WHO CMD...: one production, stdout into a pipe that is read to the end.
trace() {
  local name=$1 who=$2; shift 2
  local f="$RAW/$name.$who.strace" rc
  if [ "$who" = root ]; then
    as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" </dev/null | cat >/dev/null
  else
    as_user "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" </dev/null | cat >/dev/null
  fi
  rc=${PIPESTATUS[0]}
  echo "$name $who rc=$rc" >>"$OUT/runs.txt"
  say "$name $who rc=$rc"
}
both() { local name=$1; shift; trace "$name" root "$@"; trace "$name" user "$@"; }

# trace_receive NAME WHO SOURCE_CMD -- ZFS_RECEIVE...: a receive reading a stream on stdin (the
# restore preset: the gatekeeper hands the client's stdin to it).
trace_receive() {
  local name=$1 who=$2 source=$3; shift 4
  local f="$RAW/$name.$who.strace" rc
  if [ "$who" = root ]; then
    $source | as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | cat >/dev/null
  else
    $source | as_user "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | cat >/dev/null
  fi
  rc=${PIPESTATUS[1]}
  echo "$name $who rc=$rc" >>"$OUT/runs.txt"
  say "$name $who rc=$rc"
}

# trace_filter NAME WHO INPUT_CMD -- TOOL...: a pipeline tool reading a stream from a pipe.
trace_tool() {
  local name=$1 who=$2 input=$3; shift 3
  local f="$RAW/$name.$who.strace" rc
  if [ "$who" = root ]; then
    $input | as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | cat >/dev/null
  else
    $input | as_user "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | cat >/dev/null
  fi
  rc=${PIPESTATUS[1]}
  echo "$name $who rc=$rc" >>"$OUT/runs.txt"
  say "$name $who rc=$rc"
}

# The reader goes away after 64 KiB: the writer's EPIPE / SIGPIPE path.
trace_tool_cut() {
  local name=$1 who=$2 input=$3; shift 3
  local f="$RAW/$name.$who.strace"
  if [ "$who" = root ]; then
    $input | as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | head -c 65536 >/dev/null
  else
    $input | as_user "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" | head -c 65536 >/dev/null
  fi
  echo "$name $who rc=${PIPESTATUS[1]}" >>"$OUT/runs.txt"
}

id "$USER_NAME" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$USER_NAME"
: >"$OUT/runs.txt"
{
  echo "kernel=$(uname -r)"
  echo "strace=$("$STRACE" -V | head -n1)"
  [ -r /sys/module/zfs/version ] && echo "zfs=$(cat /sys/module/zfs/version)"
  command -v zfs >/dev/null && echo "zfs_userland=$(zfs version 2>/dev/null | head -n1)"
  for t in lzop gzip pigz zstd xz lz4 mbuffer socat; do
    p=$(command -v $t) && echo "$t=$p $(dpkg -S "$(readlink -f "$p")" 2>/dev/null | cut -d: -f1)"
  done
} >"$OUT/versions.txt"

# A stream to feed the tools: 24 MiB, half incompressible, half zeros (like a zfs send stream).
STREAM=/tmp/zg-stream.bin
{ head -c 12582912 /dev/urandom; head -c 12582912 /dev/zero; } >"$STREAM"
chmod 0644 "$STREAM"
feed() { cat "$STREAM"; }

if [ "$TOOLS_ONLY" = 0 ]; then
  ZFS=$(command -v zfs) ZPOOL=$(command -v zpool)
  say "pool setup"
  truncate -s 1G /var/tmp/zg-tank.img
  zpool create -f -o ashift=12 -O mountpoint=/tank tank /var/tmp/zg-tank.img || exit 1
  zfs create tank/data && zfs create tank/data/child
  head -c 4194304 /dev/urandom >/tank/data/f1
  zfs snapshot -r tank/data@s1
  zfs bookmark tank/data@s1 tank/data#b1
  head -c 4194304 /dev/urandom >/tank/data/f2
  zfs snapshot -r tank/data@s2
  zfs snapshot -r tank/data@syncoid_s3
  zfs set syncoid:sync=true tank/data
  echo 'zg-trace-passphrase' >/root/zg.key
  zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///root/zg.key tank/enc
  head -c 2097152 /dev/urandom >/tank/enc/f
  zfs snapshot tank/enc@e1
  head -c 1048576 /dev/urandom >/tank/enc/g
  zfs snapshot tank/enc@e2
  # A resumable receive cut short leaves a token on tank/recv.
  zfs send tank/data@s1 | head -c 2500000 | zfs receive -s tank/recv 2>/dev/null
  TOKEN=$(zfs get -H -o value receive_resume_token tank/recv)
  say "resume token: ${TOKEN:0:40}..."
  for s in s4 s5 s6 s7 s8 s9; do zfs snapshot tank/data@syncoid_$s; done
  zfs hold keep tank/data@syncoid_s9
  zfs allow -u "$USER_NAME" send,snapshot,destroy,mount,hold,release,bookmark,userprop tank
  zfs allow -u "$USER_NAME" send,snapshot,destroy,mount,hold,release,bookmark,userprop tank/recv
  # The restore preset's receive target: what a restore identity's user is granted.
  zfs create tank/restore
  zfs allow -u "$USER_NAME" receive,create,mount,readonly,canmount,setuid,exec,devices,mountpoint tank/restore

  say "zpool and zfs reads"
  both zpool-get "$ZPOOL" get -o value -H feature@extensible_dataset -- tank
  both get-syncoid-sync "$ZFS" get -H syncoid:sync -- tank/data
  both get-type "$ZFS" get -H type -- tank/data
  both get-recordsize "$ZFS" get -H recordsize -- tank/data
  both get-snapshots "$ZFS" get -Hpd 1 -t snapshot guid,creation -- tank/data
  both get-snapshots-txg "$ZFS" get -Hpd 1 -t snapshot guid,creation,createtxg -- tank/data
  both get-children-typed "$ZFS" get -Hpd 1 type,guid,creation -- tank/data
  both get-children-typed-last "$ZFS" get -Hpd 1 guid,creation,type -- tank/data
  both get-children-typed-txg "$ZFS" get -Hpd 1 guid,creation,createtxg,type -- tank/data
  both get-bookmarks "$ZFS" get -Hpd 1 -t bookmark guid,creation -- tank/data
  both get-bookmarks-txg "$ZFS" get -Hpd 1 -t bookmark guid,creation,createtxg -- tank/data
  both get-local-properties "$ZFS" get -s local -H all -- tank/data
  both get-probe-snapshot-type "$ZFS" get -H -t snapshot
  both get-probe-createtxg "$ZFS" get -H createtxg -- tank/data
  both get-preflight-guid "$ZFS" get -H -p -o value guid -- tank/data@s1
  both get-missing "$ZFS" get -H -p -o value guid -- tank/data@nonexistent
  both list-recursive-origins "$ZFS" list -o name,origin -t filesystem,volume -Hr -- tank/data
  both list-puller-inventory "$ZFS" list -H -p -r -t all -o name,type,guid,createtxg,origin,encryption,written -- tank

  say "zfs send"
  both send-full "$ZFS" send -- tank/data@s1
  both send-full-flags "$ZFS" send -L -c -e -p -- tank/data@s1
  both send-full-verbose "$ZFS" send -v -- tank/data/child@s1
  both send-dedup "$ZFS" send -D -- tank/data@s1
  both send-flags-more "$ZFS" send -R -b -h -P -s -- tank/data@s2
  both send-proctitle "$ZFS" send -V -- tank/data@s1
  both send-incremental-I "$ZFS" send -I tank/data@s1 -- tank/data@s2
  both send-incremental-i "$ZFS" send -i tank/data@s1 -- tank/data@s2
  both send-incremental-bookmark "$ZFS" send -i tank/data#b1 -- tank/data@s2
  both send-replicate "$ZFS" send -R -- tank/data@s2
  both send-raw "$ZFS" send -w -- tank/enc@e1
  both send-raw-incremental "$ZFS" send -w -I tank/enc@e1 -- tank/enc@e2
  both send-resume "$ZFS" send -t "$TOKEN"
  both send-estimate "$ZFS" send -nvP -- tank/data@s1
  both send-estimate-incremental "$ZFS" send -nvP -I tank/data@s1 -- tank/data@s2
  both send-estimate-resume "$ZFS" send -nvP -t "$TOKEN"
  both send-missing "$ZFS" send -- tank/data@nonexistent
  # The reader hangs up mid-stream (syncoid killed): the EPIPE path.
  as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$RAW/send-cut.root.strace" "$ZFS" send -- tank/data@s2 \
    </dev/null | head -c 65536 >/dev/null
  echo "send-cut root rc=${PIPESTATUS[0]}" >>"$OUT/runs.txt"

  say "zfs changes"
  trace snapshot root "$ZFS" snapshot -- tank/data@syncoid_t1
  trace snapshot user "$ZFS" snapshot -- tank/data@syncoid_t2
  trace snapshot-many root "$ZFS" snapshot -- tank/data@syncoid_t3 tank/data/child@syncoid_t3
  trace hold root "$ZFS" hold -- syncoid_hold tank/data@syncoid_s4
  trace hold user "$ZFS" hold -- syncoid_hold tank/data@syncoid_s5
  trace release root "$ZFS" release -- syncoid_hold tank/data@syncoid_s4
  trace release user "$ZFS" release -- syncoid_hold tank/data@syncoid_s5
  trace bookmark root "$ZFS" bookmark -- tank/data@syncoid_s4 tank/data#syncoid_b4
  trace bookmark user "$ZFS" bookmark -- tank/data@syncoid_s5 tank/data#syncoid_b5
  trace destroy root "$ZFS" destroy -- tank/data@syncoid_s6
  trace destroy user "$ZFS" destroy -- tank/data@syncoid_s7
  both destroy-held "$ZFS" destroy -- tank/data@syncoid_s9
  both snapshot-exists "$ZFS" snapshot -- tank/data@s1

  say "zfs receive (restore) and the live checks"
  RECV=("$ZFS" receive -s -u -o readonly=on -o canmount=noauto -o setuid=off -o exec=off -o devices=off -x mountpoint --)
  send_s1() { "$ZFS" send tank/data@s1; }
  send_s1_cut() { "$ZFS" send tank/data@s1 | head -c 2500000; }
  send_enc() { "$ZFS" send -w tank/enc@e1; }
  trace_receive receive root send_s1 -- "${RECV[@]}" tank/restore/r-root
  trace_receive receive user send_s1 -- "${RECV[@]}" tank/restore/r-user
  trace_receive receive-raw user send_enc -- "${RECV[@]}" tank/restore/e-user
  trace_receive receive-exists user send_s1 -- "${RECV[@]}" tank/restore/r-user
  trace_receive receive-cut user send_s1_cut -- "${RECV[@]}" tank/restore/c-user
  RTOKEN=$(zfs get -H -o value receive_resume_token tank/restore/c-user)
  send_resumed() { "$ZFS" send -t "$RTOKEN"; }
  trace_receive receive-resume user send_resumed -- "${RECV[@]}" tank/restore/c-user
  both get-receive-resume-token "$ZFS" get -H -p -o name,value receive_resume_token -- tank/restore/c-user
  both list-restore-targets "$ZFS" list -H -p -o name,receive_resume_token -r -t filesystem,volume -- tank/restore
  both list-guids-below "$ZFS" list -H -p -o guid -r -t filesystem,volume,snapshot,bookmark -- tank/data

  # Root bounding set: which capabilities does root's zfs need for each production?
  if command -v capsh >/dev/null; then
    say "root capability measurement"
    "$(dirname "$0")/measure-root-caps.sh" "$OUT" "$TOKEN" >/dev/null
  fi
fi

say "pipeline tools"
tool() { local name=$1; shift; trace_tool "$name" root feed "$@"; trace_tool "$name" user feed "$@"; }
tool lzop "$(command -v lzop)"
tool gzip-3 "$(command -v gzip)" -3
tool pigz-3 "$(command -v pigz)" -3
tool pigz-9 "$(command -v pigz)" -9
tool zstd-3 "$(command -v zstd)" -3
tool zstd-19 "$(command -v zstd)" -19
tool zstdmt-3 "$(command -v zstdmt)" -3
tool zstdmt-19 "$(command -v zstdmt)" -19
tool xz "$(command -v xz)"
tool lz4 "$(command -v lz4)"
tool mbuffer "$(command -v mbuffer)" -q -s 128k -m 16M
tool mbuffer-rate "$(command -v mbuffer)" -R 200M -q -s 128k -m 16M
# SIGTERM mid-stream (the supervisor's answer to a client hang-up): handlers run and return.
trace_tool_term() {
  local name=$1; shift
  local f="$RAW/$name.root.strace"
  (feed; sleep 3) | as_root "$STRACE" -f -qq -e trace=all -s 256 -o "$f" "$@" >/dev/null &
  sleep 2
  pkill -TERM -P "$(pgrep -n -f "$STRACE -f -qq -e trace=all -s 256 -o $f")" 2>/dev/null
  wait
  echo "$name root (SIGTERM)" >>"$OUT/runs.txt"
}
for t in lzop gzip pigz zstd zstdmt xz lz4 mbuffer; do
  case $t in mbuffer) a=(-q -s 128k -m 16M) ;; pigz|zstd|zstdmt|gzip) a=(-3) ;; *) a=() ;; esac
  trace_tool_term "$t-term" "$(command -v $t)" "${a[@]}"
done
for t in lzop gzip pigz zstd zstdmt xz lz4 mbuffer; do
  case $t in mbuffer) a=(-q -s 128k -m 16M) ;; pigz|zstd|zstdmt|gzip) a=(-3) ;; *) a=() ;; esac
  trace_tool_cut "$t-cut" root feed "$(command -v $t)" "${a[@]}"
done

if command -v socat >/dev/null && command -v python3 >/dev/null; then
  say "socat"
  # A local listener that drains the stream (stands in for the receiving syncoid's socat).
  python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 39999)); s.listen(4)
for _ in range(5):
    c, _ = s.accept()
    while c.recv(1 << 16): pass
    c.close()
' &
  LISTENER=$!
  sleep 1
  tool socat "$(command -v socat)" - TCP:localhost:39999,retry=3,interval=1
  tool socat-ip "$(command -v socat)" - TCP:127.0.0.1:39999,retry=3,interval=1
  trace_tool_term socat-term "$(command -v socat)" - TCP:localhost:39999,retry=3,interval=1
  kill "$LISTENER" 2>/dev/null
  # Nobody listens: the retry path.
  trace_tool socat-refused root feed "$(command -v socat)" - TCP:127.0.0.1:39998,retry=1,interval=1
  # A name only DNS knows: a private mount namespace points resolv.conf at a stub resolver on
  # 127.0.0.1:53 that answers every A query with 127.0.0.1 (and AAAA with nothing).
  if command -v unshare >/dev/null; then
    python3 - <<'PY' &
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53)); s.settimeout(30)
try:
    while True:
        q, peer = s.recvfrom(512)
        qid, qd = q[:2], q[12:]
        end = qd.index(0) + 5
        qtype = struct.unpack(">H", qd[end - 4:end - 2])[0]
        answer = b"\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x7f\x00\x00\x01" if qtype == 1 else b""
        s.sendto(qid + b"\x81\x80\x00\x01" + struct.pack(">H", 1 if answer else 0) + b"\x00\x00\x00\x00" + qd[:end] + answer, peer)
except socket.timeout:
    pass
PY
    DNS=$!
    python3 -c '
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 39999)); s.listen(2)
c, _ = s.accept()
while c.recv(1 << 16): pass
' &
    LISTENER=$!
    sleep 1
    echo "nameserver 127.0.0.1" >/tmp/zg-resolv.conf
    feed | unshare -m sh -c "mount --bind /tmp/zg-resolv.conf /etc/resolv.conf && cd / && exec env -i PATH=/nonexistent LC_ALL=C $STRACE -f -qq -e trace=all -s 256 -o $RAW/socat-dns.root.strace $(command -v socat) - TCP:receiver.zg-test.invalid:39999,retry=3,interval=1" >/dev/null
    echo "socat-dns root rc=$?" >>"$OUT/runs.txt"
    kill "$DNS" "$LISTENER" 2>/dev/null
    wait "$DNS" 2>/dev/null
    # The resolver gets no answer (port unreachable): its retry path.
    feed | unshare -m sh -c "mount --bind /tmp/zg-resolv.conf /etc/resolv.conf && cd / && exec env -i PATH=/nonexistent LC_ALL=C $STRACE -f -qq -e trace=all -s 256 -o $RAW/socat-dns-noanswer.root.strace $(command -v socat) - TCP:receiver.zg-test.invalid:39999,retry=1,interval=1" >/dev/null
    echo "socat-dns-noanswer root rc=$?" >>"$OUT/runs.txt"
  fi
fi

rm -f "$STREAM"
say "done: $(wc -l <"$OUT/runs.txt") runs"

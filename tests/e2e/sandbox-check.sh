#!/bin/bash
# Guest side of the sandbox check (runs as root in the e2e guest; host side: sandbox-check):
# every production syncoid sends goes through the real gatekeeper, sandbox on, as root and as a
# `zfs allow`-delegated user, and must do exactly what the same command does unsandboxed:
#   reads     same exit status and stdout as the command run directly;
#   sends     the stream (decompressed, for pipelines) has the same sha256 as a direct send;
#   changes   exit 0 and the change is visible afterwards.
# Every outcome record must show no stage ended by a signal. Each run is also traced with
# `strace -f`, and every failed syscall of a sandboxed child (EACCES from the fence, EPERM,
# ENOSYS) is listed in OUT/denials.txt for review.
# Prints `PASS name` / `FAIL name: why` lines; exit status 1 if any FAIL.
set -u
OUT=${1:?usage: sandbox-check.sh OUT}
mkdir -p "$OUT"
USER_NAME=zgcheck
GK=/usr/local/bin/zfs-gatekeeper
install -m 0755 /share/bin/zfs-gatekeeper "$GK"
WORK=/var/tmp/zgcheck
rm -rf "$WORK"; mkdir -p "$WORK"; chmod 0777 "$WORK"
id "$USER_NAME" >/dev/null 2>&1 || useradd -M -d /nonexistent -s /usr/sbin/nologin "$USER_NAME"
fails=0
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; fails=$((fails + 1)); }

install -d -m 0755 /etc/zgcheck
cat >/etc/zgcheck/policy.toml <<EOF
[programs]
zfs = "$(command -v zfs)"
zpool = "$(command -v zpool)"
lzop = "/usr/bin/lzop"
mbuffer = "/usr/bin/mbuffer"
gzip = "/usr/bin/gzip"
pigz = "/usr/bin/pigz"
zstd = "/usr/bin/zstd"
zstdmt = "/usr/bin/zstdmt"
xz = "/usr/bin/xz"
lz4 = "/usr/bin/lz4"
[audit]
file = "$WORK/audit.jsonl"
[identity.t]
datasets = ["tank/data", "tank/enc"]
preset = "syncoid-pull"
snapshot_prefix = "syncoid_"
allow_destroy = true
tools = ["lzop", "gzip", "pigz", "zstd", "zstdmt", "xz", "lz4", "mbuffer"]
EOF
chmod 0644 /etc/zgcheck/policy.toml
# Both identities append to one audit file (the policy names one).
touch "$WORK/audit.jsonl" && chmod 0666 "$WORK/audit.jsonl"
STRACE=$(command -v strace)
"$GK" --policy /etc/zgcheck/policy.toml --check || exit 1
"$GK" --policy /etc/zgcheck/policy.toml --print-sandbox >"$OUT/print-sandbox.txt" 2>&1

truncate -s 1G /var/tmp/zgcheck-tank.img
zpool create -f -o ashift=12 -O mountpoint=/tank tank /var/tmp/zgcheck-tank.img || exit 1
zfs create tank/data && zfs create tank/data/child
head -c 4194304 /dev/urandom >/tank/data/f1
zfs snapshot -r tank/data@s1
zfs bookmark tank/data@s1 tank/data#b1
head -c 4194304 /dev/urandom >/tank/data/f2
zfs snapshot -r tank/data@s2
zfs set syncoid:sync=true tank/data
echo 'zg-check-passphrase' >/root/zg.key
zfs create -o encryption=on -o keyformat=passphrase -o keylocation=file:///root/zg.key tank/enc
head -c 2097152 /dev/urandom >/tank/enc/f; zfs snapshot tank/enc@e1
head -c 1048576 /dev/urandom >/tank/enc/g; zfs snapshot tank/enc@e2
zfs create tank/data/recv
zfs send tank/data@s1 | head -c 2500000 | zfs receive -s -F tank/data/recv/r 2>/dev/null
TOKEN=$(zfs get -H -o value receive_resume_token tank/data/recv/r)
zfs allow -u "$USER_NAME" send,snapshot,destroy,mount,hold,release,bookmark tank
# The root bounding-set measurement (unsandboxed), on the same pool.
/share/measure-root-caps.sh "$OUT" "$TOKEN" | sed 's/^/# caps: /'

# gk WHO NAME COMMAND: the command through the gatekeeper; stdout to $WORK/NAME.WHO.out.
gk() {
  local who=$1 name=$2 cmd=$3 f="$WORK/$2.$1"
  local run=(env -i "SSH_ORIGINAL_COMMAND=$cmd" "$STRACE" -f -qq -o "$f.strace" "$GK" --policy /etc/zgcheck/policy.toml --identity t)
  if [ "$who" = user ]; then
    (cd / && setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups "${run[@]}" </dev/null >"$f.out" 2>"$f.err")
  else
    (cd / && "${run[@]}" </dev/null >"$f.out" 2>"$f.err")
  fi
  echo $?
}
# direct WHO CMD...: the same program run directly, same environment.
direct() {
  local who=$1; shift
  if [ "$who" = user ]; then
    (cd / && setpriv --reuid="$USER_NAME" --regid="$USER_NAME" --clear-groups env -i PATH=/usr/sbin:/usr/bin LC_ALL=C sh -c "$*" </dev/null 2>/dev/null)
  else
    (cd / && env -i PATH=/usr/sbin:/usr/bin LC_ALL=C sh -c "$*" </dev/null 2>/dev/null)
  fi
}
no_signals() {  # the last outcome record: no stage ended by a signal
  python3 -c '
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1]) if "\"outcome\"" in l]
o = recs[-1]
bad = [s for s in o["stages"] if s.get("signal")]
sys.exit(1 if bad or o["sandbox"].get("seccomp") is not True else 0)' "$WORK/audit.jsonl"
}
denials() {  # failed syscalls of sandboxed children, for review
  grep -hE '= -1 (EACCES|EPERM|ENOSYS)' "$WORK/$2.$1.strace" 2>/dev/null | sed "s/^[0-9]* */$2.$1: /" >>"$OUT/denials.txt"
}

read_check() {  # read_check NAME COMMAND
  local name=$1 cmd=$2 who rc drc
  for who in root user; do
    rc=$(gk $who "$name" "$cmd")
    direct $who "$cmd" >"$WORK/$name.$who.direct"; drc=$?
    denials $who "$name"
    if [ "$rc" = "$drc" ] && cmp -s "$WORK/$name.$who.out" "$WORK/$name.$who.direct" && no_signals; then
      pass "$name.$who (rc $rc)"
    else
      fail "$name.$who" "rc $rc vs direct $drc; $(head -c 200 "$WORK/$name.$who.err" | tr '\n' ' ')"
    fi
  done
}

stream_check() {  # stream_check NAME COMMAND DECOMPRESS REFERENCE_COMMAND
  local name=$1 cmd=$2 dec=$3 ref=$4 who rc a b
  for who in root user; do
    rc=$(gk $who "$name" "$cmd")
    denials $who "$name"
    a=$($dec <"$WORK/$name.$who.out" | sha256sum | cut -c1-64)
    b=$(direct $who "$ref" | sha256sum | cut -c1-64)
    if [ "$rc" = 0 ] && [ "$a" = "$b" ] && no_signals; then
      pass "$name.$who ($(stat -c %s "$WORK/$name.$who.out") bytes)"
    else
      fail "$name.$who" "rc $rc, sha ${a:0:12} vs ${b:0:12}; $(head -c 200 "$WORK/$name.$who.err" | tr '\n' ' ')"
    fi
  done
}

change_check() {  # change_check WHO NAME COMMAND VERIFY_COMMAND
  local who=$1 name=$2 cmd=$3 verify=$4 rc
  rc=$(gk "$who" "$name" "$cmd")
  denials "$who" "$name"
  if [ "$rc" = 0 ] && sh -c "$verify" >/dev/null 2>&1 && no_signals; then
    pass "$name.$who"
  else
    fail "$name.$who" "rc $rc; $(head -c 200 "$WORK/$name.$who.err" | tr '\n' ' ')"
  fi
}

: >"$OUT/denials.txt"
read_check zpool-get "zpool get -o value -H feature@extensible_dataset 'tank'"
read_check get-syncoid-sync "zfs get -H syncoid:sync 'tank/data'"
read_check get-type "zfs get -H type 'tank/data'"
read_check get-recordsize "zfs get -H recordsize 'tank/data'"
read_check get-snapshots "zfs get -Hpd 1 -t snapshot guid,creation 'tank/data'"
read_check get-snapshots-txg "zfs get -Hpd 1 -t snapshot guid,creation,createtxg 'tank/data'"
read_check get-children "zfs get -Hpd 1 type,guid,creation 'tank/data'"
read_check get-bookmarks "zfs get -Hpd 1 -t bookmark guid,creation 'tank/data'"
read_check get-local "zfs get -s local -H all 'tank/data'"
read_check list-origins "zfs list -o name,origin -t filesystem,volume -Hr 'tank/data'"
read_check estimate-full "zfs send -nvP 'tank/data@s1'"
read_check estimate-incr "zfs send -nvP -I 'tank/data@s1' 'tank/data@s2'"
read_check estimate-resume "zfs send -nvP -t $TOKEN"
read_check estimate-raw "zfs send -w -nvP -I 'tank/enc@e1' 'tank/enc@e2'"

cat_=cat
stream_check send-full " zfs send  'tank/data'@'s1'" $cat_ "zfs send tank/data@s1"
stream_check send-incr-I " zfs send  -I 'tank/data'@'s1' 'tank/data'@'s2'" $cat_ "zfs send -I tank/data@s1 tank/data@s2"
stream_check send-incr-i " zfs send  -i 'tank/data'@'s1' 'tank/data'@'s2'" $cat_ "zfs send -i tank/data@s1 tank/data@s2"
stream_check send-bookmark " zfs send  -i 'tank/data'#'b1' 'tank/data'@'s2'" $cat_ "zfs send -i tank/data#b1 tank/data@s2"
stream_check send-raw " zfs send -w  'tank/enc'@'e1'" $cat_ "zfs send -w tank/enc@e1"
stream_check send-raw-incr " zfs send -w  -I 'tank/enc'@'e1' 'tank/enc'@'e2'" $cat_ "zfs send -w -I tank/enc@e1 tank/enc@e2"
stream_check send-resume " zfs send  -t $TOKEN" $cat_ "zfs send -t $TOKEN"
stream_check send-dedup " zfs send -D  'tank/data'@'s1'" $cat_ "zfs send -D tank/data@s1"
stream_check send-flags " zfs send -L -c -e  'tank/data'@'s1'" $cat_ "zfs send -L -c -e tank/data@s1"
M="mbuffer  -q -s 128k -m 16M 2>/dev/null"
stream_check pipe-lzop " zfs send  'tank/data'@'s1' | lzop  | $M" "lzop -dc" "zfs send tank/data@s1"
stream_check pipe-gzip " zfs send  'tank/data'@'s1' | gzip -3 | $M" "gzip -dc" "zfs send tank/data@s1"
stream_check pipe-pigz " zfs send  'tank/data'@'s1' | pigz -9 | $M" "pigz -dc" "zfs send tank/data@s1"
stream_check pipe-zstd " zfs send  'tank/data'@'s1' | zstd -3 | $M" "zstd -dc" "zfs send tank/data@s1"
stream_check pipe-zstdmt " zfs send  'tank/data'@'s1' | zstdmt -3 | $M" "zstd -dc" "zfs send tank/data@s1"
stream_check pipe-xz " zfs send  'tank/data'@'s1' | xz  | $M" "xz -dc" "zfs send tank/data@s1"
stream_check pipe-lz4 " zfs send  'tank/data'@'s1' | lz4  | $M" "lz4 -dc" "zfs send tank/data@s1"
stream_check pipe-mbuffer-rate " zfs send  'tank/data'@'s1' | lzop  | mbuffer  -R 50m -q -s 128k -m 16M" "lzop -dc" "zfs send tank/data@s1"

for who in root user; do
  s=syncoid_$who
  change_check $who snapshot " zfs snapshot 'tank/data'@'$s'" "zfs list -H tank/data@$s"
  change_check $who hold " zfs hold syncoid_h 'tank/data'@'$s'" "zfs holds -H tank/data@$s | grep -q syncoid_h"
  change_check $who release " zfs release syncoid_h 'tank/data'@'$s'" "! zfs holds -H tank/data@$s | grep -q syncoid_h"
  change_check $who bookmark " zfs bookmark 'tank/data'@'$s' 'tank/data'#'$s'" "zfs list -H -t bookmark tank/data#$s"
  change_check $who destroy " zfs destroy 'tank/data'@$s" "! zfs list -H tank/data@$s"
  zfs snapshot tank/data@${s}_a tank/data@${s}_b
  change_check $who prune-chain " zfs destroy 'tank/data'@${s}_a; zfs destroy 'tank/data'@${s}_b" \
    "! zfs list -H tank/data@${s}_a && ! zfs list -H tank/data@${s}_b"
done
# A reader that goes away mid-stream (syncoid killed): the stages end by SIGPIPE or EPIPE, never SIGSYS.
(cd / && env -i "SSH_ORIGINAL_COMMAND= zfs send  'tank/data'@'s2' | lzop  | $M" "$GK" --policy /etc/zgcheck/policy.toml --identity t | head -c 4096 >/dev/null)
if python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1]) if "\"outcome\"" in l][-1]
sys.exit(1 if any(s.get("sigsys") for s in o["stages"]) else 0)' "$WORK/audit.jsonl"; then
  pass "reader-hangs-up (no SIGSYS)"
else
  fail reader-hangs-up "a stage died of SIGSYS"
fi

cp "$WORK/audit.jsonl" "$OUT/audit.jsonl"
sort "$OUT/denials.txt" | sed -E 's/0x[0-9a-f]+/0x../g' | sort -u >"$OUT/denials-unique.txt"
echo "denials (unique): $(wc -l <"$OUT/denials-unique.txt")"
echo "$fails failed"
[ "$fails" = 0 ]

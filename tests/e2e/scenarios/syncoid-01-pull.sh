#!/bin/bash
# syncoid 2.1.0 full then incremental pull through the gatekeeper, default compression (every data
# send is ` zfs send ... | lzop  | mbuffer  -q -s 128k -m 16M 2>/dev/null`, run by the gatekeeper
# as three execve'd stages), twice:
#   A: zbackup@localhost:src/data -> dst/data       syncoid prefixes every zfs/zpool with `sudo`
#                                                  (zbackup has no sudo: the gatekeeper strips it)
#   B: zbackup@localhost:src/data-npe -> dst/data-npe   --no-privilege-elevation (no prefix)
source "$(dirname "$0")/lib.sh"
zg_setup

KEY=/root/.ssh/zg_backup
check no-sudo-in-guest test ! -e /usr/bin/sudo

# pull_pair LABEL SRC DST SUDO(yes|no) SYNCOID_OPTS...
pull_pair() {
  local label=$1 src=$2 dst=$3 sudo=$4; shift 4
  local mnt_src=/$src mnt_dst=/$dst mark first second
  destroy_ds "$src" "$dst"
  need "$label-create" zfs create "$src"
  fill "$mnt_src" 6 a
  zfs snapshot "$src@s1"
  fill "$mnt_src" 2 b
  zfs snapshot "$src@s2"

  mark=$(audit_mark)
  if run_syncoid "$label-full" --sshkey "$KEY" "$@" "$SRC_USER@localhost:$src" "$dst"; then
    pass "$label-full-pull"
  else
    fail "$label-full-pull" "syncoid failed (log $LOGDIR/$label-full.log)"
  fi
  assert_snaps "$label-full-source-snapshots" "$src" "s1 s2 SYNC"
  assert_snaps "$label-full-target-snapshots" "$dst" "s1 s2 SYNC"
  assert_same_snaps "$label-full-guids" "$src" "$dst"
  assert_same_tree "$label-full-contents" "$mnt_src" "$mnt_dst"
  first=$(sync_snaps "$src")
  audit_checks "$label-full" "$mark" "$sudo" full

  fill "$mnt_src" 3 c
  rm -f "$mnt_src/random-a.bin"
  echo changed >>"$mnt_src/sub-b/tiny"
  zfs snapshot "$src@s3"
  sleep 1   # a new second: the next sync snapshot gets a new name
  mark=$(audit_mark)
  if run_syncoid "$label-incremental" --sshkey "$KEY" "$@" "$SRC_USER@localhost:$src" "$dst"; then
    pass "$label-incremental-pull"
  else
    fail "$label-incremental-pull" "syncoid failed (log $LOGDIR/$label-incremental.log)"
  fi
  # The previous sync snapshot is pruned on both sides; s1..s3 stay.
  assert_snaps "$label-incremental-source-snapshots" "$src" "s1 s2 s3 SYNC"
  assert_snaps "$label-incremental-target-snapshots" "$dst" "s1 s2 s3 SYNC"
  second=$(sync_snaps "$src")
  if [ -n "$second" ] && [ "$second" != "$first" ]; then pass "$label-new-sync-snapshot" "$first -> $second"; else fail "$label-new-sync-snapshot" "sync snapshot [$first] -> [$second]"; fi
  assert_same_snaps "$label-incremental-guids" "$src" "$dst"
  assert_same_tree "$label-incremental-contents" "$mnt_src" "$mnt_dst"
  audit_checks "$label-incremental" "$mark" "$sudo" incremental
  destroy_ds "$dst" "$src"
}

# audit_checks LABEL MARK SUDO(yes|no) KIND(full|incremental): what the gatekeeper recorded for
# one syncoid run: the data sends ran as zfs | lzop | mbuffer, every stage exited 0, sudo was
# stripped from every zfs/zpool command exactly when syncoid sent it, nothing was denied.
audit_checks() {
  local label=$1 mark=$2 sudo=$3 kind=$4 out
  if out=$(audit_py "$mark" "$sudo" "$kind" <<'PY'
sudo, kind = sys.argv[1] == "yes", sys.argv[2]
sess, problems = sessions(recs)
denied = [s[0] for s in sess if s[0]["decision"] != "allow"]
if denied:
    problems.append("denied: %s (%s)" % (denied[0]["command"], denied[0].get("reason")))
sends = [s for s in sess if s[0].get("rule", "").startswith("send.") and not s[0]["rule"].startswith("send.estimate")]
want = "send.full" if kind == "full" else "send.incremental"
if not any(s[0]["rule"] == want for s in sends):
    problems.append("no %s session" % want)
for d, o in sends:
    progs = [st[0].rsplit("/", 1)[-1] for st in d["pipelines"][0]]
    if progs != ["zfs", "lzop", "mbuffer"]:
        problems.append("send ran as %s, not zfs | lzop | mbuffer" % progs)
    if o is None or o["exit_status"] != 0 or any(st.get("exit_code") != 0 for st in o["stages"]):
        problems.append("send outcome not clean: %s" % (o and o["stages"]))
for d, o in sess:
    if d["decision"] != "allow":
        continue
    zfsish = d.get("argv") and d["argv"][0][0] in ("/usr/sbin/zfs", "/usr/sbin/zpool")
    if zfsish and d["sudo_stripped"] != sudo:
        problems.append("sudo_stripped=%s for %r" % (d["sudo_stripped"], d["command"]))
    if not zfsish and d["sudo_stripped"]:
        problems.append("sudo_stripped on a non-zfs command %r" % d["command"])
    if zfsish and sudo and not d["command"].startswith("sudo "):
        problems.append("expected a sudo prefix on %r" % d["command"])
print("%d sessions, %d data sends" % (len(sess), len(sends)))
for p in problems:
    print("PROBLEM " + p)
sys.exit(1 if problems else 0)
PY
  ); then
    pass "$label-audit" "$out"
  else
    fail "$label-audit" "$(echo "$out" | grep PROBLEM | head -n 3 | tr '\n' ' ')"
  fi
}

pull_pair sudo src/data dst/data yes
pull_pair no-privilege-elevation src/data-npe dst/data-npe no --no-privilege-elevation
zg_finish

# Fresh Debian 12 minbase roots for the checks that must see what a new machine has: nothing.
# Sourced by tests/fresh-root/run, tests/fresh-root/deb and tests/fresh-root/enter; never run.
# A root is the cached mmdebstrap tarball unpacked into a temporary directory, entered with
# chroot; only the mirror's access settings and an apt download cache come from the host.
#
# Env: ZG_FRESH_ROOT_CACHE  where the base tarball is cached (default
#                           /var/cache/zfs-gatekeeper-fresh-root; rebuilt when missing)
#      ZG_FRESH_ROOT_APT_CACHE=0   do not share the host's /var/cache/apt/archives (downloads
#                           everything again; the packages are the same files either way)

FR_CACHE=${ZG_FRESH_ROOT_CACHE:-/var/cache/zfs-gatekeeper-fresh-root}
FR_SUITE=bookworm
FR_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

# The host's apt sources: the mirror the root installs from (the only one reachable here), in
# the two formats apt reads, each from its own files: `fr_sources deb822` prints the stanzas of
# sources.list.d/*.sources (Debian's cloud images, Docker's, mmdebstrap's own roots: a fresh
# root has only such a file, so tests/run-all in a fresh root finds its mirror too);
# `fr_sources one-line` the `deb` lines of sources.list and sources.list.d/*.list (the Debian
# installer's). mmdebstrap reads a sources file by its name's extension.
fr_sources() {
  local files=()
  shopt -s nullglob
  if [ "$1" = deb822 ]; then
    files=(/etc/apt/sources.list.d/*.sources)
    shopt -u nullglob
    # A blank line between two files' stanzas (one file: as it is).
    [ "${#files[@]}" = 0 ] || awk 'FNR == 1 && NR > 1 { print "" } { print }' "${files[@]}"
  else
    files=(/etc/apt/sources.list /etc/apt/sources.list.d/*.list)
    shopt -u nullglob
    grep -sh '^deb ' "${files[@]}" /dev/null
  fi
  return 0
}

# How the host reaches that mirror (proxy, a snapshot mirror's expired Release dates): the
# same settings in the root, so that its apt reaches what the host's reaches. No package
# choice is copied.
fr_mirror_aptconf() {
  apt-config dump 2>/dev/null |
    grep -E '^Acquire::(Check-Valid-Until|Check-Date|https?::Proxy|Retries) ' || true
}

# Prints the path of the base tarball, building it when missing (about a minute). Its name
# carries a hash of everything that goes into it: this recipe, the sources, the apt settings.
fr_base() {
  local recipe hash tar
  local deb822 one_line sources
  deb822=$(fr_sources deb822)
  one_line=$(fr_sources one-line)
  sources=$deb822${deb822:+${one_line:+$'\n'}}$one_line
  [ -n "$sources" ] || { echo "fresh-root: no apt source on this host" >&2; return 1; }
  recipe=$(printf 'mmdebstrap --mode=root --variant=minbase %s\n--- sources\n%s\n--- apt\n%s\n' \
             "$FR_SUITE" "$sources" "$(fr_mirror_aptconf)")
  hash=$(printf '%s' "$recipe" | sha256sum | cut -c1-16)
  tar=$FR_CACHE/minbase-$FR_SUITE-$hash.tar
  mkdir -p "$FR_CACHE"
  (
    flock 9
    if [ ! -s "$tar" ]; then
      local aptopts=() line dir files=()
      dir=$(mktemp -d)
      [ -z "$deb822" ] || { printf '%s\n' "$deb822" >"$dir/host.sources" && files+=("$dir/host.sources"); }
      [ -z "$one_line" ] || { printf '%s\n' "$one_line" >"$dir/host.list" && files+=("$dir/host.list"); }
      while IFS= read -r line; do
        [ -n "$line" ] && aptopts+=(--aptopt="$line")
      done < <(fr_mirror_aptconf)
      echo "fresh-root: building the minbase tarball $tar" >&2
      # The partial file's name ends in .tar too: mmdebstrap picks the format by the name.
      if ! mmdebstrap --quiet --mode=root --variant=minbase "${aptopts[@]}" \
             "$FR_SUITE" "${tar%.tar}.partial.tar" "${files[@]}" >&2; then
        rm -rf "$dir" "${tar%.tar}.partial.tar"
        exit 1
      fi
      rm -rf "$dir"
      printf '%s\n' "$recipe" >"$tar.recipe"
      mv "${tar%.tar}.partial.tar" "$tar"
    fi
  ) 9>"$FR_CACHE/base.lock" || return 1
  echo "$tar"
}

# fr_new DIR: a fresh root in DIR (created; must not exist), with /proc, /sys, /dev mounted
# and the mirror reachable.
fr_new() {
  local r=$1 tar
  tar=$(fr_base) || return 1
  mkdir -p "$r"
  tar -C "$r" -xpf "$tar" || return 1
  # mmdebstrap leaves the target directory 0700 (a private temporary directory); a root file
  # system's / is 0755, and unprivileged users (sshd's, useradd's) must be able to reach /tmp.
  chmod 0755 "$r"
  cp /etc/resolv.conf "$r/etc/resolv.conf"
  fr_mirror_aptconf >"$r/etc/apt/apt.conf.d/00zg-host-mirror"
  # A throwaway root: dpkg need not fsync every file it unpacks (about a third of the time).
  echo force-unsafe-io >"$r/etc/dpkg/dpkg.cfg.d/zg-unsafe-io"
  mount -t proc proc "$r/proc"
  mount -t sysfs sysfs "$r/sys"
  mount --rbind /dev "$r/dev"
  mount --make-rslave "$r/dev"
  if [ "${ZG_FRESH_ROOT_APT_CACHE:-1}" = 1 ] && [ -d /var/cache/apt/archives ]; then
    mount --bind /var/cache/apt/archives "$r/var/cache/apt/archives"
  fi
}

# Mount points at or below DIR, deepest first (mountinfo field 5 is the mount point).
fr_mounts() {
  awk -v r="$1" '$5 == r || index($5, r "/") == 1 { print $5 }' /proc/self/mountinfo | sort -r
}

# fr_remove DIR: unmounts everything below DIR and deletes it.
fr_remove() {
  local r=$1 m
  [ -d "$r" ] || return 0
  for m in $(fr_mounts "$r"); do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
  if [ -n "$(fr_mounts "$r")" ]; then
    echo "fresh-root: mounts remain below $r; not deleting it" >&2
    return 1
  fi
  rm -rf --one-file-system "$r"
}

# fr_copy_checkout SRC DIR: the checkout's tracked files as they are in the working tree (what
# a clean clone of HEAD holds, plus uncommitted edits to tracked files) into DIR. Without git,
# every file except build directories.
fr_copy_checkout() {
  local src=$1 dst=$2
  mkdir -p "$dst"
  if command -v git >/dev/null && git -C "$src" rev-parse --git-dir >/dev/null 2>&1; then
    local f
    (cd "$src" && git ls-files -z --cached | while IFS= read -r -d '' f; do
       [ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"   # a deleted file is not in the copy
     done | tar --null -T - -cf -) | tar -C "$dst" -xf -
  else
    (cd "$src" && tar --exclude='./build*' --exclude=./.git -cf - .) | tar -C "$dst" -xf -
  fi
}

# fr_run DIR CMD...: CMD in the root as root with a clean environment, like `sudo CMD` on a
# new machine.
fr_run() {
  local r=$1; shift
  chroot "$r" /usr/bin/env -i HOME=/root PATH="$FR_PATH" LANG=C.UTF-8 TERM=dumb "$@"
}

# --- What the two runners (run, deb) share: their temporary root, their PASS/FAIL counts. ---
fr_passed=0
fr_failed=0
fr_started=$SECONDS

# fr_give_up MESSAGE [STATUS]: a runner that cannot start still ends with a summary line.
fr_give_up() {
  echo "$1"
  echo "0 passed, 1 failed"
  exit "${2:-1}"
}

# fr_runner_root PREFIX: sets fr_root to an unused path in /var/tmp for fr_new; whatever made
# there is unmounted and removed however the runner ends.
fr_runner_root() {
  fr_root=$(mktemp -d "/var/tmp/$1.XXXXXX") && rmdir "$fr_root" || return 1
  trap 'fr_remove "$fr_root"' EXIT
  trap 'exit 130' INT TERM HUP
}

fr_pass() {
  fr_passed=$((fr_passed + 1))
  echo "PASS $*"
}

fr_fail() {
  fr_failed=$((fr_failed + 1))
  echo "FAIL $*"
}

# fr_finish WHAT: the runner's time and the summary line tests/run-all adds up; exits 1 after
# any failure.
fr_finish() {
  echo "$1: $((SECONDS - fr_started)) s in all"
  echo "$fr_passed passed, $fr_failed failed"
  [ "$fr_failed" = 0 ]
  exit
}

#!/usr/bin/env bash
# Builds wharf/debian:<release> (and :latest), the base image of light hosts, with
# `debootstrap --variant=minbase` of this machine's Debian release from the mirror in
# apt's sources, and imports it into the engine named by DOCKER_HOST (default: the local
# one). No registry needed. The root filesystem is kept as a tarball under .cache/, so
# another dockerd (an e2e host, a new machine with a copy of it) loads it in seconds.
#
#   scripts/build-debian-image.sh            build unless the image is there
#   scripts/build-debian-image.sh --force    debootstrap again and re-import
#   scripts/build-debian-image.sh --print-source   the mirror and suite it would use
#   scripts/build-debian-image.sh --rootfs-only    only build the cached rootfs (no dockerd
#                                                  needed; `npm test` starts it early)
#
# Exit codes: 0 done, 1 failed, 2 usage, 3 the mirror could not be reached.
# WHARF_CACHE_DIR (default: .cache/ of the repository) and WHARF_APT_ETC (default: /etc/apt).
#
# PID 1 is catatonit in pause mode (`catatonit -P`): an init that reaps every orphan
# and keeps the container alive by itself. tini would need a child to wait for
# (`tini -- sleep infinity`) and exits with it, so a user's `pkill sleep` would end the
# light host; catatonit -P has no child to lose and exits only on SIGTERM/SIGINT
# (`docker stop`).
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
apt_etc=${WHARF_APT_ETC:-/etc/apt}
packages=catatonit,bash,procps,iproute2,less,ca-certificates,openssh-sftp-server

usage() { echo "usage: $0 [--force | --print-source | --rootfs-only]" >&2; exit 2; }
say() { echo "wharf: $*" >&2; }

force=0
print_source=0
rootfs_only=0
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    --print-source) print_source=1 ;;
    --rootfs-only) rootfs_only=1 ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
done

# The first deb entry of apt's sources (files in the order apt reads them) that is
# neither a security archive nor an -updates/-backports suite: "URI SUITE FILE".
# One-line files: `deb [options] URI SUITE COMPONENTS…`; deb822 (.sources) files:
# stanzas with Types:, URIs:, Suites: and maybe Enabled: no.
apt_source() {
  local files=() f
  [ -f "$apt_etc/sources.list" ] && files+=("$apt_etc/sources.list")
  for f in "$apt_etc"/sources.list.d/*.list "$apt_etc"/sources.list.d/*.sources; do
    [ -f "$f" ] && files+=("$f")
  done
  for f in "${files[@]}"; do
    case $f in
      *.sources) awk -v file="$f" "$deb822" "$f" ;;
      *) awk -v file="$f" "$oneline" "$f" ;;
    esac | head -n 1 | grep . && return 0
  done
  return 1
}
# Shared by both parsers: a suite debootstrap can install (a release, not a pocket).
pick='function pick(uri, suite) { if (uri ~ /security/ || suite ~ /[-\/]/) return 0; print uri, suite, file; return 1 }'
oneline="$pick"'
  /^[ \t]*deb[ \t]/ {
    line = $0; sub(/^[ \t]*deb[ \t]+/, "", line); sub(/^\[[^]]*\][ \t]*/, "", line)
    split(line, w, /[ \t]+/)
    if (w[1] != "" && w[2] != "" && pick(w[1], w[2])) exit
  }'
deb822="$pick"'
  function flush(   u, s, i) {
    if (!done && (" " types " ") ~ / deb / && tolower(enabled) != "no" && uris != "" && suites != "") {
      split(uris, u, /[ \t]+/); n = split(suites, s, /[ \t]+/)
      for (i = 1; i <= n; i++) if (pick(u[1], s[i])) { done = 1; break }
    }
    types = ""; uris = ""; suites = ""; enabled = ""; key = ""
  }
  /^#/ { next }
  /^[ \t]*$/ { flush(); next }
  /^[ \t]/ { if (key == "uris") uris = uris " " $1; else if (key == "suites") suites = suites " " $1; next }
  {
    key = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
    gsub(/^[ \t]+|[ \t]+$/, "", v)
    if (key == "types") types = v; else if (key == "uris") uris = v; else if (key == "suites") suites = v; else if (key == "enabled") enabled = v
  }
  END { flush() }'

if ! source=$(apt_source); then
  say "no Debian mirror found in $apt_etc/sources.list or $apt_etc/sources.list.d/ (a deb line or a .sources stanza with URIs and a release suite)"
  exit 1
fi
read -r mirror suite source_file <<<"$source"
if [ "$print_source" = 1 ]; then echo "$mirror $suite"; exit 0; fi

# The image's tag is this machine's Debian major release (12 for 12.11).
release=$(. /etc/os-release && echo "${VERSION_ID:-}")
[ -n "$release" ] || { say "cannot tell the Debian release from /etc/os-release (VERSION_ID)"; exit 1; }
image=wharf/debian:$release
latest=wharf/debian:latest

has_image() { docker image inspect "$1" >/dev/null 2>&1; }
if [ "$force" = 0 ] && [ "$rootfs_only" = 0 ] && has_image "$image"; then
  has_image "$latest" || docker tag "$image" "$latest"
  say "$image is there (--force builds it again)"
  exit 0
fi

cache_dir=${WHARF_CACHE_DIR:-$repo/.cache}
tarball=$cache_dir/wharf-debian-$release-$(dpkg --print-architecture).tar
mkdir -p "$cache_dir"
# One build at a time per cache (two e2e runs would otherwise both debootstrap).
exec 9>"$tarball.lock"
flock 9

# The rootfs being built and debootstrap's log (global: the EXIT trap needs them).
root=
log=
remove_rootfs() {
  [ -n "$root" ] || return 0
  # debootstrap mounts /proc and /sys in the target; never remove through a mount.
  findmnt -rn -o TARGET | grep -F "$root/" | sort -r | xargs -r umount -l || true
  rm -rf --one-file-system "$root" "$log"
}

build_rootfs() {
  [ "$(id -u)" -eq 0 ] || { say "debootstrap needs root"; exit 1; }
  command -v debootstrap >/dev/null || { say "debootstrap is missing (run scripts/install-deps.sh as root)"; exit 1; }
  local started status
  trap remove_rootfs EXIT
  root=$(mktemp -d "${TMPDIR:-/var/tmp}/wharf-debian.XXXXXX")
  log=$root.log
  started=$SECONDS
  say "debootstrap --variant=minbase $suite from $mirror (as in $source_file); log: $log"
  # Progress: debootstrap's phase lines, not one line per package.
  set +e
  debootstrap --variant=minbase --include="$packages" "$suite" "$root" "$mirror" 2>&1 | tee "$log" \
    | awk '/^[IEW]: / && !/^I: (Retrieving|Validating|Extracting|Unpacking|Configuring) [a-z0-9]/ { print; fflush() }' >&2
  status=${PIPESTATUS[0]}
  set -e
  if [ "$status" -ne 0 ]; then
    local kept=$log
    log= # kept for reading
    if grep -qE 'Failed getting release file|Failure trying to run: wget|Temporary failure resolving|Connection refused|Network is unreachable|Unable to fetch' "$kept"; then
      say "cannot reach the Debian mirror $mirror (from $source_file); last lines of $kept:"
      tail -n 5 "$kept" >&2
      exit 3
    fi
    say "debootstrap failed ($status); last lines of $kept:"
    tail -n 20 "$kept" >&2
    exit 1
  fi
  say "trimming apt lists, caches, docs (copyright files stay), man pages and locales"
  rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/* "$root"/var/cache/debconf/*-old \
    "$root"/usr/share/man/* "$root"/usr/share/info/* "$root"/var/log/*.log "$root"/var/log/apt/*
  find "$root/usr/share/doc" -type f ! -name copyright -delete
  find "$root/usr/share/doc" -type d -empty -delete
  find "$root/usr/share/locale" -mindepth 1 -maxdepth 1 ! -name locale.alias -exec rm -rf {} +
  # Docker provides these per container; the build machine's must not leak into the image.
  rm -f "$root"/etc/hostname "$root"/etc/resolv.conf
  : > "$root/etc/machine-id"
  tar -C "$root" --numeric-owner --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tarball.tmp" .
  mv "$tarball.tmp" "$tarball"
  say "rootfs built in $((SECONDS - started)) s: $(du -h --apparent-size "$tarball" | cut -f1), cached as $tarball"
}

if [ "$force" = 1 ] || [ ! -s "$tarball" ]; then
  build_rootfs
else
  say "using the cached rootfs $tarball (--force builds it again)"
fi
[ "$rootfs_only" = 0 ] || exit 0

started=$SECONDS
say "importing $image into ${DOCKER_HOST:-the local dockerd}"
docker import \
  --change 'CMD ["/usr/bin/catatonit", "-P"]' \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'WORKDIR /root' \
  "$tarball" "$image" >/dev/null
docker tag "$image" "$latest"
say "imported $image and $latest in $((SECONDS - started)) s ($(docker image inspect -f '{{.Size}}' "$image" | numfmt --to=iec-i --suffix=B))"

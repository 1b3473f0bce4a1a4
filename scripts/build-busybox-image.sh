#!/usr/bin/env bash
# Builds the image wharf/busybox:latest from Debian's busybox-static and imports it
# into the engine named by DOCKER_HOST (default: the local one). No registry needed.
# It is the image of every set's infra container and a handy business image for tests.
set -euo pipefail

image=${WHARF_BUSYBOX_IMAGE:-wharf/busybox:latest}
if docker image inspect "$image" >/dev/null 2>&1; then exit 0; fi

bb=/bin/busybox
[ -x "$bb" ] || { echo "wharf: $bb missing (apt-get install busybox-static)" >&2; exit 1; }
file -L "$bb" 2>/dev/null | grep -q dynamic && { echo "wharf: $bb is not static" >&2; exit 1; }

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,etc,tmp,proc,sys,dev,root,var/log,usr/bin,usr/sbin}
cp "$bb" "$root/bin/busybox"
for applet in $("$bb" --list); do
  [ "$applet" = busybox ] || ln -sf /bin/busybox "$root/bin/$applet"
done
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$root/etc/group"

tar -C "$root" -c . | docker import \
  --change 'CMD ["sh"]' \
  --change 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
  - "$image" >/dev/null
echo "wharf: imported $image" >&2

#!/usr/bin/env bash
# Build the lab's systemd node base image (Debian 12) with debootstrap + docker import.
# No registry is needed. Idempotent: prints OK if IMAGE_TAG exists and was built from this script
# with the same package list and mirror (label io.openpai.lab.key), CHANGED after a build.
# The debootstrap package tarball is cached under /var/cache/openpai-lab so rebuilds need no downloads.
#
# Usage: build-base-image.sh IMAGE_TAG
# Env:   DEBIAN_MIRROR           (default: the Debian mirror of this host's apt sources, else deb.debian.org)
#        DEBIAN_SECURITY_MIRROR  (default: http://deb.debian.org/debian-security)
#        OPENPAI_LAB_CACHE       (default: /var/cache/openpai-lab)
#        OPENPAI_LAB_REBUILD=1   rebuild even if the image exists
set -euo pipefail

if [ "$#" -ne 1 ] || [ -z "$1" ]; then
  echo "usage: $0 IMAGE_TAG" >&2
  exit 2
fi
IMAGE_TAG=$1
SUITE=bookworm
CACHE=${OPENPAI_LAB_CACHE:-/var/cache/openpai-lab}
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,sudo,iproute2,iputils-ping,procps,ca-certificates,gnupg,curl,kmod,less,iptables


detect_mirror() {
  local uri
  # deb822 sources first, then one-line sources; first URI whose path ends in /debian.
  uri=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null \
        | tr ' ' '\n' | grep -E '^https?://[^ ]*/debian/?$' | head -n1 || true)
  if [ -z "$uri" ]; then
    uri=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null \
          | awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^https?:\/\//) { print $i; break } }' \
          | grep -E '/debian/?$' | head -n1 || true)
  fi
  echo "${uri:-http://deb.debian.org/debian}"
}
MIRROR=${DEBIAN_MIRROR:-$(detect_mirror)}
MIRROR=${MIRROR%/}
SECURITY_MIRROR=${DEBIAN_SECURITY_MIRROR:-http://deb.debian.org/debian-security}

key=$(printf '%s|%s|%s' "$SUITE" "$MIRROR" "$PACKAGES" | sha256sum | cut -c1-12)
# The image's key also covers this script (the units and adjustments it writes).
image_key=$(cat "$0" | sha256sum | cut -c1-12)-$key
old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE_TAG" 2>/dev/null || true)
if [ "${OPENPAI_LAB_REBUILD:-0}" != 1 ] && [ -n "$old_id" ] &&
   [ "$(docker image inspect -f '{{index .Config.Labels "io.openpai.lab.key"}}' "$IMAGE_TAG")" = "$image_key" ]; then
  echo OK
  exit 0
fi

command -v debootstrap >/dev/null 2>&1 || { echo "debootstrap is missing (run ensure-docker.sh)" >&2; exit 1; }

mkdir -p "$CACHE"
TARBALL="$CACHE/debootstrap-$SUITE-minbase-$key.tgz"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/openpai-lab-image.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT

if [ ! -s "$TARBALL" ]; then
  echo "downloading packages into $TARBALL (mirror $MIRROR)"
  debootstrap --variant=minbase --include="$PACKAGES" --make-tarball="$TARBALL.tmp" \
    "$SUITE" "$WORK/dl" "$MIRROR"
  mv "$TARBALL.tmp" "$TARBALL"
  rm -rf "$WORK/dl"
fi

ROOTFS="$WORK/rootfs"
mkdir -p "$WORK/empty-context"
echo "bootstrapping $SUITE into $ROOTFS"
debootstrap --variant=minbase --include="$PACKAGES" --unpack-tarball="$TARBALL" \
  "$SUITE" "$ROOTFS" "$MIRROR"

# --- container adjustments -------------------------------------------------------------
cat >"$ROOTFS/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SOURCES

# Units that fail or are pointless in a container (no consoles, no udev, no real hardware).
mask_units=(
  getty@.service serial-getty@.service console-getty.service getty.target
  systemd-udevd.service systemd-udevd-control.socket systemd-udevd-kernel.socket
  systemd-udev-trigger.service systemd-udev-settle.service systemd-hwdb-update.service
  systemd-resolved.service systemd-timesyncd.service
  systemd-modules-load.service kmod-static-nodes.service
  systemd-remount-fs.service systemd-firstboot.service
  systemd-journald-audit.socket systemd-pstore.service systemd-binfmt.service
  sys-kernel-debug.mount sys-kernel-tracing.mount sys-kernel-config.mount sys-fs-fuse-connections.mount
  proc-sys-fs-binfmt_misc.automount proc-sys-fs-binfmt_misc.mount dev-hugepages.mount dev-mqueue.mount
  e2scrub_all.timer e2scrub_reap.service fstrim.timer apt-daily.timer apt-daily-upgrade.timer
  cryptsetup.target swap.target
)
for unit in "${mask_units[@]}"; do
  ln -sf /dev/null "$ROOTFS/etc/systemd/system/$unit"
done

# Undo Docker's /proc and /sys masking early at boot, as `docker run --security-opt
# systempaths=unconfined` would (the Docker API has no such option, so community.docker and
# molecule cannot ask for it), and prepare mounts the way kind's node entrypoint does:
# writable /proc/sys (sysctls), writable /sys, recursively shared /.
cat >"$ROOTFS/usr/local/sbin/openpai-lab-unmask" <<'UNMASK'
#!/bin/sh
# openpai-lab node boot helper (test harness only).
for p in /proc/acpi /proc/asound /proc/bus /proc/fs /proc/irq /proc/kcore /proc/keys \
         /proc/latency_stats /proc/sched_debug /proc/scsi /proc/sysrq-trigger /proc/timer_list \
         /proc/timer_stats /sys/firmware /sys/devices/virtual/powercap; do
  if mountpoint -q "$p"; then umount -l "$p" || echo "openpai-lab-unmask: cannot unmount $p" >&2; fi
done
mount -o remount,bind,rw /proc/sys || echo "openpai-lab-unmask: /proc/sys stays read-only" >&2
mount -o remount,rw /sys || echo "openpai-lab-unmask: /sys stays read-only" >&2
mount --make-rshared / || echo "openpai-lab-unmask: / is not shared" >&2
exit 0
UNMASK
chmod 0755 "$ROOTFS/usr/local/sbin/openpai-lab-unmask"
cat >"$ROOTFS/etc/systemd/system/openpai-lab-unmask.service" <<'UNIT'
[Unit]
Description=openpai lab: writable /proc/sys and /sys, shared / (container only)
DefaultDependencies=no
ConditionVirtualization=container
Before=sysinit.target systemd-sysctl.service
After=systemd-journald.socket

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/openpai-lab-unmask

[Install]
WantedBy=sysinit.target
UNIT
mkdir -p "$ROOTFS/etc/systemd/system/sysinit.target.wants"
ln -sf /etc/systemd/system/openpai-lab-unmask.service \
  "$ROOTFS/etc/systemd/system/sysinit.target.wants/openpai-lab-unmask.service"

# Locale-free defaults: C.UTF-8 is built into glibc, no locales package needed.
echo 'LANG=C.UTF-8' >"$ROOTFS/etc/default/locale"
# systemd generates a machine id per container at boot.
: >"$ROOTFS/etc/machine-id"
rm -f "$ROOTFS/var/lib/dbus/machine-id"
ln -s /etc/machine-id "$ROOTFS/var/lib/dbus/machine-id"
# Docker manages these in the container.
: >"$ROOTFS/etc/hostname"
rm -f "$ROOTFS/etc/resolv.conf"
# Trim.
# Drop the package lists and the apt caches built from them, and date the lists directory to
# 1970: ansible.builtin.apt's cache_valid_time reads that mtime, and a fresh one would make it
# skip the update and find no packages.
rm -rf "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/var/lib/apt/lists/* \
  "$ROOTFS"/var/log/*.log
rm -f "$ROOTFS/var/lib/apt/periodic/update-success-stamp"
touch -d @0 "$ROOTFS/var/lib/apt/lists"

echo "importing $IMAGE_TAG"
# Docker 20.10's import rejects STOPSIGNAL, so import a raw layer and add the metadata with a
# local, offline build (FROM an image that exists locally needs no registry).
RAW_TAG="$IMAGE_TAG-rootfs"
tar --numeric-owner --xattrs -C "$ROOTFS" -c . | docker import \
  --message "openpai-lab Debian $SUITE systemd node ($MIRROR)" - "$RAW_TAG" >/dev/null
printf '%s\n' \
  "FROM $RAW_TAG" \
  'ENV container=docker LANG=C.UTF-8' \
  'LABEL io.openpai.lab.image=node' \
  "LABEL io.openpai.lab.key=$image_key" \
  'STOPSIGNAL SIGRTMIN+3' \
  'CMD ["/sbin/init"]' >"$WORK/Dockerfile"
DOCKER_BUILDKIT=0 docker build -q -t "$IMAGE_TAG" -f "$WORK/Dockerfile" "$WORK/empty-context" >/dev/null 2>"$WORK/build.err" || {
  cat "$WORK/build.err" >&2; exit 1; }
docker rmi "$RAW_TAG" >/dev/null 2>&1 || true
# A rebuild leaves the previous image untagged; drop it unless a container still uses it.
if [ -n "$old_id" ] && [ "$old_id" != "$(docker image inspect -f '{{.Id}}' "$IMAGE_TAG")" ]; then
  docker rmi "$old_id" >/dev/null 2>&1 || true
fi
echo CHANGED

#!/usr/bin/env bash
# Runs as npm's `pre` hook for `demo` and `test`, before any dependency may
# exist: installs the npm packages (from the committed lock) when they are
# missing or stale, and the Debian packages the lab and the host parts need.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/tsx ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund
fi

# Debian packages: only what is missing, only as root, and never fatal for
# the pure parts (planner tests run without them).
need=()
for pair in nft:nftables ip:iproute2 tc:iproute2 bridge:iproute2 qemu-system-x86_64:qemu-system-x86 systemd-analyze:systemd tmux:tmux; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
done
# The QEMU driver's test guest: a Debian kernel plus a static busybox initramfs.
ls /boot/vmlinuz-* >/dev/null 2>&1 || need+=(linux-image-amd64)
dpkg -s busybox-static >/dev/null 2>&1 || need+=(busybox-static)
# The libvirt driver's live tests: a private libvirtd per namespace (libvirtd
# looks up the libvirt-qemu user that libvirt-daemon-system creates).
command -v virsh >/dev/null 2>&1 || need+=(libvirt-clients)
getent passwd libvirt-qemu >/dev/null 2>&1 || need+=(libvirt-daemon-system)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "bootstrap: apt-get install ${need[*]}" >&2
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}") >&2 \
      || echo "bootstrap: apt-get failed; lab tests will be skipped" >&2
  else
    echo "bootstrap: missing ${need[*]} (run as root to install them)" >&2
  fi
fi

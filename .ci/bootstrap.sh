#!/usr/bin/env bash
# Runs as npm's `pre` hook for `demo` and `test` (and, with --npm-only, for
# `sandbox`), before any dependency may
# exist: installs the npm packages (from the committed lock) when they are
# missing or stale, and the Debian packages the lab and the host parts need.
#
# Debian packages are decided by dpkg's own records, never by `command -v`:
# inside an npm script PATH starts with node_modules/.bin, where ava's
# dependency @vercel/nft installs an `nft` that is not nftables, and a lookup
# through PATH once skipped installing nftables.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/node ] || [ ! -x node_modules/.bin/ava ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "bootstrap: npm ci" >&2
  npm ci --no-audit --no-fund --loglevel=error
fi

# The sandbox runs on the simulator: npm packages only, no Debian packages, no root.
if [ "${1:-}" = --npm-only ]; then exit 0; fi

installed() { [ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2>/dev/null)" = "ii " ]; }

# Each package and why (README, "What the two commands install").
# With --bench (the pre hook of bench:planner and bench:optimum) only what
# those benches run besides node: METIS for the baseline, GLPK for the optima.
if [ "${1:-}" = --bench ]; then
  packages=(
    metis                 # gpmetis: bench:planner's METIS + local-search baseline
    glpk-utils            # glpsol: bench:optimum's proven optima
  )
else
packages=(
  nftables              # the collector counts per-VM-pair traffic in the kernel; the lab routes with it
  iproute2              # ip, tc, bridge: the lab's namespaces, veths, bridges and WAN rate limits
  qemu-system-x86       # the QEMU driver and its live migrations between lab hosts
  busybox-static        # the QEMU test guest's whole userland (a static initramfs)
  libvirt-daemon-system # the libvirt driver's live tests: a private libvirtd per lab host (and its libvirt-qemu user)
  libvirt-clients       # virsh, which the libvirt driver runs
  openssh-server        # sshd on a lab host: the libvirt driver's default qemu+ssh transport, tested live
  tmux                  # the console's tests drive it in a real terminal
  cpio                  # checks the test guest's initramfs archive
  systemd               # systemd-analyze verifies the agent's unit file
  util-linux            # unshare and setpriv: private mount namespaces, unprivileged runs
)
fi
need=()
for p in "${packages[@]}"; do installed "$p" || need+=("$p"); done
# The QEMU test guest boots the host's Debian kernel.
[ "${1:-}" = --bench ] || compgen -G '/boot/vmlinuz-*' >/dev/null || need+=(linux-image-amd64)

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && [ -x /usr/bin/apt-get ]; then
    echo "bootstrap: apt-get install ${need[*]}" >&2
    (/usr/bin/apt-get update -qq && DEBIAN_FRONTEND=noninteractive /usr/bin/apt-get install -y -qq --no-install-recommends "${need[@]}") >&2 \
      || echo "bootstrap: apt-get failed; what needs these packages will be skipped or say so (the tests fail in CI)" >&2
  else
    echo "bootstrap: missing ${need[*]} (run as root to install them); the tests that need them will be skipped" >&2
  fi
fi

# The benches need neither the kernel module nor the lab's doctor.
if [ "${1:-}" = --bench ]; then exit 0; fi

# br_netfilter is a kernel module, not a package: load it where we may (one collector test needs it).
if [ "$(id -u)" = 0 ] && [ ! -e /proc/sys/net/bridge ] && [ -x /usr/sbin/modprobe ]; then
  /usr/sbin/modprobe br_netfilter 2>/dev/null || true
fi

# What is still missing, said once, in the doctor's words (the tests say it again per file).
if ! node_modules/.bin/node agent/bin/heliotrope.js doctor --lab >/tmp/heliotrope-doctor.$$ 2>&1; then
  echo "bootstrap: heliotrope doctor --lab reports:" >&2
  grep -E '^(FAIL|WARN)|fix:' /tmp/heliotrope-doctor.$$ >&2 || cat /tmp/heliotrope-doctor.$$ >&2
fi
rm -f /tmp/heliotrope-doctor.$$

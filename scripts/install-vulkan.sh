#!/usr/bin/env bash
# Installs a Vulkan loader and Mesa's lavapipe (Vulkan on the CPU), so the WebGPU tests have an
# adapter on a machine without a GPU. Bookworm's own Mesa 22.3 lavapipe lacks a feature Dawn
# requires (no adapter), so mesa-vulkan-drivers comes from bookworm-backports (25.x); the loader,
# libvulkan1, is bookworm's. Does nothing when a recent enough lavapipe is already there, and
# nothing (with a note) where apt-get is missing: the WebGPU tests then say they skip.
set -euo pipefail

installed_version() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || true; }
mesa=$(installed_version mesa-vulkan-drivers)
loader=$(installed_version libvulkan1)
if [ -n "$loader" ] && [ -n "$mesa" ] && dpkg --compare-versions "$mesa" ge 24; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "install-vulkan: no apt-get here; install a Vulkan driver yourself for the WebGPU tests" >&2
  exit 0
fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" != bookworm ]; then
  # Later Debian releases carry a Mesa recent enough in their own suite.
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvulkan1 mesa-vulkan-drivers
  exit 0
fi
# Use the mirror the machine already uses for bookworm (deb822 or one-line sources).
mirror=$(grep -hs -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
  /etc/apt/sources.list | grep -v -e security -e '#' | grep -o -E 'https?://[^ ]*/debian/?' | head -n1 || true)
mirror=${mirror:-http://deb.debian.org/debian}
list=/etc/apt/sources.list.d/bookworm-backports.list
if ! grep -qs -r 'bookworm-backports' /etc/apt/sources.list.d/ /etc/apt/sources.list; then
  echo "deb ${mirror%/} bookworm-backports main" >"$list"
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libvulkan1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports mesa-vulkan-drivers

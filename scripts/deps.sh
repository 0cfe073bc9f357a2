#!/usr/bin/env bash
# Installs the Debian 12 packages gpuaas needs to build and test (only those
# missing). Run as root or with sudo available.
set -euo pipefail
mapfile -t PKGS < <(grep -v '^#' "$(dirname "$0")/packages.txt" | tr ' ' '\n' | grep -v '^$')
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "installing: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=600 "${missing[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs the Debian 12 packages gpuaas needs to build and test (only those
# missing). Run as root or with sudo available.
set -euo pipefail
PKGS=(build-essential meson ninja-build pkg-config
      libsqlite3-dev libcjson-dev libjwt-dev libcrypt-dev libreadline-dev libsystemd-dev
      libcmocka-dev python3 python3-pytest sqlite3 procps
      clang libclang-rt-14-dev valgrind scdoc zsh bash-completion systemd)
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

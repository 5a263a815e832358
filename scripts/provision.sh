#!/usr/bin/env bash
# Makes sure the system packages the tests need are installed: installs them with apt-get when
# this is Debian and we are root, otherwise stops at once saying exactly what to install.
# Usage: scripts/provision.sh <command>:<debian-package> ...
set -euo pipefail

missing_cmds=()
missing_pkgs=()
for pair in "$@"; do
  cmd="${pair%%:*}"
  pkg="${pair##*:}"
  command -v "$cmd" >/dev/null 2>&1 || { missing_cmds+=("$cmd"); missing_pkgs+=("$pkg"); }
done
[ ${#missing_pkgs[@]} -eq 0 ] && exit 0

if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "provision: installing ${missing_pkgs[*]} (needed by the tests)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
  for cmd in "${missing_cmds[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || { echo "provision: $cmd still missing after installing" >&2; exit 1; }
  done
  exit 0
fi

echo "The tests need: ${missing_cmds[*]}." >&2
echo "Install them, then run npm test again:  sudo apt-get install -y ${missing_pkgs[*]}" >&2
exit 1

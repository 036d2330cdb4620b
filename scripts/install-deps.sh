#!/usr/bin/env bash
# Installs kosearch's build and test dependencies from Debian 12 packages.
# Safe to re-run; skips apt-get when everything is already installed.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      libicu-dev zlib1g-dev libdeflate-dev libstreamvbyte-dev libcjson-dev libcmocka-dev
      libxapian-dev xapian-tools time jq
      libmicrohttpd-dev curl                                   # kosearch serve
      python3 python3-cffi python3-pytest                      # Python package
      chromium chromium-driver python3-selenium                # search page test
      clang-14 libfuzzer-14-dev                                # fuzz targets
      wrk)                                                     # HTTP load benchmark
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

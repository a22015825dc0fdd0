#!/usr/bin/env bash
# nvc quick start: install the build dependencies (Debian 12 / Ubuntu, apt-get;
# through sudo when not root), build nvc, and run the demo on the bundled sample.
#   bash setup.sh            install + build + demo
#   bash setup.sh --no-demo  install + build
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(
  build-essential autoconf automake libtool pkg-config
  libavformat-dev libavcodec-dev libavutil-dev libavfilter-dev libswscale-dev
  libpng-dev libopenblas-dev check frei0r-plugins-dev
  ffmpeg mkvtoolnix clang
)

demo=1
[ "${1:-}" = --no-demo ] && demo=0

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $sudo apt-get update
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi

[ -x configure ] || autoreconf -fi
[ -f Makefile ] || ./configure
make -j"$(nproc)"

[ $demo = 1 ] || exit 0
tools/nvc-demo.sh

#!/bin/sh
# Re-encode the learned image codec's reference streams (needed after a
# model change: the streams name the model by its CRC), print their manifest
# lines and refresh the fuzz seeds. Sources: crops of the first two frames of
# tests/data/cisco_vt_2people_320x192_12fps_9f.y4m, made with ffmpeg.
#   conformance/image/make.sh [BUILDDIR]
# Then replace the image/ lines of conformance/manifest with the printed
# ones and run conformance/invalid/image/make.py BUILDDIR/tools/nvdec.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src}
y4m=$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -nostdin -loglevel error -y -i "$y4m" "$@"; }
ff -frames:v 1 -vf "crop=64:48:128:40" -pix_fmt rgb24 "$tmp/64x48.png"
ff -frames:v 1 -vf "format=rgb24,crop=37:29:140:50" "$tmp/37x29.png"
ff -frames:v 2 -vf "crop=64:48:128:40" -pix_fmt yuv420p "$tmp/64x48-420.y4m"
ff -frames:v 1 -vf "scale=35:27,format=yuv420p" "$tmp/35x27-420.y4m"
enc() { "$build/tools/nvenc" --quiet --bitexact -c image -q "$1" "$tmp/$2" "$here/$3"; }
enc 0 64x48.png 64x48-rgb-q0.nvces
enc 32 64x48.png 64x48-rgb-q32.nvc
enc 63 64x48.png 64x48-rgb-q63.nvces
enc 40 37x29.png 37x29-rgb-q40.nvces
enc 20 64x48-420.y4m 64x48-420-q20-2f.nvces
enc 50 35x27-420.y4m 35x27-420-q50.nvces
for f in "$here"/*.nvces; do cp "$f" "$src/tests/fuzz/corpus/image/seed-$(basename "$f" .nvces)"; done
for f in "$here"/*.nvc "$here"/*.nvces; do
  NVC_BUILDDIR=$build "$src/conformance/add.sh" "conformance/image/$(basename "$f")"
done

#!/bin/sh
# Re-encode the conditional video codec's reference streams, print their
# manifest lines and refresh the fuzz seeds. The streams are coded with the
# small model beside this script (model-tiny.nvcm: the conformance model,
# made by the commands in conformance/README.md, "dcvc"), which the runner
# hands to nvdec through NVC_VIDEO_MODEL: they pin the decoder's arithmetic,
# not the quality of a shipped model. One more stream is coded with the
# shipped model built into the library (models/video-v3.nvcm): the decoder
# takes it by its CRC whatever NVC_VIDEO_MODEL names. Sources: crops of the first frames of
# tests/data/cisco_vt_2people_320x192_12fps_9f.y4m, made with ffmpeg.
#   conformance/dcvc/make.sh [BUILDDIR]
# Then replace the dcvc/ lines of conformance/manifest with the printed ones
# and run conformance/invalid/dcvc/make.py BUILDDIR/tools/nvdec.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${1:-$src}
export NVC_VIDEO_MODEL="$here/model-tiny.nvcm"
y4m=$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ff() { ffmpeg -nostdin -loglevel error -y -i "$y4m" "$@"; }
ff -frames:v 6 -vf "crop=64:48:128:40" -pix_fmt yuv420p "$tmp/64x48.y4m"
ff -frames:v 5 -vf "crop=96:64:100:30" -pix_fmt yuv420p "$tmp/96x64.y4m"
ff -frames:v 4 -vf "scale=70:42,format=yuv420p" "$tmp/70x42.y4m"
enc() { # Q SOURCE OUTPUT [nvenc options]
  q=$1 in=$2 out=$3; shift 3
  "$build/tools/nvenc" --quiet --bitexact -c dcvc --adaptive-intra 0 -q "$q" "$@" "$tmp/$in" "$here/$out"
}
enc 32 64x48.y4m 64x48-q32-6f.nvces --refresh 32 # the default before 135c4d1
enc 0 96x64.y4m 96x64-q0-refresh2.nvc --refresh 2
enc 63 70x42.y4m 70x42-q63-intra2.nvces --intra-period 2 --refresh 32
enc 45 64x48.y4m 64x48-q45-intra3-refresh1.nvces --intra-period 3 --refresh 1
ff -frames:v 4 -vf "crop=128:96:96:40" -pix_fmt yuv420p "$tmp/128x96.y4m"
env -u NVC_VIDEO_MODEL "$build/tools/nvenc" --quiet --bitexact -c dcvc --adaptive-intra 0 -q 32 "$tmp/128x96.y4m" \
  "$here/128x96-q32-video-v3.nvc"
mkdir -p "$src/tests/fuzz/corpus/dcvc"
for f in "$here"/*.nvces; do cp "$f" "$src/tests/fuzz/corpus/dcvc/seed-$(basename "$f" .nvces)"; done
for f in "$here"/*.nvc "$here"/*.nvces; do
  NVC_BUILDDIR=$build "$src/conformance/add.sh" "conformance/dcvc/$(basename "$f")"
done

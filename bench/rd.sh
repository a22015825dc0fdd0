#!/usr/bin/env bash
# bench/rd.sh: the RD benchmark. Sweeps nvc's INR codecs (HNeRV, NeRV++: those
# this build has) and x264 / x265 / SVT-AV1 with nvc-rd on 8 clips of the
# shared test media, and writes rd.csv, bd.csv, summary.md and the plots
# (per clip and averaged) to an output directory.
#
# Usage: bench/rd.sh [-o DIR] [-n FRAMES] [-j JOBS] [--classic] [-- NVC_RD_OPTIONS...]
#   -o DIR       output directory (default bench-rd-results); a rerun resumes
#   -n FRAMES    frames per clip (default 10; the 832x480 clips have 6)
#   -j JOBS      points coded in parallel (default 1; use 1 when timings matter)
#   --classic    only x264, x265 and SVT-AV1 (skip nvc codecs even if built)
#   after --      more nvc-rd options, e.g. --epochs 300 --device cuda, or
#                 --q hnerv=s,m,l to choose the INR model sizes
# Environment: NVC_RD (the nvc-rd binary; default tools/nvc-rd of the build
# this script is run from), NVC_TEST_DATA (the shared media; default
# ../shared/data next to the sources).
#
# Clips (all 8-bit 4:2:0; see ../shared/data/SOURCES.md for origins):
#   CIF      foreman_cif_352x288_30fps_27f, mobile_calendar_cif_352x288_30fps_27f
#   416x240  BasketballPass_416x240_50fps_25f_avs2, BQSquare_416x240_60fps_25f_avs2
#   832x480  BQMall_832x480_60fps_6f_avs2, PartyScene_832x480_50fps_6f_avs2
#   720p     flower_1280x720_30fps and cockatoo_1280x720_20fps, decoded here
#            with ffmpeg from video/bitstreams/ (300 and 280 frames there)
# The avs2 clips and the 720p ones carry their sources' coding artefacts.
#
# Settings (see nvc-rd(1)): classic codecs in both GOP structures (ra: one
# intra frame and the encoder's B-frames; ld: no reordering), 4 automatic
# rate points each between 0.02 and 0.3 bpp; nvc INR codecs at their size
# presets. BD-rates against x265 (random access) on PSNR-YUV 6:1:1, PSNR-RGB
# and MS-SSIM-Y. Everything is measured by decoding the real streams.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=bench-rd-results
frames=10
jobs=1
classic=0
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    -n) frames=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --classic) classic=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "rd.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done

me=rd.sh
# shellcheck source=bench/clips.sh
. "$here/bench/clips.sh"
bench_find_rd

# 720p clips: the first frames of two longer bitstreams (bench_decode)
clips=(
  "$data/video/foreman_cif_352x288_30fps_27f.y4m"
  "$data/video/mobile_calendar_cif_352x288_30fps_27f.y4m"
  "$data/video/BasketballPass_416x240_50fps_25f_avs2.y4m"
  "$data/video/BQSquare_416x240_60fps_25f_avs2.y4m"
  "$data/video/BQMall_832x480_60fps_6f_avs2.y4m"
  "$data/video/PartyScene_832x480_50fps_6f_avs2.y4m"
  "$(bench_decode "$out/clips" "$frames" flower_1280x720_30fps VID_1280x720_cabac_temporal_direct.264 30)"
  "$(bench_decode "$out/clips" "$frames" cockatoo_1280x720_20fps cockatoo_yuv420.mp4 20)"
)

codecs=x264,x265,svtav1
if [ $classic = 0 ]; then
  for c in hnerv nervpp; do
    if "$rd" --list-codecs | grep -q "^$c .* yes$"; then codecs="$c,$codecs"; fi
  done
fi
echo "rd.sh: $codecs on ${#clips[@]} clips, $frames frames, $jobs job(s) -> $out" >&2

"$rd" -o "$out" -n "$frames" -j "$jobs" -c "$codecs" --gop ra,ld --points 4 --bpp-range 0.02,0.3 \
  -a x265 -m psnr_yuv,psnr_rgb,msssim_y "$@" "${clips[@]}"

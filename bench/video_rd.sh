#!/usr/bin/env bash
# bench/video_rd.sh: RD of the conditional video codec (dcvc) against x264 and
# x265 in a low-delay configuration (no frame reordering, one intra frame) on
# the video codec's held-out clips (nvc/VIDEO.md: never trained on), through
# nvc-rd. Writes rd.csv, bd.csv, summary.md and the plots to an output
# directory; a rerun resumes.
#
# Usage: bench/video_rd.sh [-o DIR] [-n FRAMES] [-j JOBS] [--clips LIST] [--inr]
#                          [-- NVC_RD_OPTIONS...]
#   -o DIR       output directory (default video-rd-results)
#   -n FRAMES    frames per clip (default 32)
#   -j JOBS      points coded in parallel (default 1; use 1 when timings matter)
#   --clips LIST comma-separated subset of: foreman,seeking,railway,flower,cockatoo
#                (default all five)
#   --inr        also HNeRV and NeRV++ (sizes s and m; slow: they train)
#   after --     more nvc-rd options, e.g. --q dcvc=0,21,42,63 or --bpp-range
# Environment: NVC_RD (the nvc-rd binary; default tools/nvc-rd of this build),
# NVC_TEST_DATA (the shared media; default ../shared/data next to the sources),
# NVC_VIDEO_MODEL (a video model file instead of the built-in one).
#
# Clips, decoded here with ffmpeg from ../shared/data/video/bitstreams (see
# ../shared/data/SOURCES.md; all carry their sources' coding artefacts):
#   foreman_352x288_30fps     test_cif_I_CABAC_slice.264 (300 frames)
#   seeking_720x480_25fps     Seeking_30_480_1050.mp4 (150)
#   railway_852x480_30fps     vp90-2-15-segkey_adpq.webm (150, 30000/1001)
#   flower_1280x720_30fps     VID_1280x720_cabac_temporal_direct.264 (300)
#   cockatoo_1280x720_20fps   cockatoo_yuv420.mp4 (280)
# Settings: dcvc at q 0, 21, 42, 63 (the codec's defaults: refresh 3, adaptive intra, no intra period;
# "-- --adaptive-intra 0" for the plain P chain);
# x264 / x265 --gop ld (bframes 0, one intra frame), 5 automatic points
# between 0.01 and 0.4 bpp. BD-rates against x265 low-delay on PSNR-YUV 6:1:1 (and
# PSNR-RGB, MS-SSIM-Y), measured on the decoded streams.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=video-rd-results
frames=32
jobs=1
inr=0
sel=foreman,seeking,railway,flower,cockatoo
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    -n) frames=$2; shift 2 ;;
    -j) jobs=$2; shift 2 ;;
    --clips) sel=$2; shift 2 ;;
    --inr) inr=1; shift ;;
    --) shift; break ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "video_rd.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done

me=video_rd.sh
# shellcheck source=bench/clips.sh
. "$here/bench/clips.sh"
bench_find_rd
"$rd" --list-codecs | grep -q '^dcvc .* yes$' ||
  { echo "video_rd.sh: this nvc-rd has no dcvc codec (no video model: set NVC_VIDEO_MODEL)" >&2; exit 1; }
clips=()
IFS=, read -r -a names <<<"$sel"
for n in "${names[@]}"; do
  case $n in
    foreman) clips+=("$(bench_decode "$out/clips" "$frames" foreman_352x288_30fps test_cif_I_CABAC_slice.264 30)") ;;
    seeking) clips+=("$(bench_decode "$out/clips" "$frames" seeking_720x480_25fps Seeking_30_480_1050.mp4 25)") ;;
    railway) clips+=("$(bench_decode "$out/clips" "$frames" railway_852x480_30fps vp90-2-15-segkey_adpq.webm 30000/1001)") ;;
    flower) clips+=("$(bench_decode "$out/clips" "$frames" flower_1280x720_30fps VID_1280x720_cabac_temporal_direct.264 30)") ;;
    cockatoo) clips+=("$(bench_decode "$out/clips" "$frames" cockatoo_1280x720_20fps cockatoo_yuv420.mp4 20)") ;;
    *) echo "video_rd.sh: unknown clip $n" >&2; exit 1 ;;
  esac
done

codecs=dcvc,x264,x265
q=(--q "dcvc=0,21,42,63")
if [ $inr = 1 ]; then
  codecs=$codecs,hnerv,nervpp
  q+=(--q "hnerv=s,m" --q "nervpp=s,m")
fi
echo "video_rd.sh: $codecs on ${#clips[@]} clips, $frames frames, $jobs job(s) -> $out" >&2
"$rd" -o "$out" -n "$frames" -j "$jobs" -c "$codecs" --gop ld --points 5 --bpp-range 0.01,0.4 \
  "${q[@]}" -a x265-ld -m psnr_yuv,psnr_rgb,msssim_y "$@" "${clips[@]}"

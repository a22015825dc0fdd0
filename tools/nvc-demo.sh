#!/usr/bin/env bash
# The README's demo: degrade the bundled sample with x264 (through ffmpeg) and
# measure the copy against the original with nvc-metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=tests/data/cisco_vt_2people_320x192_12fps_9f.y4m
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "demo: x264 CRF 35 copy of $sample, measured by nvc-metrics"
ffmpeg -nostdin -v error -i "$sample" -c:v libx264 -crf 35 -f matroska "$tmp/x264.mkv"
ffmpeg -nostdin -v error -i "$tmp/x264.mkv" -pix_fmt yuv420p -f yuv4mpegpipe "$tmp/degraded.y4m"
tools/nvc-metrics --metrics psnr,ssim,msssim "$sample" "$tmp/degraded.y4m"

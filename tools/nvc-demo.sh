#!/usr/bin/env bash
# The README's demo: encode the bundled sample with the HNeRV codec (the
# encoder trains a small network on the clip), decode the stream, and print
# the rate (real file size) and the quality against the original.
# About a minute on two cores; DEMO_EPOCHS=300 for a better picture.
set -euo pipefail
cd "$(dirname "$0")/.."
sample=tests/data/cisco_vt_2people_320x192_12fps_9f.y4m
epochs=${DEMO_EPOCHS:-150}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# OpenMP threads sleep instead of spinning when they wait: much faster on a busy machine
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "demo: nvenc (HNeRV, $epochs epochs) on $sample, then nvdec and nvc-metrics"
tools/nvenc -c hnerv -s s -e "$epochs" "$sample" "$tmp/sample.nvc"
tools/nvdec "$tmp/sample.nvc" -o "$tmp/decoded.y4m"
tools/nvc-info -s "$tmp/sample.nvc" | grep -E "^(codec|global payload|packets|file size|bpp)"
tools/nvc-metrics --metrics psnr,msssim "$sample" "$tmp/decoded.y4m" | sed -n '2p;/^mean/p'

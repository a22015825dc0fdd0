#!/usr/bin/env bash
# bench/video_refresh.sh: quality of the conditional video codec (dcvc) along a
# long low-delay chain with the periodic refresh of the temporal feature on
# (--refresh N, one or more periods) and off (--refresh 0): PSNR per frame as
# CSV, a table and an SVG plot. No intra period: the first frame is intra, then
# P frames, or I frames where nvenc's adaptive intra picks them (-a 0: never).
#
# Usage: bench/video_refresh.sh [-o DIR] [-n FRAMES] [-q Q] [-r N] [-t THREADS] [-a 0|1] [--static] [CLIP]
#   -o DIR       output directory (default video-refresh-results)
#   -n FRAMES    frames coded (default 96)
#   -q Q         quality index (default 32)
#   -r LIST      refresh periods of the "on" runs, comma-separated (default 3,32:
#                the codec's default and DCVC-FM's)
#   -t THREADS   threads of nvenc / nvdec (default: all)
#   -a 0|1       nvenc --adaptive-intra (default 1, nvenc's default)
#   --static     code the clip's first frame FRAMES times instead (a still scene:
#                what a P frame loses when nothing moves; DIR/static.y4m)
#   CLIP         a .y4m (default: foreman CIF, held out from training, decoded
#                with ffmpeg from ../shared/data/video/bitstreams)
# Environment: NVC_BUILD (the build directory with tools/; default: this tree),
# NVC_TEST_DATA, NVC_VIDEO_MODEL (a video model instead of the built-in one).
# Output: DIR/refresh-R.csv for each period and refresh-0.csv (nvc-metrics per frame),
# DIR/refresh.md (rate, mean PSNR per 32-frame window), DIR/refresh.svg.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
out=video-refresh-results
frames=96
q=32
periods=3,32
threads=()
static=0
adaptive=1
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift 2 ;;
    -n) frames=$2; shift 2 ;;
    -q) q=$2; shift 2 ;;
    -r) periods=$2; shift 2 ;;
    -t) threads=(-t "$2"); shift 2 ;;
    -a) adaptive=$2; shift 2 ;;
    --static) static=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    -*) echo "video_refresh.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
    *) break ;;
  esac
done
build=${NVC_BUILD:-$here}
for t in nvenc nvdec nvc-metrics; do
  [ -x "$build/tools/$t" ] || { echo "video_refresh.sh: $build/tools/$t not found (build, or set NVC_BUILD)" >&2; exit 1; }
done
mkdir -p "$out"
me=video_refresh.sh
# shellcheck source=bench/clips.sh
. "$here/bench/clips.sh"
clip=${1:-$(bench_decode "$out" "$frames" foreman_352x288_30fps test_cif_I_CABAC_slice.264 30)}
if [ $static = 1 ]; then
  # the header, then the first FRAME record (its line and picture) FRAMES times
  python3 - "$clip" "$out/static.y4m" "$frames" <<'PY'
import sys
src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(src, 'rb') as f:
    head = f.readline()
    p = {t[:1]: t[1:] for t in head.split()[1:]}
    w, h, c = int(p[b'W']), int(p[b'H']), p.get(b'C', b'420jpeg')
    if not c.startswith(b'420') or c.endswith(b'p10'):
        sys.exit(f'video_refresh.sh: --static takes 8-bit 4:2:0 Y4M, not C{c.decode()}')
    frame = f.readline() + f.read(w * h + 2 * ((w + 1) // 2) * ((h + 1) // 2))
with open(dst, 'wb') as f:
    f.write(head + frame * n)
PY
  clip=$out/static.y4m
fi

for r in ${periods//,/ } 0; do
  s=$EPOCHREALTIME
  "$build/tools/nvenc" -c dcvc --q "$q" --refresh "$r" --adaptive-intra "$adaptive" -n "$frames" "${threads[@]}" "$clip" "$out/refresh-$r.nvc"
  e=$EPOCHREALTIME
  "$build/tools/nvdec" "${threads[@]}" "$out/refresh-$r.nvc" -o "$out/refresh-$r.y4m"
  d=$EPOCHREALTIME
  "$build/tools/nvc-metrics" -c -n "$frames" "$clip" "$out/refresh-$r.y4m" >"$out/refresh-$r.csv"
  echo "$r $(stat -c %s "$out/refresh-$r.nvc") $s $e $d" >"$out/refresh-$r.info"
  rm -f "$out/refresh-$r.y4m"
done

python3 - "$out" "$periods" "$q" "$clip" "$adaptive" <<'PY'
import csv, os, sys
out, q, clip = sys.argv[1], int(sys.argv[3]), sys.argv[4]
periods = [int(v) for v in sys.argv[2].split(',')] + [0]
runs = {}
for r in periods:
    rows = list(csv.DictReader(open(f'{out}/refresh-{r}.csv')))
    psnr = [float(x['psnr_yuv']) for x in rows if x['frame'].isdigit()]
    _, size, t0, t1, t2 = open(f'{out}/refresh-{r}.info').read().split()
    runs[r] = (psnr, int(size), float(t1) - float(t0), float(t2) - float(t1),
               {c: [float(x[f'psnr_{c}']) for x in rows if x['frame'].isdigit()] for c in 'yuv'})
n = len(runs[0][0])
w, h = [int(t[1:]) for t in open(clip, 'rb').readline().split()[1:3]]
label = {r: f'refresh every {r} P frames' if r else 'refresh off' for r in periods}
with open(f'{out}/refresh.md', 'w') as f:
    f.write(f'{os.path.basename(clip)}, {n} frames, q {q}, no intra period, adaptive intra {"on" if sys.argv[5] == "1" else "off"}\n\n')
    wins = [(a, min(a + 32, n)) for a in range(0, n, 32)]
    f.write('| run | bpp | PSNR-YUV mean | ' + ' | '.join(f'frames {a}-{b - 1}' for a, b in wins) +
            ' | last frame | encode s | decode s |\n')
    f.write('|---|--:|--:|' + '--:|' * len(wins) + '--:|--:|--:|\n')
    for r, (p, size, enc, dec, _) in runs.items():
        f.write(f'| {label[r]} | {size * 8 / (n * w * h):.4f} | {sum(p) / n:.2f} | ' +
                ' | '.join(f'{sum(p[a:b]) / (b - a):.2f}' for a, b in wins) +
                f' | {p[-1]:.2f} | {enc:.1f} | {dec:.1f} |\n')
    # the drift per plane: mean PSNR of the first and of the last window
    (a0, b0), (a1, b1) = wins[0], wins[-1]
    f.write(f'\nPer plane, frames {a0}-{b0 - 1} -> {a1}-{b1 - 1} (dB):\n\n| run | Y | U | V |\n|---|--:|--:|--:|\n')
    for r, run in runs.items():
        f.write(f'| {label[r]} | ' + ' | '.join(
            f'{sum(v[a0:b0]) / (b0 - a0):.2f} -> {sum(v[a1:b1]) / (b1 - a1):.2f}'
            for v in (run[4][c] for c in 'yuv')) + ' |\n')
W, H, L, R, T, B = 760, 420, 60, 20, 40, 50
allp = [v for r in runs.values() for v in r[0]]
y0, y1 = int(min(allp)) - 1, int(max(allp)) + 1
X = lambda i: L + (W - L - R) * i / max(n - 1, 1)
Y = lambda v: H - B - (H - T - B) * (v - y0) / (y1 - y0)
s = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
     f'<rect width="{W}" height="{H}" fill="#fff"/>',
     f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="14">dcvc q {q}: PSNR-YUV per frame, '
     f'{os.path.basename(clip)}</text>']
for d in range(y0, y1 + 1):
    s.append(f'<line x1="{L}" y1="{Y(d):.1f}" x2="{W - R}" y2="{Y(d):.1f}" stroke="#e6e6e6"/>'
             f'<text x="{L - 6}" y="{Y(d) + 4:.1f}" text-anchor="end">{d}</text>')
for i in range(0, n, 16):
    s.append(f'<text x="{X(i):.1f}" y="{H - B + 16}" text-anchor="middle">{i}</text>')
s.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">frame</text>')
s.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" '
         f'transform="rotate(-90 16 {(T + H - B) / 2})">PSNR-YUV 6:1:1 (dB)</text>')
colours = ['#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b']
for k, r in enumerate(periods):
    colour = '#1f77b4' if r == 0 else colours[k % len(colours)]
    p = runs[r][0]
    pts = ' '.join(f'{X(i):.1f},{Y(v):.1f}' for i, v in enumerate(p))
    s.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="1.5"/>')
    s.append(f'<rect x="{W - R - 210}" y="{T + 8 + 18 * k}" width="14" height="3" fill="{colour}"/>'
             f'<text x="{W - R - 190}" y="{T + 13 + 18 * k}">{label[r]}</text>')
s.append('</svg>')
open(f'{out}/refresh.svg', 'w').write('\n'.join(s) + '\n')
print(open(f'{out}/refresh.md').read(), end='')
PY

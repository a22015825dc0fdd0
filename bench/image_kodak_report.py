#!/usr/bin/env python3
"""Tables and a plot of a Kodak RD run of bench/image_kodak.sh.

    bench/image_kodak_report.py OUT_DIR [SVG]

Reads OUT_DIR/rd.csv (nvc-rd: the image codec, x265, SVT-AV1) and
OUT_DIR/jpeg.csv, prints Markdown: the mean curve of each codec (the i-th
point of each image's curve averaged: the image codec and JPEG at fixed
settings, x265 and SVT-AV1 at the CRF nvc-rd's search picked per image), the
PSNR-RGB range of the image codec per image at its lowest and highest q, its
coding times; writes the mean curves as an SVG plot when SVG is given.
"""
import csv
import os
import sys
from collections import defaultdict


def load(out):
    curves = defaultdict(lambda: defaultdict(list))  # codec -> clip -> [(setting, bpp, psnr, enc, dec)]
    with open(os.path.join(out, 'rd.csv')) as f:
        for r in csv.DictReader(f):
            curves[r['codec']][r['clip']].append((int(r['value']), float(r['bpp']), float(r['psnr_rgb']),
                                                  float(r['enc_s']), float(r['dec_s'])))
    with open(os.path.join(out, 'jpeg.csv')) as f:
        for r in csv.DictReader(f):
            curves['jpeg'][r['clip']].append((int(r['quality']), float(r['bpp']), float(r['psnr_rgb']), 0, 0))
    for c in curves.values():
        for k in c:
            c[k].sort(key=lambda p: p[1])  # by rate
    return curves


def mean_curve(per_clip):
    n = min(len(v) for v in per_clip.values())
    pts = []
    for i in range(n):
        col = [v[i] for v in per_clip.values()]
        settings = sorted({p[0] for p in col})
        s = str(settings[0]) if len(settings) == 1 else f'{settings[0]}..{settings[-1]}'
        pts.append((s, sum(p[1] for p in col) / len(col), sum(p[2] for p in col) / len(col)))
    return pts


NAMES = {'image': 'nvc image (q)', 'x265': 'x265 intra (CRF)', 'svtav1': 'SVT-AV1 intra (CRF)',
         'jpeg': 'JPEG (cjpeg -quality)'}
COLORS = {'image': '#d62728', 'x265': '#1f77b4', 'svtav1': '#2ca02c', 'jpeg': '#7f7f7f'}


def svg(curves, path):
    W, H, L, R, T, B = 720, 480, 70, 20, 40, 50
    allp = [p for c in curves.values() for p in c]
    x1 = max(p[1] for p in allp) * 1.05
    y0 = int(min(p[2] for p in allp)) - 1
    y1 = int(max(p[2] for p in allp)) + 2
    X = lambda v: L + (W - L - R) * v / x1
    Y = lambda v: H - B - (H - T - B) * (v - y0) / (y1 - y0)
    o = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
         f'<rect width="{W}" height="{H}" fill="#fff"/>',
         f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">Kodak (24 images): mean bpp and PSNR-RGB</text>']
    step = 0.25 if x1 < 2.5 else 0.5
    v = 0.0
    while v <= x1:
        o.append(f'<line x1="{X(v):.1f}" y1="{T}" x2="{X(v):.1f}" y2="{H - B}" stroke="#e5e5e5"/>')
        o.append(f'<text x="{X(v):.1f}" y="{H - B + 16}" text-anchor="middle">{v:g}</text>')
        v += step
    for d in range(y0, y1 + 1):
        o.append(f'<line x1="{L}" y1="{Y(d):.1f}" x2="{W - R}" y2="{Y(d):.1f}" stroke="#e5e5e5"/>')
        o.append(f'<text x="{L - 6}" y="{Y(d) + 4:.1f}" text-anchor="end">{d}</text>')
    o.append(f'<text x="{(L + W - R) / 2}" y="{H - 12}" text-anchor="middle">bits per pixel</text>')
    o.append(f'<text x="16" y="{(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 16 {(T + H - B) / 2})">PSNR-RGB (dB)</text>')
    for i, (c, pts) in enumerate(curves.items()):
        d = ' '.join(f'{X(p[1]):.1f},{Y(p[2]):.1f}' for p in pts)
        o.append(f'<polyline points="{d}" fill="none" stroke="{COLORS[c]}" stroke-width="2"/>')
        o += [f'<circle cx="{X(p[1]):.1f}" cy="{Y(p[2]):.1f}" r="3" fill="{COLORS[c]}"/>' for p in pts]
        o.append(f'<rect x="{W - R - 170}" y="{H - B - 20 - 18 * i}" width="12" height="3" fill="{COLORS[c]}"/>')
        o.append(f'<text x="{W - R - 152}" y="{H - B - 15 - 18 * i}">{NAMES[c]}</text>')
    o.append('</svg>')
    with open(path, 'w') as f:
        f.write('\n'.join(o) + '\n')


def main():
    out = sys.argv[1]
    curves = load(out)
    means = {c: mean_curve(curves[c]) for c in ('image', 'x265', 'svtav1', 'jpeg') if c in curves}
    print('### Mean curves (24 images)\n')
    for c, pts in means.items():
        print(f'{NAMES[c]}:\n\n| setting | bpp | PSNR-RGB (dB) |\n|---|--:|--:|')
        for s, b, p in pts:
            print(f'| {s} | {b:.3f} | {p:.2f} |')
        print()
    im = curves['image']
    print('### PSNR-RGB the single model spans (image codec, lowest to highest q)\n')
    print('| image | bpp at q min | PSNR at q min | bpp at q max | PSNR at q max |\n|---|--:|--:|--:|--:|')
    lo_b = lo_p = hi_b = hi_p = 0.0
    for k in sorted(im):
        a = min(im[k], key=lambda p: p[0])
        z = max(im[k], key=lambda p: p[0])
        print(f'| {k} | {a[1]:.3f} | {a[2]:.2f} | {z[1]:.3f} | {z[2]:.2f} |')
        lo_b += a[1]; lo_p += a[2]; hi_b += z[1]; hi_p += z[2]
    n = len(im)
    print(f'| **mean** | {lo_b / n:.3f} | {lo_p / n:.2f} | {hi_b / n:.3f} | {hi_p / n:.2f} |\n')
    enc = [p[3] for v in im.values() for p in v]
    dec = [p[4] for v in im.values() for p in v]
    print(f'Image codec times in this sweep ({len(enc)} points, nvc-rd -t as run): encode median '
          f'{sorted(enc)[len(enc) // 2]:.2f} s, decode median {sorted(dec)[len(dec) // 2]:.2f} s per picture\n')
    if len(sys.argv) > 2:
        svg(means, sys.argv[2])


main()

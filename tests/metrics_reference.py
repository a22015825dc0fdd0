#!/usr/bin/python3
"""Regenerate tests/metrics_ref_values.h: the reference values that
tests/test_metrics_ref checks nvc's metrics against.

- PSNR and SSIM come from Debian's ffmpeg (5.1) psnr and ssim filters.
- MS-SSIM comes from msssim() below, a plain numpy implementation written
  from the definition (Wang, Simoncelli, Bovik 2003; see nvc/metrics.h for
  the conventions: 11x11 Gaussian sigma 1.5 over valid positions, 2x2
  average downsampling with an odd edge replicated, HM's scale count and
  weights for small planes, cs and the last SSIM clamped at 0). For planes
  whose sizes stay even at every scale it is also checked against a PyTorch
  computation in pytorch_msssim's style (conv2d, avg_pool2d), when torch is
  installed.

Rerun (from a configured build tree; needs ffmpeg, python3-numpy,
python3-pil; takes about a minute):
    make tests/test_metrics_ref
    /usr/bin/python3 tests/metrics_reference.py --build . \\
        --data ../shared/data > tests/metrics_ref_values.h
It writes the degraded clips with `NVC_METRICS_DUMP=DIR tests/test_metrics_ref`
(the degradation lives in the C test), runs ffmpeg on them, and prints the
header on stdout.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

CLIPS = [  # (name in the C test, shared media path)
    ("foreman", "video/foreman_cif_352x288_30fps_27f.y4m"),
    ("sparks", "video/sparks_480x270_10bit_60fps_5f_raw.y4m"),
    ("kodim23", "image/kodak/kodim23.png"),
]

HM_WEIGHTS = [
    [1.0],
    [0.1356, 0.8644],
    [0.0711, 0.4530, 0.4760],
    [0.0517, 0.3295, 0.3462, 0.2726],
    [0.0448, 0.2856, 0.3001, 0.2363, 0.1333],
]


# ---- media ---------------------------------------------------------------

def read_y4m(path):
    """Frames as lists of planes (float64 arrays) and the bit depth."""
    data = open(path, "rb").read()
    end = data.index(b"\n")
    tags = data[:end].split()[1:]
    w = h = None
    chroma, bpc = "420", 8
    for t in tags:
        if t[:1] == b"W":
            w = int(t[1:])
        elif t[:1] == b"H":
            h = int(t[1:])
        elif t[:1] == b"C":
            c = t[1:].decode()
            chroma = c[:3]
            m = re.search(r"p(\d+)$", c)
            bpc = int(m.group(1)) if m else 8
    cw, ch = ((w + 1) // 2, (h + 1) // 2) if chroma == "420" else (w, h)
    sizes = [(w, h), (cw, ch), (cw, ch)]
    bps = 1 if bpc == 8 else 2
    dtype = np.uint8 if bpc == 8 else np.dtype("<u2")
    frames, pos = [], end + 1
    while pos < len(data):
        pos = data.index(b"\n", pos) + 1  # FRAME line
        planes = []
        for pw, ph in sizes:
            n = pw * ph * bps
            planes.append(np.frombuffer(data[pos:pos + n], dtype=dtype)
                          .reshape(ph, pw).astype(np.float64))
            pos += n
        frames.append(planes)
    return frames, bpc


def read_png(path):
    from PIL import Image
    img = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
    return [[img[:, :, 0], img[:, :, 1], img[:, :, 2]]], 8


def read_media(path):
    return read_png(path) if path.endswith(".png") else read_y4m(path)


# ---- MS-SSIM from the definition -------------------------------------------

def gaussian_window():
    d = np.arange(11) - 5.0
    g = np.exp(-(d * d) / (2 * 1.5 * 1.5))
    g2 = np.outer(g, g)
    return g2 / g2.sum()


def filter_valid(img, win):
    """Weighted mean over every 11x11 window that fits (2-D, not separated)."""
    view = np.lib.stride_tricks.sliding_window_view(img, win.shape)
    return np.einsum("ijkl,kl->ij", view, win)


def ssim_and_cs(x, y, peak):
    win = gaussian_window()
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mx, my = filter_valid(x, win), filter_valid(y, win)
    sxx = filter_valid(x * x, win) - mx * mx
    syy = filter_valid(y * y, win) - my * my
    sxy = filter_valid(x * y, win) - mx * my
    cs = (2 * sxy + c2) / (sxx + syy + c2)
    lum = (2 * mx * my + c1) / (mx * mx + my * my + c1)
    return float((lum * cs).mean()), float(cs.mean())


def downsample(x):
    h, w = x.shape
    x = np.pad(x, ((0, h % 2), (0, w % 2)), mode="edge")
    return 0.25 * (x[0::2, 0::2] + x[0::2, 1::2] + x[1::2, 0::2] + x[1::2, 1::2])


def scales_for(h, w):
    n = 0
    while n < 5 and min(h, w) >= 11 << n:
        n += 1
    return n


def msssim(x, y, peak):
    n = scales_for(*x.shape)
    if n == 0:
        return float("nan")
    weights = HM_WEIGHTS[n - 1]
    value = 1.0
    for k in range(n):
        ss, cs = ssim_and_cs(x, y, peak)
        if k < n - 1:
            value *= max(cs, 0.0) ** weights[k]
            x, y = downsample(x), downsample(y)
        else:
            value *= max(ss, 0.0) ** weights[k]
    return value


def msssim_torch(x, y, peak):
    """pytorch_msssim-style computation (valid separable Gaussian conv,
    avg_pool2d) for planes that stay even-sized over 5 scales."""
    import torch
    import torch.nn.functional as F
    d = torch.arange(11, dtype=torch.float64) - 5
    g = torch.exp(-(d ** 2) / (2 * 1.5 ** 2))
    g = (g / g.sum()).view(1, 1, 1, 11)
    X = torch.from_numpy(x).view(1, 1, *x.shape)
    Y = torch.from_numpy(y).view(1, 1, *y.shape)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    weights = torch.tensor(HM_WEIGHTS[4], dtype=torch.float64)

    def blur(t):
        return F.conv2d(F.conv2d(t, g), g.transpose(2, 3))

    mcs = []
    for k in range(5):
        mx, my = blur(X), blur(Y)
        sxx, syy, sxy = blur(X * X) - mx ** 2, blur(Y * Y) - my ** 2, blur(X * Y) - mx * my
        cs = (2 * sxy + c2) / (sxx + syy + c2)
        ss = ((2 * mx * my + c1) / (mx ** 2 + my ** 2 + c1) * cs).mean()
        if k < 4:
            mcs.append(torch.relu(cs.mean()))
            X, Y = F.avg_pool2d(X, 2), F.avg_pool2d(Y, 2)
    vals = torch.stack(mcs + [torch.relu(ss)])
    return float(torch.prod(vals ** weights))


# ---- FFmpeg ----------------------------------------------------------------

def run_ffmpeg(ref, deg, tmp):
    """Per-frame and summary PSNR/SSIM from ffmpeg's psnr and ssim filters."""
    meta, sstats = os.path.join(tmp, "psnr_meta.txt"), os.path.join(tmp, "ssim.log")
    common = ["ffmpeg", "-nostdin", "-hide_banner", "-i", deg, "-i", ref]
    p = subprocess.run(common + ["-lavfi", "[0:v][1:v]psnr,metadata=mode=print:file=" + meta,
                                 "-f", "null", "-"], capture_output=True, text=True, check=True)
    s = subprocess.run(common + ["-lavfi", "[0:v][1:v]ssim=stats_file=" + sstats,
                                 "-f", "null", "-"], capture_output=True, text=True, check=True)
    frames = []
    for block in open(meta).read().split("frame:")[1:]:
        kv = dict(re.findall(r"lavfi\.psnr\.([\w.]+)=([-\w.]+)", block))
        comps = "yuv" if "psnr.y" in kv else "rgb"
        frames.append({
            "psnr": [float(kv["psnr." + c]) for c in comps],
            "mse": [float(kv["mse." + c]) for c in comps],
            "psnr_avg": float(kv["psnr_avg"]),
        })
    for f, line in zip(frames, open(sstats).read().splitlines()):
        kv = dict(re.findall(r"(\w+):([-\d.]+)", line))
        comps = "YUV" if "Y" in kv else "RGB"
        f["ssim"] = [float(kv[c]) for c in comps]
        f["ssim_all"] = float(kv["All"])
    ps = re.search(r"PSNR (\w):(\S+) (\w):(\S+) (\w):(\S+) average:(\S+)", p.stderr)
    ss = re.search(r"SSIM (\w):(\S+) \(\S+\) (\w):(\S+) \(\S+\) (\w):(\S+) \(\S+\) All:(\S+)",
                   s.stderr)
    summary = {
        "psnr": [float(ps.group(i)) for i in (2, 4, 6)],
        "psnr_avg": float(ps.group(7)),
        "ssim": [float(ss.group(i)) for i in (2, 4, 6)],
        "ssim_all": float(ss.group(7)),
    }
    return frames, summary


# ---- output ------------------------------------------------------------------

def c_list(vals, fmt):
    return "{ " + ", ".join(fmt % v for v in vals) + " }"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=".", help="build tree holding tests/test_metrics_ref")
    ap.add_argument("--data", default="../shared/data", help="shared test media")
    args = ap.parse_args()
    version = subprocess.run(["ffmpeg", "-version"], capture_output=True,
                             text=True).stdout.split(" Copyright")[0]
    out = [
        "/*",
        " * Reference values for tests/test_metrics_ref.c, generated by",
        " * tests/metrics_reference.py (do not edit): " + version + ",",
        " * psnr filter metadata (float, %f) and ssim stats_file (%f); MS-SSIM from",
        " * the script's numpy implementation of the definition.",
        " * SPDX-License-Identifier: BSD-2-Clause",
        " */",
        "#ifndef NVC_TESTS_METRICS_REF_VALUES_H",
        "#define NVC_TESTS_METRICS_REF_VALUES_H",
        "",
        "typedef struct RefFrame {",
        "    double psnr[3], mse[3], psnr_avg, ssim[3], ssim_all, msssim[3];",
        "} RefFrame;",
        "",
        "typedef struct RefSummary {",
        "    double psnr[3], psnr_avg; /* PSNR of the mean MSE */",
        "    double ssim[3], ssim_all; /* mean SSIM */",
        "} RefSummary;",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, NVC_METRICS_DUMP=tmp, NVC_TEST_DATA=os.path.abspath(args.data))
        subprocess.run([os.path.join(args.build, "tests", "test_metrics_ref")], env=env, check=True,
                       stdout=sys.stderr)
        torch_dev = 0.0
        for name, rel in CLIPS:
            ref = os.path.join(args.data, rel)
            deg = os.path.join(tmp, name + "_degraded" + (".png" if rel.endswith(".png") else ".y4m"))
            frames, summary = run_ffmpeg(ref, deg, tmp)
            rf, bpc = read_media(ref)
            df, _ = read_media(deg)
            assert len(rf) == len(df) == len(frames), (name, len(rf), len(df), len(frames))
            peak = (1 << bpc) - 1
            for f, a, b in zip(frames, rf, df):
                f["msssim"] = [msssim(x, y, peak) for x, y in zip(a, b)]
                for i, (x, y) in enumerate(zip(a, b)):
                    even = all(s % 16 == 0 for s in x.shape)
                    if even and scales_for(*x.shape) == 5:
                        try:
                            torch_dev = max(torch_dev, abs(msssim_torch(x, y, peak) - f["msssim"][i]))
                        except ImportError:
                            pass
            up = name.upper()
            out += ["", "#define REF_%s_FRAMES %d" % (up, len(frames)),
                    "static const RefFrame ref_%s[REF_%s_FRAMES] = {" % (name, up)]
            for f in frames:
                out.append("    { %s, %s, %.6f, %s, %.6f,\n      %s }," % (
                    c_list(f["psnr"], "%.6f"), c_list(f["mse"], "%.6f"), f["psnr_avg"],
                    c_list(f["ssim"], "%.6f"), f["ssim_all"], c_list(f["msssim"], "%.12f")))
            out += ["};", "static const RefSummary ref_%s_summary = { %s, %.6f, %s, %.6f };" % (
                name, c_list(summary["psnr"], "%.6f"), summary["psnr_avg"],
                c_list(summary["ssim"], "%.6f"), summary["ssim_all"])]
        print("numpy MS-SSIM vs pytorch_msssim-style torch (even planes): max |diff| %.3g"
              % torch_dev, file=sys.stderr)
    out += ["", "#endif /* NVC_TESTS_METRICS_REF_VALUES_H */"]
    print("\n".join(out))


if __name__ == "__main__":
    main()

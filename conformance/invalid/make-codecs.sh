#!/bin/sh
# Regenerate the codec-level invalid streams of conformance/invalid/<codec>/
# from the reference streams, with damage.py (the container stays valid, so
# only the decoder can tell). The files are committed; run this only to
# change them, then check conformance/invalid/codecs.list:
#   conformance/invalid/make-codecs.sh
# Offsets are those of the payloads of the base streams (doc/FORMAT.md,
# "Codec payloads"; `damage.py FILE info` prints the sizes).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
conf=$here/..
dmg() { # codec base name edits...
  codec=$1 base=$2 name=$3
  shift 3
  mkdir -p "$here/$codec"
  python3 "$here/damage.py" "$conf/$codec/$base" "$here/$codec/$name.nvces" "$@"
}
# HNeRV, 64x48, 4 frames: format, n = 5, strides 3,2,2,2,2 (payload bytes 0..6),
# grid 1x2 (7..10), widths 2 x 6 (11..22), E = 16 (23), wbits = 8 (24), 14 steps (25..80),
# groups from 81; packets: mode 1 (raw), 32 six-bit symbols.
b=64x48-4f.nvces
dmg hnerv $b format-1 rset:0:01
dmg hnerv $b strides-0 rset:1:00
dmg hnerv $b stride-7 rset:2:07
dmg hnerv $b grid-mismatch rset:7:0002
dmg hnerv $b width-0 rset:11:0000
dmg hnerv $b widths-4096 rset:11:100010001000100010001000
dmg hnerv $b embedding-channels-0 rset:23:00
dmg hnerv $b wbits-1 rset:24:01
dmg hnerv $b step-nan rset:25:7fc00000
dmg hnerv $b step-negative rset:25:bf800000
dmg hnerv $b step-zero rset:25:00000000
dmg hnerv $b groups-0 rset:81:00
dmg hnerv $b weights-truncated rcut:800
dmg hnerv $b payload-trailing-byte radd:00
dmg hnerv $b packet-mode-2 pset:0:0:02
dmg hnerv $b packet-truncated pcut:1:10
dmg hnerv $b packet-trailing-byte padd:2:00
# NeRV++, 40x24 RGB, 1 frame: format, n = 4, strides 3,2,2,2 (0..5), grid 1x2 (6..9),
# widths (10..19), D = 16 (20..21), L = 40 (22), base 1.25 (23..26), t_den = 1 (27..30),
# wbits (31), steps from 32; the packet: index 0 (ULEB128).
b=40x24-rgb-1f.nvces
dmg nervpp $b mlp-width-0 rset:20:0000
dmg nervpp $b levels-0 rset:22:00
dmg nervpp $b base-5 rset:23:40a00000
dmg nervpp $b t-den-0 rset:27:00000000
dmg nervpp $b weights-truncated rcut:2000
dmg nervpp $b payload-trailing-byte radd:00
dmg nervpp $b index-beyond-t-den pset:0:0:01
dmg nervpp $b index-not-canonical pset:0:0:80 padd:0:00
# dcvc (conditional video codec; decoded with conformance/dcvc/model-tiny.nvcm), 64x48, 6 frames
# (I then 5 P, refresh 32): version (0), model CRC (1..4), name length 16 (5), name (6..21),
# refresh (22..23), intra period (24..27), image payload length (28..31), image payload (32..46);
# packets: type, q, flags, then (P) the index u16 and the latents.
b=64x48-q32-6f.nvces
dmg dcvc $b payload-version-0 rset:0:00
dmg dcvc $b payload-version-2 rset:0:02
dmg dcvc $b payload-model-crc rxor:1:01
dmg dcvc $b payload-truncated rcut:10
dmg dcvc $b payload-trailing-byte radd:00
dmg dcvc $b payload-image-length rset:28:000000ff
dmg dcvc $b payload-image-model-crc rxor:34:01
dmg dcvc $b intra-flags pset:0:2:01
dmg dcvc $b intra-empty pcut:0:3
dmg dcvc $b p-type-2 pset:1:0:02
dmg dcvc $b p-q-64 pset:1:1:40
dmg dcvc $b p-flags-2 pset:1:2:02
dmg dcvc $b p-header-cut pcut:1:4
dmg dcvc $b p-index-gap pset:2:3:0005
dmg dcvc $b p-refresh-missing pset:1:2:00
dmg dcvc $b p-refresh-extra pset:2:2:01
dmg dcvc $b p-truncated pcut:3:40
dmg dcvc $b p-trailing-byte padd:4:00
dmg dcvc $b p-trailing-zeros padd:5:00000000000000000000000000000000

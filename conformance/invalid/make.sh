#!/bin/sh
# Regenerate the container-level streams of conformance/container/ (valid:
# their packets are not decodable, no codec is involved) and of
# conformance/invalid/ (each broken in one way), and the lists the runner
# reads. The files are committed; run this only to change them:
#   conformance/invalid/make.sh BUILDDIR      (BUILDDIR holds conformance/mkstream)
# Needs ffmpeg and ffprobe (FFmpeg), and python3 for one hand-made Matroska file.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:?usage: make.sh BUILDDIR}
mk="$build/conformance/mkstream"
[ -x "$mk" ] || { echo "make.sh: build $mk first (make conformance/mkstream)" >&2; exit 1; }
inv=$here
con=$here/../container
rm -f "$inv"/*.nvc "$inv"/*.nvces "$inv"/*.mkv "$con"/*.nvc "$con"/*.nvces

# ---- valid container streams (bases of the truncation tests) ----
"$mk" "$con/es-3frames.nvces"
"$mk" "$con/mkv-3frames.nvc"
# Every truncation shorter than the end of the last packet must be rejected
# (the elementary stream: any truncation; Matroska may lose its trailing
# index without harm).
{
  echo "# container-level streams (no codec decodes them): FILE  PACKETS_END"
  echo "# nvc-info must accept FILE; every truncation to fewer than PACKETS_END bytes"
  echo "# must be rejected. Written by conformance/invalid/make.sh."
  for f in "$con"/*.nvces; do echo "$(basename "$f") $(stat -c %s "$f")"; done
  for f in "$con"/*.nvc; do
    end=$(ffprobe -v error -show_entries packet=pos,size -of csv=p=0 "$f" | tail -1 |
          awk -F, '{ print $1 + $2 }')
    echo "$(basename "$f") $end"
  done
} >"$con/list"

# ---- invalid streams: NAME, mkstream options, the reason nvc-info gives ----
list=$inv/list
{
  echo "# streams that must be rejected: FILE<TAB>REASON, a piece of the one line nvc-info"
  echo "# prints (nvdec must fail too); REASON \"nvdec: ...\" for codec-level damage that only"
  echo "# nvdec can see (nvc-info must accept those). Written by conformance/invalid/make.sh;"
  echo "# the codecs' own invalid streams are listed in codecs.list."
} >"$list"
# bad NAME "reason" [mkstream options]: one stream per container
bad() {
  name=$1 reason=$2
  shift 2
  for c in es mkv; do
    ext=$([ $c = es ] && echo nvces || echo nvc)
    "$mk" -f $c "$@" "$inv/$c-$name.$ext"
    printf '%s\t%s\n' "$c-$name.$ext" "$reason" >>"$list"
  done
}
# record (offsets of doc/FORMAT.md, "Configuration record")
bad version-2 "newer than this library" --set 8:2:2
bad version-0 "version 0" --set 8:2:0
bad codec-id-9 "unknown codec id" --set 10:2:9
bad codec-id-0 "unknown codec id" --set 10:2:0
bad size-100000x100000 "picture size outside" --set 12:4:100000 --set 16:4:100000
bad width-0 "picture size outside" --set 12:4:0
bad size-32768x32768 "above the limit" --set 12:4:32768 --set 16:4:32768
bad layout-3 "unknown pixel layout" --set 20:1:3
bad bpc-9 "bits per component" --set 21:1:9
bad range-2 "unknown colour range" --set 25:1:2
bad chroma-location-4 "unknown chroma location" --set 26:1:4
bad reserved-1 "non-zero reserved byte" --set 27:1:1
bad fps-0 "frame rate not positive" --set 28:4:0
bad fps-2-31 "frame rate not positive" --set 32:4:0x80000000
bad sar-0 "sample aspect ratio not positive" --set 40:4:0
bad frame-count-2-62 "the stream ends after 3 of 4611686018427387904 frames" --set 44:8:0x4000000000000000
bad frame-count-2-63 "negative frame count" --set 44:8:0x8000000000000000
bad frame-count-1 "more packets than the 1 frames" --set 44:8:1
bad payload-size-2-32 "payload size does not match" --set 52:4:0xFFFFFFF0
bad payload-size-14 "payload size does not match" --set 52:4:14
bad padding "non-zero padding" -p 15 --set 71:1:1
bad record-magic "bad signature" --xor-record 0:0x20
bad record-size-odd "invalid size" --set 4:4:77
bad record-crc "CRC mismatch" --xor-record -1:1
bad record-flip-width "CRC mismatch" --xor-record 14:0x80
bad record-flip-payload "CRC mismatch" --xor-record 60:0x04
# packets
bad first-not-key "not a key packet" --keys 0,1,1
bad frame-count-4 "the stream ends after 3 of 4 frames" --frame-count 4
# elementary stream only
es() {
  name=$1 reason=$2
  shift 2
  "$mk" -f es "$@" "$inv/es-$name.nvces"
  printf '%s\t%s\n' "es-$name.nvces" "$reason" >>"$list"
}
es signature "unknown signature" --xor 1:0x01
es signature-text-mode "unknown signature" --xor 4:0x0D
es pts-out-of-order "timestamps must increase" --pts 0,2,1
es pts-repeated "timestamps must increase" --pts 0,1,1
es pts-negative "timestamps must increase" --pts -1,0,1 --keys 1,0,0
es packet-flip-payload "CRC mismatch" --xor 100:0x10
es packet-crc "CRC mismatch" --xor 127:0x01
es packet-size-2-29 "truncated packet" --xor 84:0x20
es packet-size-2-30 "invalid packet header" --xor 84:0x40
es packet-size-0 "invalid packet header" --packet-size 1 --xor 87:0x01
es packet-flags "invalid packet header" --xor 91:0x02
es end-marker-count "damaged end marker" --xor -5:0x01
es end-marker-missing "without its end marker" --truncate 216
es trailing-bytes "data after the end marker" --append 3
# Matroska only
mkv() {
  name=$1 reason=$2
  shift 2
  "$mk" -f mkv "$@" "$inv/mkv-$name.nvc"
  printf '%s\t%s\n' "mkv-$name.nvc" "$reason" >>"$list"
}
mkv ebml-magic "unknown signature" --xor 0:0x01
mkv pts-repeated "timestamps must increase" --pts 0,1,1
# CodecPrivate claiming 256 MiB - 16 in a 500-byte file (its parents' sizes
# cover the claim): FFmpeg 5.1 allocates the claimed size before reading
# (virtual memory, freed when the read fails), nvc must still fail cleanly.
python3 - "$con/mkv-3frames.nvc" "$inv/mkv-codec-private-256mib.nvc" <<'PY'
import sys
b = open(sys.argv[1], 'rb').read()
def vint(p, marker):
    n = 1
    while not b[p] & (0x80 >> (n - 1)): n += 1
    v = b[p] if marker else b[p] & ((0x80 >> (n - 1)) - 1)
    for i in range(1, n): v = v << 8 | b[p + i]
    return v, n
def elems(p, end):  # (id, start, data start, end) of each child
    while p < end:
        i, n1 = vint(p, True); sz, n2 = vint(p + n1, False)
        yield i, p, p + n1 + n2, p + n1 + n2 + sz
        p += n1 + n2 + sz
def size8(n): return b'\x01' + n.to_bytes(7, 'big')
def idb(i): return i.to_bytes((i.bit_length() + 7) // 8, 'big')
claim = 0x10000000 - 16
(_, _, _, hdr_end), (_, _, seg, seg_end) = list(elems(0, len(b)))[:2]
out = b[:hdr_end] + idb(0x18538067) + b'\x01' + b'\xff' * 7  # Segment, unknown size
for i, p, d, e in elems(seg, seg_end):
    if i != 0x1654AE6B:  # everything before the Tracks as it is
        out += b[p:e]
        continue
    tracks = b''
    for ti, tp, td, te in elems(d, e):
        if ti != 0xAE:
            tracks += b[tp:te]
            continue
        entry = b''.join(b[cp:ce] for ci, cp, cd, ce in elems(td, te) if ci != 0x63A2)
        cpd = [(cd, ce) for ci, cp, cd, ce in elems(td, te) if ci == 0x63A2][0]
        entry += idb(0x63A2) + size8(claim) + b[cpd[0]:cpd[1]]
        tracks += idb(0xAE) + size8(claim + 512) + entry
    out += idb(0x1654AE6B) + size8(claim + 1024) + tracks
    break
open(sys.argv[2], 'wb').write(out)
PY
printf '%s\t%s\n' mkv-codec-private-256mib.nvc "Matroska header" >>"$list"
# a Matroska file with a video track of another codec
ffmpeg -v error -f lavfi -i color=size=16x16:rate=1 -frames:v 1 -c:v rawvideo -pix_fmt gray \
    -fflags +bitexact -flags +bitexact -y "$inv/mkv-foreign-track.mkv"
printf '%s\t%s\n' mkv-foreign-track.mkv "without an nvc (NVC1) video track" >>"$list"
echo "make.sh: $(grep -vc '^#' "$list") invalid streams, $(grep -vc '^#' "$con/list") container streams"

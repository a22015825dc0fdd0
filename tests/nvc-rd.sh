#!/bin/sh
# nvc-rd end to end on a few frames of the bundled clip: a tiny x264/x265
# sweep (2 points each) with sensible, monotone figures; exact byte counts;
# CSV / JSON lines / Markdown / SVG / PNG outputs that exist and parse;
# resuming after --max-points, after lines cut by a crash and after Ctrl-C;
# raw .yuv input with a CTC-style name; one clear line for bad input.
set -u
src=${NVC_SRCDIR:-$(dirname "$0")/..}
build=${NVC_BUILDDIR:-.}
tool="$build/tools/nvc-rd"
clip="$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m"
# libx265's own leaks are not ours (sanitizer builds)
LSAN_OPTIONS="suppressions=$src/tests/lsan-codecs.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
export LSAN_OPTIONS
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

if ! "$tool" --list-codecs | grep -q '^x265 .* yes$'; then
  echo "SKIP: this build has no x264/x265 through libavcodec"; exit 77
fi
have_py=0
command -v python3 >/dev/null 2>&1 && have_py=1

# col FILE NAME: the values of a CSV column (no quoted commas in these files)
col() {
  awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
    { print $c }' "$1"
}
# row_field FILE CODEC VALUE NAME: one field of the row of CODEC at knob VALUE
row_field() {
  awk -F, -v codec="$2" -v value="$3" -v name="$4" \
    'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == name) c = i; if ($i == "codec") k = i; if ($i == "value") v = i }; next }
     $k == codec && $v == value { print $c }' "$1"
}
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= b) }'; }
between() { awk -v a="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(a >= lo && a <= hi) }'; }

sweep="-n 3 -c x264,x265 --q x264=24,36 --q x265=26,38 -j 2"

# ---- 1. a tiny sweep ------------------------------------------------------------
out="$tmp/a"
# shellcheck disable=SC2086
if ! "$tool" -o "$out" $sweep --keep-streams "$clip" >"$tmp/stdout" 2>"$tmp/stderr"; then
  fail "sweep: exit status $?"; cat "$tmp/stderr"
fi
csv="$out/rd.csv"
[ "$(wc -l <"$csv")" -eq 5 ] || fail "rd.csv: expected a header and 4 rows, got $(wc -l <"$csv") lines"
for f in rd.jsonl summary.md bd.csv probes.csv \
         plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.svg \
         plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.png; do
  [ -s "$out/$f" ] || [ "$f" = probes.csv ] || fail "$f missing or empty"
done
grep -q "BD-rate vs x265" "$out/summary.md" || fail "summary.md has no BD-rate table"
grep -q "^cisco_vt_2people_320x192_12fps_9f,3,x265,x264,psnr_yuv,nan," "$out/bd.csv" ||
  fail "bd.csv: expected the x264 row, cubic n/a with 2 points"
grep -q "BD-rate vs x265" "$tmp/stdout" || fail "no BD table on stdout"

for codec in x264 x265; do
  if [ $codec = x264 ]; then lo=24; hi=36; else lo=26; hi=38; fi
  b_lo=$(row_field "$csv" $codec $lo bytes); b_hi=$(row_field "$csv" $codec $hi bytes)
  p_lo=$(row_field "$csv" $codec $lo psnr_yuv); p_hi=$(row_field "$csv" $codec $hi psnr_yuv)
  m_lo=$(row_field "$csv" $codec $lo msssim_y); m_hi=$(row_field "$csv" $codec $hi msssim_y)
  ge "$b_lo" "$b_hi" || fail "$codec: crf $lo gives fewer bytes ($b_lo) than crf $hi ($b_hi)"
  ge "$p_lo" "$p_hi" || fail "$codec: crf $lo gives a lower PSNR ($p_lo) than crf $hi ($p_hi)"
  ge "$m_lo" "$m_hi" || fail "$codec: MS-SSIM not monotone ($m_lo < $m_hi)"
  for p in "$p_lo" "$p_hi"; do between "$p" 26 48 || fail "$codec: PSNR-YUV $p out of range"; done
  for q in $lo $hi; do
    bytes=$(row_field "$csv" $codec $q bytes); bpp=$(row_field "$csv" $codec $q bpp)
    awk -v b="$bytes" -v p="$bpp" 'BEGIN { d = b * 8 / (3 * 320 * 192) - p; exit !(d < 1e-6 && d > -1e-6) }' ||
      fail "$codec crf $q: bpp $bpp is not bytes*8/pixels"
    [ "$(row_field "$csv" $codec $q key_frames)" = 1 ] || fail "$codec crf $q: not one key frame"
    [ "$(row_field "$csv" $codec $q frames)" = 3 ] || fail "$codec crf $q: frames"
    ext=264; [ $codec = x265 ] && ext=265
    s="$out/streams/cisco_vt_2people_320x192_12fps_9f-$codec-ra-crf$q.$ext"
    [ -f "$s" ] && [ "$(wc -c <"$s")" -eq "$bytes" ] || fail "$codec crf $q: kept stream size != bytes"
  done
done
# x264's version SEI is removed (and counted), x265 writes none with info=0
ge "$(row_field "$csv" x264 24 removed_bytes)" 100 || fail "x264: SEI not removed"
[ "$(row_field "$csv" x265 26 removed_bytes)" = 0 ] || fail "x265: SEI bytes with info=0"

if [ $have_py = 1 ]; then
  python3 - "$out" <<'EOF' || fail "JSON lines / SVG / CSV do not parse or disagree"
import csv, json, sys, xml.etree.ElementTree as ET
d = sys.argv[1]
rows = list(csv.DictReader(open(d + "/rd.csv")))
objs = [json.loads(l) for l in open(d + "/rd.jsonl")]
assert len(rows) == len(objs) == 4, (len(rows), len(objs))
for r, o in zip(rows, objs):
    assert r["setting"] == o["setting"] and int(r["bytes"]) == o["bytes"], (r, o)
    assert abs(float(r["psnr_y"]) - o["psnr_y"]) < 1e-9
ET.parse(d + "/plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.svg")
EOF
fi
# the PNG plot is a real PNG: nvc's own reader decodes it
"$build/tools/nvc-metrics" -s "$out/plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.png" \
  "$out/plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.png" >"$tmp/m" 2>&1 &&
  grep -q "inf" "$tmp/m" || fail "plot PNG does not decode"

# ---- 2. a rerun measures nothing and keeps the rows ---------------------------------
cp "$csv" "$tmp/before.csv"
# shellcheck disable=SC2086
"$tool" -o "$out" $sweep "$clip" >/dev/null 2>"$tmp/stderr" || fail "rerun: exit status $?"
grep -q "0 points to measure" "$tmp/stderr" || fail "rerun: $(cat "$tmp/stderr")"
cmp -s "$csv" "$tmp/before.csv" || fail "rerun changed rd.csv"

# ---- 3. --report rebuilds the reports -----------------------------------------------
rm -f "$out/summary.md" "$out/bd.csv"
"$tool" -o "$out" --report -q || fail "--report: exit status $?"
[ -s "$out/summary.md" ] && [ -s "$out/bd.csv" ] || fail "--report wrote no summary"
# low rates (0.0103 and 0.29 bpp, as x265 on a CIF clip): the bpp axis starts
# at 0, not at a negative tick (it started at -0.1)
mkdir "$tmp/axis"
awk -F, -v OFS=, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "bpp") c = i; print; next }
  { $c = NR % 2 ? 0.29 : 0.0103; print }' "$csv" >"$tmp/axis/rd.csv"
"$tool" -o "$tmp/axis" --report -q || fail "--report (low rates): exit status $?"
svg="$tmp/axis/plots/cisco_vt_2people_320x192_12fps_9f_psnr_yuv.svg"
[ -s "$svg" ] || fail "--report (low rates): no plot"
! grep -q '>-[0-9.]*</text>' "$svg" || fail "negative axis tick: $(grep -o '>-[0-9.]*</text>' "$svg" | head -1)"
grep -q '>0</text>' "$svg" || grep -q '>0\.0*</text>' "$svg" || fail "the bpp axis does not start at 0"

# ---- 4. resume after --max-points and after a crash that cut the last lines -------------
out="$tmp/b"
# shellcheck disable=SC2086
"$tool" -o "$out" $sweep --max-points 1 -q "$clip" 2>"$tmp/stderr" || fail "--max-points: exit status $?"
[ "$(wc -l <"$out/rd.csv")" -eq 2 ] || fail "--max-points 1: $(wc -l <"$out/rd.csv") lines"
grep -q "3 left" "$tmp/stderr" || fail "--max-points: no 'left' message: $(cat "$tmp/stderr")"
first=$(sed -n 2p "$out/rd.csv")
printf 'cisco_vt_2people_320x192_12fps_9f,x265,ra,crf,38,3,320,19' >>"$out/rd.csv"
printf '{"clip":"cisco_vt_2people_320x192_12fps_9f","codec":"x2' >>"$out/rd.jsonl"
# shellcheck disable=SC2086
"$tool" -o "$out" $sweep -q "$clip" 2>"$tmp/stderr" || fail "resume: exit status $?"
grep -q "1 incomplete line removed" "$tmp/stderr" || fail "resume: no repair message: $(cat "$tmp/stderr")"
[ "$(wc -l <"$out/rd.csv")" -eq 5 ] || fail "resumed rd.csv: $(wc -l <"$out/rd.csv") lines"
[ "$(sed -n 2p "$out/rd.csv")" = "$first" ] || fail "resume rewrote the first point"
[ "$(cut -d, -f2,5 "$out/rd.csv" | sort | uniq -d)" = "" ] || fail "resume duplicated a point"
[ "$(wc -l <"$out/rd.jsonl")" -eq 4 ] || fail "resumed rd.jsonl: $(wc -l <"$out/rd.jsonl") lines"
[ "$(tail -c 1 "$out/rd.jsonl" | od -An -c | tr -d ' ')" = '\n' ] || fail "rd.jsonl not repaired"
# the resumed sweep's figures equal the uninterrupted one's
[ "$(col "$out/rd.csv" bytes | sort)" = "$(col "$tmp/a/rd.csv" bytes | sort)" ] ||
  fail "resumed sweep gives other byte counts"

# ---- 5. Ctrl-C: the run stops cleanly and a rerun completes it ---------------------------
out="$tmp/c"
"$tool" -o "$out" -n 9 -c x265 --q x265=20,24,28,32,36,40 -q "$clip" 2>"$tmp/stderr" &
pid=$!
i=0
while [ $i -lt 200 ] && [ "$(cat "$out/rd.csv" 2>/dev/null | wc -l)" -lt 2 ]; do sleep 0.05; i=$((i + 1)); done
kill -INT $pid 2>/dev/null
wait $pid
st=$?
if [ $st -eq 130 ]; then
  n=$(($(wc -l <"$out/rd.csv") - 1))
  [ $n -ge 1 ] && [ $n -lt 6 ] || fail "Ctrl-C: $n points saved"
  grep -q "interrupted" "$tmp/stderr" || fail "Ctrl-C: no message"
  "$tool" -o "$out" -n 9 -c x265 --q x265=20,24,28,32,36,40 -q "$clip" || fail "after Ctrl-C: exit status $?"
  [ "$(wc -l <"$out/rd.csv")" -eq 7 ] || fail "after Ctrl-C: $(wc -l <"$out/rd.csv") lines"
elif [ $st -ne 0 ]; then
  fail "Ctrl-C: exit status $st"; cat "$tmp/stderr"
fi

# ---- 6. raw .yuv with a CTC name gives the Y4M's figures ---------------------------------
hdr=$(head -n 1 "$clip" | wc -c)
frame=$((320 * 192 * 3 / 2))
for k in 0 1 2; do
  tail -c +$((hdr + 1 + k * (frame + 6) + 6)) "$clip" | head -c $frame
done >"$tmp/cisco_320x192_12.yuv"
"$tool" -o "$tmp/d" -c x264 --q x264=36 -q --no-plots "$tmp/cisco_320x192_12.yuv" >/dev/null ||
  fail "raw .yuv: exit status $?"
[ "$(row_field "$tmp/d/rd.csv" x264 36 psnr_yuv)" = "$(row_field "$tmp/a/rd.csv" x264 36 psnr_yuv)" ] ||
  fail "raw .yuv: PSNR differs from the Y4M's"

# ---- 6b. --uvg finds the UVG sequences by name (8-bit preferred) ---------------------
mkdir "$tmp/uvg"
for n in Beauty Bosphorus HoneyBee ReadySteadyGo ShakeNDry YachtRide; do
  ln -s ../cisco_320x192_12.yuv "$tmp/uvg/${n}_320x192_120fps_420_8bit_YUV.yuv"
done
ln -s ../noname.yuv "$tmp/uvg/Beauty_320x192_120fps_420_10bit_YUV.yuv"
: >"$tmp/noname.yuv"
"$tool" -o "$tmp/u" --uvg "$tmp/uvg" -n 1 -c x264 --q x264=36 -q --no-plots >/dev/null 2>"$tmp/err" ||
  { fail "--uvg: exit status $?"; cat "$tmp/err"; }
[ "$(col "$tmp/u/rd.csv" clip | tr '\n' ' ')" = "Beauty Bosphorus HoneyBee ReadySteadyGo ShakeNDry YachtRide " ] ||
  fail "--uvg: clips $(col "$tmp/u/rd.csv" clip | tr '\n' ' ')"
grep -q "no file for Jockey" "$tmp/err" || fail "--uvg: no warning for the missing Jockey"

# ---- 7. BD of two point lists ---------------------------------------------------------------
"$tool" --bd "90.33:27.95,181.03:31.17,332.99:34.44,547.79:38.11" \
  "127.1719:29.9286,186.14:32.4165,307.2924:34.7013,481.5588:37.4561" | grep -q "cubic: BD-rate -13.2617" ||
  fail "--bd: VCEG-M33 example"

# ---- 7b. a point's figures do not depend on what the process coded before ---------
# (x264's AVX-512 code did, before cpu-independent=1: 37241 bytes alone, 37195
# after an x265 encode, on this clip at 10 frames)
m="${NVC_TEST_DATA:-$src/../shared/data}/video/mobile_calendar_cif_352x288_30fps_27f.y4m"
if [ -r "$m" ]; then
  "$tool" -o "$tmp/r1" -n 10 -t 1 -c x264 --q x264=25 -q --no-plots "$m" >/dev/null
  "$tool" -o "$tmp/r2" -n 10 -t 1 -c x265,svtav1,x264 --q x265=30 --q svtav1=40 --q x264=25 -q \
    --no-plots "$m" >/dev/null
  [ "$(row_field "$tmp/r1/rd.csv" x264 25 bytes)" = "$(row_field "$tmp/r2/rd.csv" x264 25 bytes)" ] ||
    fail "x264 gives other bytes after x265 and SVT-AV1 ran in the process"
fi

# ---- 8. bad input: one clear line, exit status 1 ---------------------------------------------
bad() {
  what=$1; shift
  "$tool" -o "$tmp/e" "$@" >/dev/null 2>"$tmp/err"
  st=$?
  if [ $st -ne 1 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q -- "$what" "$tmp/err"; then
    fail "nvc-rd $*: status $st, expected 1 with one line containing '$what':"; cat "$tmp/err"
  fi
}
bad "No such file" "$tmp/none.y4m"
bad "unknown codec" -c x266 "$clip"
bad "not a crf value" -c x265 --q x265=abc "$clip"
bad "unknown metric" -m psnr_w "$clip"
bad "no clip" -c x265
bad "is not among the codecs" -c x264 --q x265=30 "$clip"
bad "noname.yuv" "$tmp/noname.yuv"

[ $fails -eq 0 ] && echo "nvc-rd: all checks passed"
exit $((fails > 0))

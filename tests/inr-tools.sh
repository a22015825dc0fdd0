#!/bin/sh
# nvenc / nvdec with the INR codecs end to end, on a few frames of the
# committed sample and a couple of epochs: Matroska and elementary streams,
# random access (--start/--frames equals the same frames of a full decode),
# PNG sequences in and out, a one-frame clip, bad input (empty and truncated
# Y4M, unknown options), streams cut short, and Ctrl-C leaving no file.
set -u
src=${NVC_SRCDIR:-$(dirname "$0")/..}
build=${NVC_BUILDDIR:-.}
enc="$build/tools/nvenc"
dec="$build/tools/nvdec"
clip="$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
quick="-e 2 --qat-epochs 1 --quiet"
fs=$((320 * 192 * 3 / 2))

# crashed: exit status of a signal (abort, segfault) or of a sanitizer report
crashed() { [ "$1" -ge 126 ] && [ "$1" -ne 130 ]; }

for codec in hnerv nervpp; do
  # shellcheck disable=SC2086
  "$enc" -c "$codec" -s xs $quick -n 4 "$clip" "$tmp/$codec.nvc" 2>"$tmp/err" || { fail "$codec: nvenc"; cat "$tmp/err"; continue; }
  grep -q "4 frames 320x192 .* bpp" "$tmp/err" || fail "$codec: nvenc summary: $(cat "$tmp/err")"
  "$dec" "$tmp/$codec.nvc" -o "$tmp/$codec.yuv" || fail "$codec: nvdec"
  [ "$(wc -c <"$tmp/$codec.yuv")" -eq $((4 * fs)) ] || fail "$codec: decoded size"
  "$dec" "$tmp/$codec.nvc" -o "$tmp/$codec.y4m" && head -c 9 "$tmp/$codec.y4m" | grep -q YUV4MPEG2 || fail "$codec: y4m"
  # random access: frames 2 and 3 alone
  "$dec" --start 2 --frames 1 "$tmp/$codec.nvc" -o "$tmp/$codec-2.yuv" || fail "$codec: --start 2"
  tail -c +$((2 * fs + 1)) "$tmp/$codec.yuv" | head -c $fs | cmp -s - "$tmp/$codec-2.yuv" || fail "$codec: frame 2 alone differs"
  "$dec" --start 3 "$tmp/$codec.nvc" -o "$tmp/$codec-3.yuv" || fail "$codec: --start 3"
  tail -c +$((3 * fs + 1)) "$tmp/$codec.yuv" | cmp -s - "$tmp/$codec-3.yuv" || fail "$codec: frame 3 alone differs"
  # the elementary stream holds the same decode
  # shellcheck disable=SC2086
  "$enc" -c "$codec" -s xs $quick -n 4 "$clip" "$tmp/$codec.nvces" 2>/dev/null || fail "$codec: nvenc .nvces"
  "$dec" "$tmp/$codec.nvces" -o "$tmp/$codec-es.yuv" && cmp -s "$tmp/$codec.yuv" "$tmp/$codec-es.yuv" ||
    fail "$codec: elementary stream decodes differently (determinism or container)"
  # cut short anywhere: an error, never a crash
  size=$(wc -c <"$tmp/$codec.nvces")
  step=$((size / 40 + 1))
  cut=0
  while [ $cut -lt "$size" ]; do
    head -c $cut "$tmp/$codec.nvces" >"$tmp/cut.nvces"
    "$dec" "$tmp/cut.nvces" -o "$tmp/cut.yuv" 2>/dev/null
    st=$?
    [ $st -ne 0 ] || fail "$codec: stream cut at $cut of $size decoded without error"
    crashed $st && fail "$codec: nvdec crashed ($st) on a stream cut at $cut"
    [ -e "$tmp/cut.yuv" ] && fail "$codec: output left after an error"
    cut=$((cut + step))
  done
done

# PNG sequence in (RGB) and out
mkdir "$tmp/png"
"$dec" "$tmp/hnerv.nvc" --frames 2 -o "$tmp/png/f%03d.png" || fail "nvdec to PNG"
[ -f "$tmp/png/f001.png" ] && [ -f "$tmp/png/f002.png" ] || fail "PNG sequence not written"
# shellcheck disable=SC2086
"$enc" $quick "$tmp/png/f%03d.png" "$tmp/rgb.nvc" 2>/dev/null || fail "nvenc from PNG"
"$dec" "$tmp/rgb.nvc" -o "$tmp/rgb%02d.png" && [ -f "$tmp/rgb02.png" ] || fail "RGB stream to PNG"

# one frame
# shellcheck disable=SC2086
"$enc" -c nervpp $quick -n 1 "$clip" "$tmp/one.nvc" 2>/dev/null && "$dec" "$tmp/one.nvc" -o "$tmp/one.yuv" &&
  [ "$(wc -c <"$tmp/one.yuv")" -eq $fs ] || fail "one-frame clip"

# bad input: one line, non-zero status, no crash, no output
: >"$tmp/empty.y4m"
head -c 1000 "$clip" >"$tmp/trunc.y4m"
for bad in "$tmp/empty.y4m" "$tmp/trunc.y4m" "$tmp/missing.y4m"; do
  # shellcheck disable=SC2086
  "$enc" $quick "$bad" "$tmp/bad.nvc" 2>"$tmp/err"
  st=$?
  [ $st -ne 0 ] || fail "nvenc accepted $bad"
  crashed $st && fail "nvenc crashed on $bad"
  [ "$(wc -l <"$tmp/err")" -le 2 ] || fail "nvenc on $bad: $(cat "$tmp/err")"
  [ -e "$tmp/bad.nvc" ] && fail "nvenc left $tmp/bad.nvc"
done
"$enc" --strides 7,2 "$clip" "$tmp/bad.nvc" 2>/dev/null && fail "nvenc accepted --strides 7,2"
"$enc" --loss l3 "$clip" "$tmp/bad.nvc" 2>/dev/null && fail "nvenc accepted --loss l3"
"$dec" "$clip" -o "$tmp/x.yuv" 2>/dev/null && fail "nvdec accepted a Y4M file"

# Ctrl-C: exit 130, nothing written
"$enc" -e 1000000 --quiet "$clip" "$tmp/int.nvc" 2>/dev/null &
pid=$!
sleep 2
kill -INT $pid
wait $pid
st=$?
[ $st -eq 130 ] || fail "nvenc after SIGINT: status $st"
[ -e "$tmp/int.nvc" ] && fail "nvenc left a file after SIGINT"
ls "$tmp" | grep -q "int.nvc" && fail "nvenc left a temporary file after SIGINT"

[ $fails -eq 0 ] && echo "nvenc/nvdec INR: all checks passed"
exit $((fails > 0))

#!/bin/sh
# nvenc / nvdec with the INR codecs end to end, on a few frames of the
# committed sample and a couple of epochs: Matroska and elementary streams,
# random access (--start/--frames equals the same frames of a full decode),
# PNG sequences in and out, a one-frame clip, an odd size (177x145) and a
# 10-bit clip, bad input (empty, header-only and truncated Y4M, unknown
# options), streams cut short (both containers), and Ctrl-C leaving no file.
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
  # cut short anywhere, elementary stream and Matroska: an error (one line),
  # never a crash, no output left
  for ext in nvces nvc; do
    size=$(wc -c <"$tmp/$codec.$ext")
    step=$((size / 40 + 1))
    cut=0
    while [ $cut -lt "$size" ]; do
      head -c $cut "$tmp/$codec.$ext" >"$tmp/cut.$ext"
      "$dec" "$tmp/cut.$ext" -o "$tmp/cut.yuv" 2>"$tmp/err"
      st=$?
      [ $st -ne 0 ] || fail "$codec: .$ext cut at $cut of $size decoded without error"
      crashed $st && fail "$codec: nvdec crashed ($st) on a .$ext cut at $cut"
      [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$codec: .$ext cut at $cut: $(cat "$tmp/err")"
      [ -e "$tmp/cut.yuv" ] && fail "$codec: output left after an error"
      cut=$((cut + step))
    done
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

# odd size and 10 bits: clips made from the sample (the first 2 frames, the
# top-left 177x145, 8 bit; or 64x48 at 10 bits); the decoder returns exactly
# the source's size, layout and depth (nvc-metrics refuses a mismatch).
mkclip() { # BITS W H
  perl -e '
    my ($in, $bits, $w, $h) = @ARGV;
    open(my $f, "<:raw", $in) or die "$in: $!";
    my $hdr = <$f>;
    my ($W, $H) = ($hdr =~ / W(\d+)/, $hdr =~ / H(\d+)/);
    my ($cw, $ch, $fb) = (($w + 1) >> 1, ($h + 1) >> 1, $W * $H * 3 / 2);
    binmode STDOUT;
    print "YUV4MPEG2 W$w H$h F12:1 Ip A1:1 C", $bits == 10 ? "420p10" : "420jpeg", "\n";
    for (1 .. 2) {
      <$f>;
      read($f, my $fr, $fb) == $fb or die "short frame";
      print "FRAME\n";
      for my $p ([0, $W, $w, $h], [$W * $H, $W / 2, $cw, $ch], [$W * $H * 5 / 4, $W / 2, $cw, $ch]) {
        my ($o, $s, $pw, $ph) = @$p;
        for my $y (0 .. $ph - 1) {
          my $row = substr($fr, $o + $y * $s, $pw);
          print $bits == 10 ? pack("v*", map { $_ * 4 } unpack("C*", $row)) : $row;
        }
      }
    }' "$clip" "$@"
}
met="$build/tools/nvc-metrics"
if command -v perl >/dev/null && mkclip 8 177 145 >"$tmp/odd.y4m" && mkclip 10 64 48 >"$tmp/ten.y4m"; then
  for codec in hnerv nervpp; do
    for c in odd ten; do
      # shellcheck disable=SC2086
      "$enc" -c $codec -s xs $quick "$tmp/$c.y4m" "$tmp/$c.nvc" 2>"$tmp/err" || fail "$codec $c: nvenc: $(cat "$tmp/err")"
      "$dec" "$tmp/$c.nvc" -o "$tmp/$c-out.y4m" || fail "$codec $c: nvdec"
      "$met" -s "$tmp/$c.y4m" "$tmp/$c-out.y4m" >/dev/null || fail "$codec $c: decoded size or format differs"
    done
    head -1 "$tmp/odd-out.y4m" | grep -q "W177 H145 .*C420jpeg" || fail "$codec: 177x145 header: $(head -1 "$tmp/odd-out.y4m")"
    head -1 "$tmp/ten-out.y4m" | grep -q "W64 H48 .*C420p10" || fail "$codec: 10-bit header: $(head -1 "$tmp/ten-out.y4m")"
    "$dec" "$tmp/odd.nvc" -o "$tmp/odd.yuv" &&
      [ "$(wc -c <"$tmp/odd.yuv")" -eq $((2 * (177 * 145 + 2 * 89 * 73))) ] || fail "$codec: 177x145 raw size"
  done
else
  echo "SKIP: odd-size and 10-bit checks (perl missing)"
fi

# bad input: one line, non-zero status, no crash, no output
: >"$tmp/empty.y4m"
head -c 1000 "$clip" >"$tmp/trunc.y4m"
head -n 1 "$clip" >"$tmp/header.y4m"
head -c $(( $(head -n 1 "$clip" | wc -c) + 6 + 2 * fs + 3 )) "$clip" >"$tmp/trunc2.y4m"
for bad in "$tmp/empty.y4m" "$tmp/trunc.y4m" "$tmp/header.y4m" "$tmp/trunc2.y4m" "$tmp/missing.y4m"; do
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

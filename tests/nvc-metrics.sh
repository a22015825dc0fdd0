#!/bin/sh
# nvc-metrics end to end: figures on a known degradation, CSV layout, options,
# and one clear stderr line with exit status 1 for each kind of bad input.
set -u
src=${NVC_SRCDIR:-$(dirname "$0")/..}
build=${NVC_BUILDDIR:-.}
tool="$build/tools/nvc-metrics"
clip="$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
pass=0

ok() { pass=$((pass + 1)); }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run EXPECTED_STATUS ARGS...: output in $tmp/out, errors in $tmp/err
run() {
  want=$1; shift
  "$tool" "$@" >"$tmp/out" 2>"$tmp/err"
  got=$?
  if [ "$got" -ne "$want" ]; then
    fail "nvc-metrics $*: exit status $got, expected $want"; sed 's/^/  stderr: /' "$tmp/err"
    return 1
  fi
  return 0
}

# a bad input: status 1, exactly one stderr line containing $1
bad() {
  what=$1; shift
  if run 1 "$@"; then
    n=$(wc -l <"$tmp/err")
    if [ "$n" -ne 1 ] || ! grep -q -- "$what" "$tmp/err"; then
      fail "nvc-metrics $*: expected one stderr line with '$what', got:"; cat "$tmp/err"
    else
      ok
    fi
  fi
}

# field VALUE_NAME ROW: a CSV column of a row (by header name) from $tmp/out
field() {
  awk -F, -v name="$1" -v row="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i }
    $1 == row { print $c }' "$tmp/out"
}

# near A B TOL
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }'; }

hdr=$(head -n 1 "$clip" | wc -c)
frame=$((320 * 192 * 3 / 2))
# the first N frames of the clip as Y4M
head_frames() { head -c $((hdr + $1 * (frame + 6))) "$clip"; }
head_frames 3 >"$tmp/ref3.y4m"
head_frames 2 >"$tmp/ref2.y4m"

# test: the lowest bit of every sample flipped (MSE exactly 1)
flip=$(awk 'BEGIN { for (i = 0; i < 256; i++) printf "\\%03o", i % 2 ? i - 1 : i + 1 }')
{
  head -n 1 "$clip"
  for i in 0 1 2; do
    printf 'FRAME\n'
    tail -c +$((hdr + i * (frame + 6) + 7)) "$clip" | head -c $frame | tr '\000-\377' "$flip"
  done
} >"$tmp/test3.y4m"

# 1. identical inputs: inf and SSIM 1
if run 0 -s "$tmp/ref3.y4m" "$tmp/ref3.y4m"; then
  grep -q '^mean  *inf  *inf  *inf  *inf  *inf  *1.000000' "$tmp/out" && ok ||
    { fail "identical: expected inf / 1.000000"; cat "$tmp/out"; }
fi

# 2. one LSB everywhere: PSNR 20 log10(255) = 48.1308 on every plane
if run 0 --csv -m all "$tmp/ref3.y4m" "$tmp/test3.y4m"; then
  [ "$(wc -l <"$tmp/out")" -eq 6 ] && ok || fail "csv: expected 6 rows (header, 3 frames, mean, pooled)"
  for col in psnr_y psnr_u psnr_v psnr_yuv psnr_avg; do
    for row in 0 2 mean pooled; do
      v=$(field $col $row)
      near "$v" 48.130804 0.000001 && ok || fail "csv $col row $row: $v, expected 48.130804"
    done
  done
  v=$(field mse_y 1)
  near "$v" 1 0 && ok || fail "mse_y: $v"
  for col in ssim_y ssim_all msssim_y msssim_yuv msssim_rgb; do
    v=$(field $col mean)
    awk -v v="$v" 'BEGIN { exit !(v > 0.9 && v < 1) }' && ok || fail "$col: $v not in (0.9, 1)"
  done
  v=$(field psnr_rgb mean)
  awk -v v="$v" 'BEGIN { exit !(v > 40 && v < 60) }' && ok || fail "psnr_rgb: $v"
fi

# 3. --frames, --skip, human table
if run 0 -n 2 "$tmp/ref3.y4m" "$tmp/test3.y4m"; then
  grep -q 'psnr_y.*ssim_all' "$tmp/out" && grep -q '2 frames' "$tmp/out" &&
    ! grep -q '^ *2 ' "$tmp/out" && ok || { fail "--frames 2 output"; cat "$tmp/out"; }
fi
if run 0 --csv --skip 1 "$tmp/ref3.y4m" "$tmp/test3.y4m"; then
  [ "$(cut -d, -f1 "$tmp/out" | tr '\n' ' ')" = "frame 1 2 mean pooled " ] && ok ||
    { fail "--skip 1 rows"; cat "$tmp/out"; }
fi

# 4. standard input, raw .yuv sized by its name or by the other input
if cat "$tmp/test3.y4m" | "$tool" -s "$tmp/ref3.y4m" - >"$tmp/out" 2>"$tmp/err"; then
  grep -q '^mean *48.1308' "$tmp/out" && ok || { fail "stdin"; cat "$tmp/out"; }
else
  fail "stdin: exit status $?"; cat "$tmp/err"
fi
tail -c +$((hdr + 7)) "$tmp/ref3.y4m" | head -c $frame >"$tmp/one_320x192.yuv"
cp "$tmp/one_320x192.yuv" "$tmp/noname.yuv"
run 0 -s "$tmp/ref3.y4m" "$tmp/one_320x192.yuv" --shortest && grep -q '^mean *inf' "$tmp/out" && ok ||
  fail "raw yuv with a size in the name"
run 0 -s -n 1 "$tmp/noname.yuv" "$tmp/ref3.y4m" && ok || fail "raw yuv sized by the other input"
run 0 -s --size 320x192 "$tmp/noname.yuv" "$tmp/noname.yuv" && ok || fail "raw yuv with --size"

# 5. inputs of different lengths: error, or a warning with --shortest
bad "ends after 2 frames" -s "$tmp/ref2.y4m" "$tmp/ref3.y4m"
if run 0 -s --shortest "$tmp/ref3.y4m" "$tmp/ref2.y4m"; then
  grep -q 'warning: .*ref2.y4m ends after 2 frames' "$tmp/err" && grep -q '2 frames' "$tmp/out" &&
    ok || fail "--shortest warning"
fi

# 6. bad inputs: one line on stderr, exit status 1
: >"$tmp/empty.y4m"
bad "No such file" "$tmp/missing.y4m" "$tmp/ref3.y4m"
bad "empty file" "$tmp/ref3.y4m" "$tmp/empty.y4m"
printf 'this is not a video\n' >"$tmp/junk.y4m"
bad "not a Y4M file" "$tmp/junk.y4m" "$tmp/ref3.y4m"
{ printf 'YUV4MPEG2 W160 H192 F12:1 Ip A1:1 C420jpeg\n'; tail -c +$((hdr + 1)) "$tmp/ref3.y4m"; } >"$tmp/small.y4m"
bad "inputs differ" "$tmp/ref3.y4m" "$tmp/small.y4m"
{ printf 'YUV4MPEG2 W320 H192 F12:1 Ip A1:1 C444\n'; tail -c +$((hdr + 1)) "$tmp/ref3.y4m"; } >"$tmp/444.y4m"
bad "inputs differ" "$tmp/ref3.y4m" "$tmp/444.y4m"
head -c $((hdr + frame)) "$tmp/ref3.y4m" >"$tmp/trunc.y4m"
bad "truncated" "$tmp/ref3.y4m" "$tmp/trunc.y4m"
bad "needs a size" "$tmp/noname.yuv" "$tmp/noname.yuv"
bad "only one input" - -
bad "expected two inputs" "$tmp/ref3.y4m"
bad "unknown metric" -m psnr,vmaf "$tmp/ref3.y4m" "$tmp/ref3.y4m"
bad "unrecognized option '--bogus'" --bogus "$tmp/ref3.y4m" "$tmp/ref3.y4m"
bad "unrecognized option -q" -q "$tmp/ref3.y4m" "$tmp/ref3.y4m"
bad "needs an argument" "$tmp/ref3.y4m" "$tmp/ref3.y4m" --frames
bad "--frames" -n 0 "$tmp/ref3.y4m" "$tmp/ref3.y4m"

# 7. --help and --version
run 0 --help && grep -q '^Usage: nvc-metrics' "$tmp/out" && ok || fail "--help"
run 0 --version && grep -q '^nvc-metrics (nvc) ' "$tmp/out" && ok || fail "--version"

echo "$pass passed, $fails failed"
[ "$fails" -eq 0 ]

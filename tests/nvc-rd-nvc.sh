#!/bin/sh
# nvc-rd on nvc's own codecs: for every nvc codec this build has (nvc-rd
# --list-codecs asks nvc_encoder_open, which answers NVC_ERR(ENOTSUP) for a
# codec not compiled in), a 2-point sweep on 2 frames through the real
# path: encode -> container file -> its size is the rate -> demux -> decode
# -> metrics against the source. Skipped (exit 77) while no nvc codec exists.
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

codecs=$("$tool" --list-codecs | awk '$2 == "nvc" && $4 == "yes" { print $1 }')
if [ -z "$codecs" ]; then
  echo "SKIP: no nvc codec in this build (nvc_encoder_open: not supported)"
  exit 77
fi

# row_field FILE VALUE NAME
row_field() {
  awk -F, -v value="$2" -v name="$3" \
    'NR == 1 { for (i = 1; i <= NF; i++) { if ($i == name) c = i; if ($i == "value") v = i }; next }
     $v == value { print $c }' "$1"
}

for codec in $codecs; do
  knob=$("$tool" --list-codecs | awk -v c="$codec" '$1 == c { print $3 }')
  # the smaller rate first: INR model sizes, or quality indices
  if [ "$knob" = size ]; then lo=xs; hi=s; extra="--epochs 2"; else lo=8; hi=56; extra=""; fi
  out="$tmp/$codec"
  # shellcheck disable=SC2086
  if ! "$tool" -o "$out" -n 2 -c "$codec" --q "$codec=$lo,$hi" $extra --keep-streams -q "$clip" \
      >/dev/null 2>"$tmp/err"; then
    fail "$codec: exit status $?"; cat "$tmp/err"; continue
  fi
  csv="$out/rd.csv"
  [ "$(wc -l <"$csv")" -eq 3 ] || { fail "$codec: $(wc -l <"$csv") lines in rd.csv"; continue; }
  for v in $lo $hi; do
    bytes=$(row_field "$csv" $v bytes)
    f="$out/streams/cisco_vt_2people_320x192_12fps_9f-$codec-$knob$v.nvc"
    [ -f "$f" ] && [ "$(wc -c <"$f")" -eq "$bytes" ] || fail "$codec $v: bytes $bytes != file size"
    "$build/tools/nvc-info" "$f" >/dev/null || fail "$codec $v: nvc-info cannot read the stream"
    p=$(row_field "$csv" $v psnr_yuv)
    awk -v p="$p" 'BEGIN { exit !(p > 10 && p < 100) }' || fail "$codec $v: PSNR-YUV $p"
    [ "$(row_field "$csv" $v frames)" = 2 ] || fail "$codec $v: frames"
  done
  b_lo=$(row_field "$csv" $lo bytes); b_hi=$(row_field "$csv" $hi bytes)
  [ "$b_hi" -gt "$b_lo" ] || fail "$codec: $knob $hi gives $b_hi bytes, not more than $lo ($b_lo)"
done

[ $fails -eq 0 ] && echo "nvc-rd (nvc codecs: $(echo $codecs)): all checks passed"
exit $((fails > 0))

#!/bin/sh
# nvenc is deterministic: the same input, options, seed and thread count give
# the same bytes (doc: NvcEncoderSettings.seed). For every codec this build
# can encode: two encodes at 1 thread and two at 2 threads, to the elementary
# stream and to Matroska with --bitexact, each pair compared byte for byte.
# Codecs without an encoder in this build are skipped; with none at all the
# test reports SKIP (77).
#
# A codec adds itself by a line in `codecs` below: its name and the options
# that keep its encode short (a few seconds on 2 cores).
set -u
src=${NVC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${NVC_BUILDDIR:-$src}
nvenc=$build/tools/nvenc
input=$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

codecs='
hnerv   -n 2 -s xs -e 2
nervpp  -n 2 -s xs -e 2
image   -n 1
dcvc    -n 3
dcvc    -n 4 --q 50 --refresh 0 --intra-period 3
'

fail=0 tested=0
echo "$codecs" | grep . >"$tmp/codecs"
while read -r codec opts; do
  # shellcheck disable=SC2086
  if ! "$nvenc" --quiet -c "$codec" $opts "$input" "$tmp/probe.nvces" </dev/null 2>"$tmp/err"; then
    if grep -q "encoder in this build" "$tmp/err"; then
      echo "skip $codec: no encoder in this build"
      continue
    fi
    if grep -q "no video model" "$tmp/err"; then
      echo "skip $codec: no video model in this build"
      continue
    fi
    echo "FAIL $codec: $(head -1 "$tmp/err")"
    fail=1
    continue
  fi
  tested=$((tested + 1))
  for t in 1 2; do
    for ext in nvces nvc; do
      for run in a b; do
        # shellcheck disable=SC2086
        "$nvenc" --quiet --bitexact --seed 7 -t $t -c "$codec" $opts "$input" "$tmp/$run.$ext" \
          </dev/null 2>"$tmp/err" || { echo "FAIL $codec -t $t .$ext: $(head -1 "$tmp/err")"; fail=1; }
      done
      if cmp -s "$tmp/a.$ext" "$tmp/b.$ext"; then
        echo "ok   $codec -t $t .$ext: $(stat -c %s "$tmp/a.$ext") bytes, twice the same"
      else
        echo "FAIL $codec -t $t .$ext: two encodes differ ($(cmp "$tmp/a.$ext" "$tmp/b.$ext" 2>&1 | head -1))"
        fail=1
      fi
    done
  done
done <"$tmp/codecs"
[ $fail = 0 ] || exit 1
[ $tested -gt 0 ] || { echo "nvenc_determinism: no codec in this build to test (SKIP)"; exit 77; }
exit 0

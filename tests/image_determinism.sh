#!/bin/sh
# The image codec's probability path (integer prior networks, parameter
# derivation, scale-to-table index, entropy coding of the latents) gives the
# same bytes and the same decoded symbols whatever the optimisation level,
# floating-point contraction, fast-math, compiler or thread count: build
# tests/image_det.c with those sources each way and compare the hash it
# prints (which covers every payload byte, the hyper-synthesis output and
# every decoded value, with the shipped model).
set -u
src=${NVC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cc=${CC:-cc}
model=$src/models/image-v2.nvcm
[ -f "$model" ] || { echo "SKIP: no $model"; exit 77; }
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
: >"$tmp/config.h"
files="$src/tests/image_det.c"
for f in image_file image_config image_int image_latent; do files="$files $src/nvc/$f.c"; done
for f in rans cdf dist tables coder gmm codebook adaptive; do files="$files $src/entropy/$f.c"; done
files="$files $src/codec/bytes.c $src/codec/util.c $src/codec/crc.c"
fail=0
ref=""

# variant NAME COMPILER "FLAGS" [ENV...]: build (once per NAME), run, compare
variant() {
  name=$1 comp=$2 flags=$3
  shift 3
  if [ ! -x "$tmp/$name" ]; then
    # shellcheck disable=SC2086
    if ! $comp -std=c11 -D_GNU_SOURCE $flags -I"$tmp" -I"$src" -I"$src/include" $files -lm -o "$tmp/$name" \
        >"$tmp/$name.log" 2>&1; then
      echo "FAIL $name: build failed"; cat "$tmp/$name.log"; fail=1; return
    fi
  fi
  if ! env "$@" "$tmp/$name" "$model" >"$tmp/out" 2>&1; then
    echo "FAIL $name $*: run failed"; cat "$tmp/out"; fail=1; return
  fi
  got=$(sed -n 's/^integer //p' "$tmp/out")
  echo "$name $* ($comp $flags): $got"
  [ -n "$ref" ] || { ref=$got; cat "$tmp/out"; }
  if [ "$got" != "$ref" ]; then
    echo "FAIL $name: hash $got, -O0 gave $ref"; fail=1
  fi
}

variant O0 "$cc" "-O0"
variant O2 "$cc" "-O2"
variant O3-native "$cc" "-O3 -march=native -ffp-contract=fast"
variant O2-fast-math "$cc" "-O2 -ffast-math"
for t in 1 2 3; do variant O2-openmp "$cc" "-O2 -fopenmp" OMP_NUM_THREADS=$t; done
if command -v clang >/dev/null 2>&1 && [ "$cc" != clang ]; then
  variant clang-O2 clang "-O2"
  variant clang-O1-fast-math clang "-O1 -ffast-math"
fi
exit $fail

#!/bin/sh
# The entropy coder gives the same bytes whatever the optimisation level,
# floating-point contraction, fast-math, compiler or thread count: build
# tests/entropy_det.c with the entropy sources several ways (without libm:
# the entropy code must not need it) and compare the hash it prints, and
# compare the integer hash with the value recorded below, so that another
# machine must agree too. The float k-means hash is only compared between
# builds without -ffast-math.
set -u
src=${NVC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
cc=${CC:-cc}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
# Changes only when the entropy payload format or its tables change.
golden=33020fa557fb1d9b
files="$src/tests/entropy_det.c"
for f in rans cdf dist tables coder gmm codebook adaptive; do files="$files $src/entropy/$f.c"; done
files="$files $src/codec/bytes.c $src/codec/util.c"
fail=0
ref_float=""

# variant NAME COMPILER "FLAGS" STRICT [ENV...]: build (once per NAME), run, compare
variant() {
  name=$1 comp=$2 flags=$3 strict=$4
  shift 4
  if [ ! -x "$tmp/$name" ]; then
    # shellcheck disable=SC2086
    if ! $comp -std=c11 -D_GNU_SOURCE $flags -I"$src" -I"$src/include" $files -o "$tmp/$name" \
        >"$tmp/$name.log" 2>&1; then
      echo "FAIL $name: build failed"; cat "$tmp/$name.log"; fail=1; return
    fi
  fi
  if ! env "$@" "$tmp/$name" >"$tmp/out" 2>&1; then
    echo "FAIL $name $*: run failed"; cat "$tmp/out"; fail=1; return
  fi
  int=$(sed -n 's/^integer //p' "$tmp/out")
  flt=$(sed -n 's/^float //p' "$tmp/out")
  echo "$name $* ($comp $flags): integer $int, float $flt"
  if [ "$int" != "$golden" ]; then
    echo "FAIL $name: integer hash $int, recorded $golden"; fail=1
  fi
  if [ "$strict" = strict ]; then
    [ -n "$ref_float" ] || ref_float=$flt
    if [ "$flt" != "$ref_float" ]; then
      echo "FAIL $name: float hash $flt, -O0 gave $ref_float"; fail=1
    fi
  fi
}

variant O0 "$cc" "-O0" strict
variant O2 "$cc" "-O2" strict
variant O3-native "$cc" "-O3 -march=native -ffp-contract=fast" loose
variant O2-fast-math "$cc" "-O2 -ffast-math" loose
for t in 1 2 3; do variant O2-openmp "$cc" "-O2 -fopenmp" strict OMP_NUM_THREADS=$t; done
if command -v clang >/dev/null 2>&1 && [ "$cc" != clang ]; then
  variant clang-O2 clang "-O2" loose
  variant clang-O1-fast-math clang "-O1 -ffast-math" loose
fi
exit $fail

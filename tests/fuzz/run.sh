#!/bin/sh
# Build a fuzz target with libFuzzer + ASan + UBSan (clang) and run it.
#   tests/fuzz/run.sh NAME [SECONDS] [extra libFuzzer options...]
# e.g. tests/fuzz/run.sh entropy 600 -jobs=2 -workers=2
# Sources: tests/fuzz/fuzz_NAME.c plus the library sources it needs (listed
# below per target). New crashes land in _build-fuzz/NAME/ as crash-*;
# inputs that grow coverage are added to _build-fuzz/NAME/corpus (seeded
# from tests/fuzz/corpus/NAME). Copy the small interesting ones into
# tests/fuzz/corpus/NAME so `make check` replays them.
set -eu
name=${1:?usage: run.sh NAME [SECONDS] [libFuzzer options]}
secs=${2:-600}
[ $# -ge 2 ] && shift 2 || shift $#
src=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CLANG:-clang}
case $name in
entropy) libsrc="entropy/rans.c entropy/cdf.c entropy/dist.c entropy/tables.c entropy/coder.c entropy/gmm.c
                 entropy/codebook.c entropy/adaptive.c codec/bytes.c codec/util.c" ;;
*) echo "run.sh: unknown target $name" >&2; exit 2 ;;
esac
out=$src/_build-fuzz/$name
mkdir -p "$out/corpus"
cfg=$out/config.h
[ -f "$cfg" ] || : >"$cfg"
files=""
for f in $libsrc; do files="$files $src/$f"; done
# shellcheck disable=SC2086
$cc -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined \
    -fno-sanitize-recover=undefined -I"$out" -I"$src" -I"$src/include" \
    "$src/tests/fuzz/fuzz_$name.c" $files -lm -o "$out/fuzz_$name"
cd "$out"
exec ./fuzz_$name -max_total_time="$secs" -max_len=8192 -rss_limit_mb=2048 -print_final_stats=1 \
    "$@" corpus "$src/tests/fuzz/corpus/$name"

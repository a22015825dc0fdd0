#!/bin/sh
# Build a fuzz target with libFuzzer + ASan + UBSan (clang) and run it.
#   tests/fuzz/run.sh NAME [SECONDS] [extra libFuzzer options...]
#   tests/fuzz/run.sh --list
# e.g. tests/fuzz/run.sh mkv 600
#      tests/fuzz/run.sh entropy 600 -jobs=2 -workers=2
# Sources: tests/fuzz/fuzz_NAME.c plus the library. The entropy target
# compiles only the entropy sources; every other target compiles the whole
# library (codec/, entropy/, and the codec folders once they exist) into
# _build-fuzz/obj, rebuilt when a source or header changes, and links
# FFmpeg and libpng when pkg-config finds them (those are not instrumented:
# coverage guides through nvc's code only).
# New crashes land in _build-fuzz/NAME/ as crash-* (timeouts: timeout-*,
# memory: oom-*); inputs that grow coverage are added to
# _build-fuzz/NAME/corpus (seeded from tests/fuzz/corpus/NAME). Copy the
# small interesting ones into tests/fuzz/corpus/NAME so `make check`
# replays them (tests/fuzz/README.md).
set -eu
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${1:-}" = --list ]; then
  for f in "$src"/tests/fuzz/fuzz_*.c; do f=${f##*/fuzz_}; echo "${f%.c}"; done
  exit 0
fi
name=${1:?usage: run.sh NAME [SECONDS] [libFuzzer options] | run.sh --list}
secs=${2:-600}
[ $# -ge 2 ] && shift 2 || shift $#
[ -f "$src/tests/fuzz/fuzz_$name.c" ] || { echo "run.sh: unknown target $name (see --list)" >&2; exit 2; }
cc=${CLANG:-clang}
flags="-std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined
       -fno-sanitize-recover=undefined -Wno-unknown-pragmas"
top=$src/_build-fuzz
out=$top/$name
mkdir -p "$out/corpus" "$top/obj"

# Per target: input size limit (bytes) and memory limit (MiB).
max_len=65536
case $name in
entropy) max_len=8192 ;;
record|yuvname) max_len=4096 ;;
esac

if [ "$name" = entropy ]; then
  libsrc="entropy/rans.c entropy/cdf.c entropy/dist.c entropy/tables.c entropy/coder.c entropy/gmm.c
          entropy/codebook.c entropy/adaptive.c codec/bytes.c codec/util.c"
  inc=$out
  [ -f "$out/config.h" ] || : >"$out/config.h"
  libs="-lm"
else
  # the whole library, configured like a default build of this machine
  inc=$top/lib
  mkdir -p "$inc"
  cfg=$inc/config.h.new
  ver=$(sed -n 's/^AC_INIT(\[nvc\], \[\([^]]*\)\].*/\1/p' "$src/configure.ac")
  echo "#define PACKAGE_VERSION \"$ver\"" >"$cfg"
  libs="-lm -lpthread"
  libsrc=""
  for f in "$src"/codec/*.c "$src"/entropy/*.c "$src"/nn/*.c "$src"/inr/*.c "$src"/nvc/*.c; do
    [ -f "$f" ] || continue
    case $f in */gen_tables.c) continue ;; esac
    libsrc="$libsrc ${f#"$src"/}"
  done
  if pkg-config --exists libavformat libavcodec libavutil libavfilter libswscale 2>/dev/null; then
    echo "#define NVC_HAVE_FFMPEG 1" >>"$cfg"
    flags="$flags $(pkg-config --cflags libavformat libavcodec libavutil libavfilter libswscale)"
    libs="$libs $(pkg-config --libs libavformat libavcodec libavutil libavfilter libswscale)"
    libsrc=$(echo "$libsrc" | sed 's| codec/noffmpeg.c||')  # its stand-ins are for builds without FFmpeg
  else
    libsrc=$(echo "$libsrc" | sed 's| codec/matroska.c||; s| codec/lav.c||; s| codec/lavf_in.c||;
                                   s| codec/lavf_out.c||; s| codec/filter.c||')
  fi
  if pkg-config --exists libpng 2>/dev/null; then
    echo "#define NVC_HAVE_PNG 1" >>"$cfg"
    flags="$flags $(pkg-config --cflags libpng)"
    libs="$libs $(pkg-config --libs libpng)"
  fi
  if pkg-config --exists openblas 2>/dev/null; then
    echo "#define NVC_HAVE_OPENBLAS 1" >>"$cfg"
    flags="$flags $(pkg-config --cflags openblas)"
    libs="$libs $(pkg-config --libs openblas)"
  fi
  cmp -s "$cfg" "$inc/config.h" 2>/dev/null && rm "$cfg" || mv "$cfg" "$inc/config.h"
fi

# Compile what changed (a header newer than an object rebuilds it too).
newest_h=$(find "$src/include" "$src/codec" "$src/entropy" "$src/nn" "$src/tests/fuzz" "$inc/config.h" \
             -name '*.h' -newer "$top/obj/.stamp" 2>/dev/null | head -1 || true)
[ -f "$top/obj/.stamp" ] || newest_h=all
objs=""
suffix=.o
[ "$name" != entropy ] || suffix=.entropy.o  # built against the target's own config.h
# the built-in models: the files nvc/local.mk names (it passes the same defines)
image_model=$src/$(sed -n 's/^NVC_IMAGE_MODEL = //p' "$src/nvc/local.mk")
video_model=$src/$(sed -n 's/^NVC_VIDEO_MODEL = //p' "$src/nvc/local.mk")
for f in $libsrc; do
  o=$top/obj/$(echo "${f%.c}" | tr / _)$suffix
  objs="$objs $o"
  if [ -n "$newest_h" ] || [ ! -f "$o" ] || [ "$src/$f" -nt "$o" ] ||
     { [ "$f" = nvc/model_weights.c ] && { [ "$image_model" -nt "$o" ] || [ "$video_model" -nt "$o" ]; }; }; then
    echo "  CC $f"
    def=""
    [ "$f" != nvc/model_weights.c ] || def="-DNVC_IMAGE_MODEL_FILE=\"$image_model\" -DNVC_VIDEO_MODEL_FILE=\"$video_model\""
    # shellcheck disable=SC2086
    $cc $flags $def -I"$inc" -I"$src" -I"$src/include" -c "$src/$f" -o "$o"
  fi
done
touch "$top/obj/.stamp"
# shellcheck disable=SC2086
$cc $flags -fsanitize=fuzzer -DFUZZ_SRCDIR="\"$src\"" -I"$inc" -I"$src" -I"$src/include" "$src/tests/fuzz/fuzz_$name.c" $objs \
    $libs -o "$out/fuzz_$name"
cd "$out"
seeds=$src/tests/fuzz/corpus/$name
mkdir -p "$seeds"
exec ./fuzz_$name -max_total_time="$secs" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
    -malloc_limit_mb=512 -print_final_stats=1 "$@" corpus "$seeds"

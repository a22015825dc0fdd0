#!/bin/sh
# Print (or append with --append) the conformance/manifest line of a
# reference stream: its frames md5 from nvdec --md5 and its symbols md5 from
# nvdec --md5-symbols, each checked to be the same at 1 and 2 threads.
#   conformance/add.sh [--append] conformance/<codec>/STREAM [nvdec options]
# Environment: NVC_BUILDDIR (where tools/nvdec is; default: the source tree).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${NVC_BUILDDIR:-$(cd "$here/.." && pwd)}
# dcvc streams: the conformance model (dcvc/make.sh)
NVC_VIDEO_MODEL=$here/dcvc/model-tiny.nvcm
export NVC_VIDEO_MODEL
append=0
[ "${1:-}" = --append ] && { append=1; shift; }
stream=${1:?usage: add.sh [--append] conformance/<codec>/STREAM [nvdec options]}
shift
abs=$(cd "$(dirname "$stream")" && pwd)/$(basename "$stream")
case $abs in
"$here"/*) rel=${abs#"$here"/} ;;
*) echo "add.sh: $stream is not under $here" >&2; exit 1 ;;
esac
md5_1=$("$build/tools/nvdec" --threads 1 --md5 "$@" "$abs")
md5_2=$("$build/tools/nvdec" --threads 2 --md5 "$@" "$abs")
if [ "$md5_1" != "$md5_2" ]; then
  echo "add.sh: $rel decodes differently at 1 thread ($md5_1) and 2 ($md5_2)" >&2
  exit 1
fi
sym_1=$("$build/tools/nvdec" --threads 1 --md5-symbols "$@" "$abs")
sym_2=$("$build/tools/nvdec" --threads 2 --md5-symbols "$@" "$abs")
if [ "$sym_1" != "$sym_2" ]; then
  echo "add.sh: $rel entropy-decodes differently at 1 thread ($sym_1) and 2 ($sym_2)" >&2
  exit 1
fi
line="$rel $md5_1 $sym_1${*:+ $*}"
if [ $append = 1 ]; then
  echo "$line" >>"$here/manifest"
  echo "add.sh: appended to conformance/manifest: $line"
else
  echo "$line"
fi

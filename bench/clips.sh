# shellcheck shell=bash disable=SC2154
# bench/clips.sh: shared by the scripts of bench/ (sourced, not run).
# Expects `here` (the source tree) and `me` (the calling script's name for
# messages). Sets `data` (the shared media: NVC_TEST_DATA, else
# ../shared/data next to the sources) and defines bench_find_rd and
# bench_decode.

data=${NVC_TEST_DATA:-$here/../shared/data}

# bench_find_rd: sets `rd` (the nvc-rd binary: NVC_RD, else tools/nvc-rd of
# the build run from or of this tree) and checks the media folder, or exits.
bench_find_rd() {
  rd=${NVC_RD:-}
  if [ -z "$rd" ]; then
    for c in "$PWD/tools/nvc-rd" "$here/tools/nvc-rd"; do
      [ -x "$c" ] && { rd=$c; break; }
    done
  fi
  if [ -z "$rd" ] || [ ! -x "$rd" ]; then
    echo "$me: nvc-rd not found (build it, or set NVC_RD)" >&2
    exit 1
  fi
  [ -d "$data/video/bitstreams" ] || { echo "$me: no test media in $data (set NVC_TEST_DATA)" >&2; exit 1; }
}

# bench_decode DIR FRAMES NAME SOURCE RATE: the first FRAMES frames of
# $data/video/bitstreams/SOURCE as DIR/NAME.y4m (8-bit 4:2:0, frame rate
# RATE), decoded once; prints the path.
bench_decode() {
  local y4m="$1/$3.y4m"
  if [ ! -s "$y4m" ] || [ "$(grep -c FRAME "$y4m" 2>/dev/null || true)" -lt "$2" ]; then
    command -v ffmpeg >/dev/null || { echo "$me: ffmpeg is needed to decode the clips" >&2; exit 1; }
    mkdir -p "$1"
    ffmpeg -nostdin -v error -y -r "$5" -i "$data/video/bitstreams/$4" -frames:v "$2" \
      -pix_fmt yuv420p -f yuv4mpegpipe "$y4m.tmp" ||
      { rm -f "$y4m.tmp"; echo "$me: cannot decode $data/video/bitstreams/$4" >&2; exit 1; }
    mv "$y4m.tmp" "$y4m"
  fi
  echo "$y4m"
}

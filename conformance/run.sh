#!/bin/sh
# nvc conformance runner (conformance/README.md).
#
#   conformance/run.sh [options]
#
# 1. Reference streams (conformance/manifest): nvdec --verify MD5 at each
#    thread count (default 1 and 2), with the build under test (-O2 by
#    default) and, with --O0, with an -O0 build of the same sources.
# 2. Container streams (conformance/container/list): nvc-info accepts each,
#    and rejects it truncated at many offsets before its last packet's end.
# 3. Invalid streams (conformance/invalid/list, codecs.list): nvc-info and nvdec reject
#    each with exit status 1 and one line on stderr (nvc-info's naming the
#    expected reason), print nothing on stdout, and never crash or hang. A
#    reason "nvdec: ..." marks codec-level damage: nvc-info must accept the
#    container, nvdec must reject it with that reason.
#
# Options:
#   --threads "1 2"   thread counts for the reference streams
#   --O0              also decode the reference streams with an -O0 build,
#                     configured and built in a temporary folder from a copy
#                     of this working tree (git ls-files: tracked and
#                     untracked-but-not-ignored files); takes minutes
#   --O0-build DIR    use (and keep) DIR for that build: built when missing
#   --O0-threads "1"  thread counts for the -O0 build (default 1)
#   --only PART       run one part: reference, container or invalid
#   --timeout S       seconds allowed per command (default 300)
#   -v                name every check
# Environment: NVC_BUILDDIR (the build under test; default: the source tree),
# NVC_SRCDIR. Exit status 0 when everything passed, 1 otherwise.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=${NVC_SRCDIR:-$(cd "$here/.." && pwd)}
build=${NVC_BUILDDIR:-$src}
conf=$src/conformance
# The dcvc streams are coded with the conformance model (dcvc/make.sh)
NVC_VIDEO_MODEL=$conf/dcvc/model-tiny.nvcm
export NVC_VIDEO_MODEL
threads="1 2" o0=0 o0_dir="" o0_threads="1" only="" limit=300 verbose=0
while [ $# -gt 0 ]; do
  case $1 in
  --threads) threads=$2; shift ;;
  --O0) o0=1 ;;
  --O0-build) o0=1; o0_dir=$2; shift ;;
  --O0-threads) o0_threads=$2; shift ;;
  --only) only=$2; shift ;;
  --timeout) limit=$2; shift ;;
  -v) verbose=1 ;;
  -h|--help) sed -n '2,/^set -u/p' "$0" | sed 's/^# \{0,1\}//;/^set -u/d'; exit 0 ;;
  *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
# The tools themselves rather than libtool's wrapper scripts, which cost a
# shell and more per run: the binary in .libs with the build's libnvc.
tool() {
  t=$build/tools/$1
  [ -x "$t" ] || { echo "run.sh: $t not built (make first)" >&2; exit 1; }
  if [ -x "$build/tools/.libs/$1" ] && grep -q "libtool wrapper" "$t" 2>/dev/null &&
     ! grep -q '^relink_command=".' "$t"; then
    t=$build/tools/.libs/$1
  fi
  echo "$t"
}
nvdec=$(tool nvdec) || exit 1
nvcinfo=$(tool nvc-info) || exit 1
LD_LIBRARY_PATH=$build/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export LD_LIBRARY_PATH
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0 checks=0

pass() { checks=$((checks + 1)); [ $verbose = 0 ] || echo "ok   $*"; }
fail() { checks=$((checks + 1)); failures=$((failures + 1)); echo "FAIL $*"; }

# run CMD...: run with the time limit, stdin empty, stdout to $tmp/out, stderr to
# $tmp/err; sets rc (124 when the limit was hit, >= 128 for a signal).
run() {
  timeout -k 5 "$limit" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
  rc=$?
}

# A rejection: exit status 1 (not a signal, not a timeout), exactly one line
# on stderr, nothing on stdout, and (when given) the reason in that line.
# expect_rejected WHAT REASON CMD...
expect_rejected() {
  what=$1 reason=$2
  shift 2
  run "$@"
  lines=$(wc -l <"$tmp/err")
  msg=$(head -c 300 "$tmp/err" | head -1)
  if [ $rc = 124 ] || [ $rc = 137 ]; then
    fail "$what: no answer in $limit s (hang)"
  elif [ $rc -ge 128 ]; then
    fail "$what: killed by signal $((rc - 128)): $msg"
  elif [ $rc != 1 ]; then
    fail "$what: exit status $rc, expected 1 (rejected): $msg"
  elif [ "$lines" != 1 ]; then
    fail "$what: $lines lines on stderr, expected one: $(tr '\n' '|' <"$tmp/err" | head -c 300)"
  elif [ -s "$tmp/out" ]; then
    fail "$what: printed on stdout although rejected: $(head -c 100 "$tmp/out")"
  elif [ -n "$reason" ] && ! grep -qF -- "$reason" "$tmp/err"; then
    fail "$what: rejected for another reason: '$msg', expected '$reason'"
  else
    pass "$what: $msg"
  fi
}

# ---- 1. reference streams ------------------------------------------------

# Fields of a manifest line: STREAM FRAMES_MD5 [SYMBOLS_MD5|-] [nvdec options]
verify_streams() {
  dec=$1 label=$2 tlist=$3
  has_symbols=0
  "$dec" --help 2>/dev/null | grep -q -- --verify-symbols && has_symbols=1
  grep -v '^[[:space:]]*\(#\|$\)' "$conf/manifest" >"$tmp/manifest"
  while read -r stream md5 symbols opts; do
    for t in $tlist; do
      what="$label $stream ${opts:+($opts) }at $t thread(s)"
      # shellcheck disable=SC2086
      run "$dec" --threads "$t" --verify "$md5" $opts "$conf/$stream"
      if [ $rc = 0 ]; then
        pass "$what"
      else
        fail "$what: exit status $rc: $(head -c 300 "$tmp/err" | head -2 | tr '\n' ' ')"
      fi
      [ -n "${symbols:-}" ] && [ "$symbols" != - ] || continue
      if [ $has_symbols = 0 ]; then
        fail "$what: the manifest gives a symbols md5, but nvdec has no --verify-symbols yet"
        continue
      fi
      # shellcheck disable=SC2086
      run "$dec" --threads "$t" --verify-symbols "$symbols" $opts "$conf/$stream"
      [ $rc = 0 ] && pass "$what: symbols" || fail "$what: symbols: $(head -1 "$tmp/err")"
    done
  done <"$tmp/manifest"
}

# A private -O0 build of this working tree (a VPATH build of the source
# tree is impossible once it is configured in place, hence the copy).
build_o0() {
  dir=$1
  [ -x "$dir/tools/nvdec" ] && return 0
  echo "conformance: building nvc at -O0 in $dir (minutes)"
  mkdir -p "$dir" || return 1
  if ! (cd "$src" && git ls-files -z -co --exclude-standard | tar --null -T - -cf -) |
      tar -C "$dir" -xf -; then
    echo "run.sh: --O0 copies the tree with git; pass --O0-build DIR with a built tree" >&2
    return 1
  fi
  (cd "$dir" && autoreconf -fi && ./configure -q CFLAGS="-O0 -g" --disable-shared &&
   make -j"$(nproc 2>/dev/null || echo 2)" tools/nvdec) >"$dir/build.log" 2>&1 || {
    echo "run.sh: the -O0 build failed, see $dir/build.log" >&2
    return 1
  }
}

reference() {
  n=$(grep -vc '^[[:space:]]*\(#\|$\)' "$conf/manifest")
  if [ "$n" = 0 ]; then
    echo "conformance: the manifest lists no reference stream yet (no codec)"
    return
  fi
  verify_streams "$nvdec" build "$threads"
  [ $o0 = 1 ] || return
  dir=${o0_dir:-$tmp/O0}
  if build_o0 "$dir"; then
    verify_streams "$dir/tools/nvdec" -O0 "$o0_threads"
  else
    fail "-O0 build"
  fi
}

# ---- 2. container streams and their truncations --------------------------

# Offsets below END to cut at: the signature and the record's first fields
# (0 to 15), then 16 more spread to the end, the last byte included.
cut_points() {
  end=$1
  awk -v end="$end" 'BEGIN {
    for (i = 0; i < 16 && i < end; i++) print i;
    step = int((end - 16) / 16); if (step < 1) step = 1;
    for (i = 16 + int(step / 2); i < end; i += step) print i;
    if (end > 0) print end - 1 }' | sort -nu
}

container() {
  grep -v '^[[:space:]]*\(#\|$\)' "$conf/container/list" >"$tmp/container"
  while read -r f end; do
    path=$conf/container/$f
    run "$nvcinfo" -s "$path"
    [ $rc = 0 ] && pass "container $f: accepted" || fail "container $f: rejected: $(head -1 "$tmp/err")"
    n=0
    for c in $(cut_points "$end"); do
      cut=$tmp/cut.${f##*.}
      head -c "$c" "$path" >"$cut"
      expect_rejected "container $f cut to $c bytes (nvc-info)" "" "$nvcinfo" "$cut"
      # nvdec on every 4th cut: the same demuxer behind another front
      [ $((n % 4)) = 0 ] && expect_rejected "container $f cut to $c bytes (nvdec)" "" "$nvdec" --md5 "$cut"
      n=$((n + 1))
    done
  done <"$tmp/container"
}

# ---- 3. invalid streams ----------------------------------------------------

invalid() {
  tab=$(printf '\t')
  cat "$conf/invalid/list" "$conf/invalid/codecs.list" | grep -v '^[[:space:]]*\(#\|$\)' >"$tmp/invalid"
  while IFS=$tab read -r f reason; do
    case $reason in
    nvdec:*) # valid container, invalid codec data: only the decoder can tell
      reason=${reason#nvdec:}
      reason=${reason# }
      run "$nvcinfo" -s "$conf/invalid/$f"
      [ $rc = 0 ] && pass "invalid $f: container accepted (nvc-info)" ||
        fail "invalid $f: nvc-info rejects it, the list says only nvdec should: $(head -1 "$tmp/err")"
      expect_rejected "invalid $f (nvdec)" "$reason" "$nvdec" --md5 "$conf/invalid/$f" ;;
    *)
      expect_rejected "invalid $f (nvc-info)" "$reason" "$nvcinfo" "$conf/invalid/$f"
      expect_rejected "invalid $f (nvdec)" "" "$nvdec" --md5 "$conf/invalid/$f" ;;
    esac
  done <"$tmp/invalid"
}

case $only in
"") reference; container; invalid ;;
reference|container|invalid) $only ;;
*) echo "run.sh: --only reference, container or invalid" >&2; exit 2 ;;
esac
echo "conformance: $checks checks, $failures failed"
[ $failures = 0 ]

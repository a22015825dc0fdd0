#!/bin/sh
# Ctrl-C leaves nothing behind: each tool, blocked on an input that stalls (a
# fifo holding the first bytes of a file, its writer still open), gets SIGINT
# and must exit with status 130 and an "interrupted" line, leave no output
# file and no temporary file, and print no result on stdout.
#
# What each case can reach today: nvdec and nvenc stop at "no decoder /
# encoder in this build" once their input is open, so they are interrupted
# while opening it. The cases marked "codec" (interrupted mid-stream with the
# output open) run once `nvenc` / `nvdec` have a codec: an encoder in this
# build, a reference stream in conformance/manifest.
set -u
src=${NVC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${NVC_BUILDDIR:-$src}
tools=$build/tools
tmp=$(mktemp -d) || exit 1
writer_open=0
cleanup() {
  [ $writer_open = 0 ] || exec 3>&-
  rm -rf "$tmp"
}
trap cleanup EXIT
fail=0 ran=0 skipped=0
mkstream=$build/conformance/mkstream
y4m=$src/tests/fuzz/corpus/y4m/seed-420.y4m   # 8x6, 2 frames

# Is process $1 blocked (sleeping, in a pipe read where /proc says so) for
# five polls in a row? Gives up after about 30 s or when it has exited.
wait_blocked() {
  pid=$1 n=0 i=0
  while [ $i -lt 600 ]; do
    st=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$st" ] || return 1
    [ "$st" = Z ] && return 1
    wchan=$(cat "/proc/$pid/wchan" 2>/dev/null || echo 0)
    if [ "$st" = S ] && { [ "$wchan" = 0 ] || [ -z "$wchan" ] || echo "$wchan" | grep -q pipe; }; then
      n=$((n + 1))
      [ $n -ge 5 ] && return 0
    else
      n=0
    fi
    sleep 0.05
    i=$((i + 1))
  done
  return 1
}

# interrupt NAME PREFIX_FILE TOOL ARGS...: the tool reads $tmp/in.y4m (a fifo
# holding PREFIX_FILE's bytes, its writer kept open), is interrupted once
# blocked, and must fail cleanly. Output names must start with $tmp/out.
interrupt() {
  name=$1 prefix=$2
  shift 2
  rm -f "$tmp/in.y4m" "$tmp"/out*
  mkfifo "$tmp/in.y4m" || { echo "FAIL $name: mkfifo"; fail=1; return; }
  exec 3<>"$tmp/in.y4m"   # a writer that never closes: reads block, never end
  # (the name suits every tool: nvenc and nvc-metrics go by the extension,
  # nvdec and nvc-info by the first bytes)
  writer_open=1
  cat "$prefix" >&3
  "$@" >"$tmp/stdout" 2>"$tmp/stderr" 3>&- &
  pid=$!
  if ! wait_blocked $pid; then
    wait $pid
    echo "FAIL $name: did not block on its input (exit status $?): $(head -c 300 "$tmp/stderr")"
    fail=1
  else
    kill -INT $pid
    # it must stop on its own: after 30 s it is killed and the case fails
    i=0
    while [ $i -lt 600 ] && [ "$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)" != Z ] &&
          [ -e "/proc/$pid" ]; do
      sleep 0.05
      i=$((i + 1))
    done
    [ $i -lt 600 ] || { kill -KILL $pid; echo "still running 30 s after SIGINT" >>"$tmp/stderr"; }
    wait $pid
    rc=$?
    left=$(cd "$tmp" && ls -d out* 2>/dev/null | tr '\n' ' ')
    last=$(tail -1 "$tmp/stderr")
    if [ $rc != 130 ]; then
      echo "FAIL $name: exit status $rc after SIGINT, expected 130: $(tr '\n' '|' <"$tmp/stderr")"
      fail=1
    elif ! echo "$last" | grep -q interrupted; then
      echo "FAIL $name: last message '$last', expected 'interrupted'"
      fail=1
    elif [ -n "$left" ]; then
      echo "FAIL $name: left $left"
      fail=1
    elif grep -q '^\(mean\|pooled\)\|^[0-9a-f]\{32\}$' "$tmp/stdout"; then
      echo "FAIL $name: printed a result: $(head -c 200 "$tmp/stdout")"
      fail=1
    else
      echo "ok   $name: $last"
    fi
  fi
  exec 3>&-
  writer_open=0
  ran=$((ran + 1))
}

# A prefix file: the first N bytes of FILE.
prefix_of() { head -c "$2" "$1" >"$tmp/prefix.$3"; echo "$tmp/prefix.$3"; }

# Streams to read: 3 packets of 24 bytes each (mkstream defaults).
"$mkstream" "$tmp/s.nvces" && "$mkstream" "$tmp/s.nvc" || { echo "FAIL mkstream"; exit 1; }
es_size=$(stat -c %s "$tmp/s.nvces")

# nvc-info: inside the record, then with two of three packets read.
interrupt "nvc-info, elementary stream header" "$(prefix_of "$tmp/s.nvces" 30 a)" "$tools/nvc-info" "$tmp/in.y4m"
interrupt "nvc-info, elementary stream packets" "$(prefix_of "$tmp/s.nvces" $((es_size - 60)) b)" \
  "$tools/nvc-info" "$tmp/in.y4m"
interrupt "nvc-info, Matroska header" "$(prefix_of "$tmp/s.nvc" 100 c)" "$tools/nvc-info" "$tmp/in.y4m"

# nvdec: while opening the stream (output never created).
interrupt "nvdec, elementary stream header" "$(prefix_of "$tmp/s.nvces" 30 d)" \
  "$tools/nvdec" "$tmp/in.y4m" -o "$tmp/out.y4m"
interrupt "nvdec, Matroska header" "$(prefix_of "$tmp/s.nvc" 100 e)" "$tools/nvdec" "$tmp/in.y4m" -o "$tmp/out.yuv"
interrupt "nvdec --md5, elementary stream header" "$(prefix_of "$tmp/s.nvces" 30 f)" "$tools/nvdec" "$tmp/in.y4m" --md5

# nvenc: while reading the Y4M header.
interrupt "nvenc, Y4M header" "$(prefix_of "$y4m" 20 g)" "$tools/nvenc" --quiet "$tmp/in.y4m" "$tmp/out.nvc"

# nvc-metrics: the test input stalls in frame 2 (frame 1 was compared).
hdr=$(head -1 "$y4m" | wc -c)
interrupt "nvc-metrics, second frame" "$(prefix_of "$y4m" $((hdr + 6 + 72 + 3)) h)" \
  "$tools/nvc-metrics" "$y4m" "$tmp/in.y4m"
interrupt "nvc-metrics --csv, second frame" "$(prefix_of "$y4m" $((hdr + 6 + 72 + 3)) i)" \
  "$tools/nvc-metrics" --csv "$y4m" "$tmp/in.y4m"

# ---- with a codec: interrupted mid-stream, the output already open -------
if "$tools/nvenc" --quiet -n 1 "$y4m" "$tmp/probe.nvces" 2>"$tmp/probe.err" ||
   ! grep -q "encoder in this build" "$tmp/probe.err"; then
  rm -f "$tmp/probe.nvces"
  for out in out.nvc out.nvces; do
    interrupt "codec: nvenc to $out, second frame" "$(prefix_of "$y4m" $((hdr + 6 + 72 + 3)) j)" \
      "$tools/nvenc" --quiet "$tmp/in.y4m" "$tmp/$out"
  done
else
  echo "skip codec: nvenc mid-stream (no encoder in this build)"
  skipped=$((skipped + 1))
fi
ref=$(grep -v '^[[:space:]]*\(#\|$\)' "$src/conformance/manifest" | head -1 | cut -d' ' -f1)
if [ -n "$ref" ]; then
  f=$src/conformance/$ref
  half=$(( $(stat -c %s "$f") / 2 ))
  for out in out.y4m out.yuv; do
    interrupt "codec: nvdec $ref to $out, mid-stream" "$(prefix_of "$f" $half k)" "$tools/nvdec" "$tmp/in.y4m" -o "$tmp/$out"
  done
else
  echo "skip codec: nvdec mid-stream (no reference stream in conformance/manifest)"
  skipped=$((skipped + 1))
fi

echo "tools_interrupt: $ran cases, $skipped skipped for want of a codec"
exit $fail

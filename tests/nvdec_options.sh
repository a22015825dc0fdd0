#!/bin/sh
# nvdec's options for conformance work: --md5, --verify, --max-pixels,
# --max-memory; bad values get one line and exit status 1; nothing is
# written when decoding cannot start. (Decoding itself is checked by
# conformance/run.sh once a codec exists.)
set -u
src=${NVC_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
build=${NVC_BUILDDIR:-$src}
nvdec=$build/tools/nvdec
stream=$src/conformance/container/es-3frames.nvces   # 64x48, no codec decodes it
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0

# expect NAME STATUS MESSAGE_PART ARGS...: exit status and one stderr line
expect() {
  name=$1 want=$2 part=$3
  shift 3
  "$nvdec" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  lines=$(wc -l <"$tmp/err")
  if [ $rc != "$want" ]; then
    echo "FAIL $name: exit status $rc, expected $want: $(head -2 "$tmp/err" | tr '\n' '|')"; fail=1
  elif [ "$want" != 0 ] && [ "$lines" != 1 ]; then
    echo "FAIL $name: $lines lines on stderr: $(head -3 "$tmp/err" | tr '\n' '|')"; fail=1
  elif ! grep -qF -- "$part" "$tmp/err"; then
    echo "FAIL $name: '$(head -1 "$tmp/err")' lacks '$part'"; fail=1
  elif [ -s "$tmp/out" ]; then
    echo "FAIL $name: printed on stdout: $(head -c 80 "$tmp/out")"; fail=1
  else
    echo "ok   $name: $(head -1 "$tmp/err")"
  fi
}

expect "--verify not hex" 1 "is not an MD5" --verify 0123456789abcdef0123456789abcdeg "$stream"
expect "--verify too short" 1 "is not an MD5" --verify 0123 "$stream"
expect "--md5 with -o -" 1 "cannot go with -o -" --md5 -o - "$stream"
expect "--max-pixels 0" 1 "--max-pixels" --max-pixels 0 --md5 "$stream"
expect "--max-memory junk" 1 "--max-memory" --max-memory 12X --md5 "$stream"
expect "--max-pixels below the stream" 1 "above the limit of 3071 pixels" --max-pixels 3071 --md5 "$stream"
expect "--max-pixels WxH below the stream" 1 "above the limit of 3007 pixels" --max-pixels 97x31 --md5 "$stream"
# the limit admits the stream: decoding goes as far as this build can (no codec yet)
expect "--max-pixels at the stream" 1 "$stream" --max-pixels 64x48 --verify D41D8CD98F00B204E9800998ECF8427E "$stream"
# neither an output nor a digest: usage
"$nvdec" "$stream" >/dev/null 2>"$tmp/err"
[ $? = 1 ] && grep -q "^Usage" "$tmp/err" && echo "ok   no output: usage" || { echo "FAIL no output: no usage"; fail=1; }
# no file appears when decoding cannot start
"$nvdec" "$stream" -o "$tmp/out.y4m" 2>/dev/null
[ -z "$(ls "$tmp" | grep '^out\.y4m')" ] && echo "ok   no output file left" || { echo "FAIL left $(ls "$tmp")"; fail=1; }
exit $fail

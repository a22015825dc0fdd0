#!/bin/sh
# Each public header must compile on its own, as C11 and as C++.
set -u
src=${NVC_SRCDIR:-$(dirname "$0")/..}
cc=${CC:-cc}
fail=0
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
for h in "$src"/include/nvc/*.h; do
  name=nvc/$(basename "$h")
  printf '#include "%s"\n#include "%s"\nint nvc_header_test_dummy;\n' "$name" "$name" >"$tmp/t.c"
  if ! $cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$src/include" -c "$tmp/t.c" -o "$tmp/t.o"; then
    echo "FAIL: $name does not compile alone (C11)"; fail=1
  fi
  if command -v c++ >/dev/null 2>&1; then
    cp "$tmp/t.c" "$tmp/t.cc"
    if ! c++ -Wall -Werror -I"$src/include" -c "$tmp/t.cc" -o "$tmp/t.o"; then
      echo "FAIL: $name does not compile alone (C++)"; fail=1
    fi
  fi
done
exit $fail

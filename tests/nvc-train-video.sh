#!/bin/sh
# nvc-train --model video end to end on a tiny configuration: trains, writes
# the checkpoint and its architecture file, resumes from it (same step count
# continues), refuses bad options and data with one clear line.
set -u
src=${NVC_SRCDIR:-$(dirname "$0")/..}
build=${NVC_BUILDDIR:-.}
tool="$build/tools/nvc-train"
clip="$src/tests/data/cisco_vt_2people_320x192_12fps_9f.y4m"
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
export OMP_WAIT_POLICY=passive
tiny="--model video --widths 4,6,8,8 --latent 8 --mv-latent 4 --crop 64 -b 1 --chain 2 --intra source -t 1 --quiet"

# shellcheck disable=SC2086
"$tool" $tiny -o "$tmp/v.ckpt" -n 3 --save-every 2 --log "$tmp/log.csv" "$clip" 2>"$tmp/err" ||
  { fail "training: status $?"; cat "$tmp/err"; }
[ -s "$tmp/v.ckpt" ] || fail "no checkpoint"
grep -q '^model=video$' "$tmp/v.ckpt.cfg" && grep -q '^g1=4$' "$tmp/v.ckpt.cfg" || fail "architecture file"
[ -e "$tmp/v.ckpt.tmp" ] && fail "temporary checkpoint left behind"

# resume: the architecture comes from the .cfg (no --widths), training continues at step 3
# shellcheck disable=SC2086
"$tool" --model video --crop 64 -b 1 --chain 2 --intra source -t 1 --quiet -o "$tmp/v.ckpt" -n 4 \
  --log "$tmp/log.csv" "$clip" 2>"$tmp/err" || { fail "resume: status $?"; cat "$tmp/err"; }
grep -q "resuming .* at step 3" "$tmp/err" || { fail "did not resume"; cat "$tmp/err"; }
grep -q "architecture from" "$tmp/err" || fail "architecture not read back"
tail -n 1 "$tmp/log.csv" | grep -q '^4,' || { fail "log: last line is not step 4"; cat "$tmp/log.csv"; }

# export: the model file, with the rate of both priors on calibration chains
# shellcheck disable=SC2086
"$tool" --model video --crop 64 -b 1 --chain 2 -t 1 -o "$tmp/v.ckpt" --export "$tmp/v.nvcm" --calib 2 \
  --name tiny "$clip" 2>"$tmp/err" || { fail "export: status $?"; cat "$tmp/err"; }
head -c 8 "$tmp/v.nvcm" | grep -q NVCVIDM1 || fail "export: not a video model file"
grep -q "tiny (step 4)" "$tmp/err" && grep -q "bpp with the integer priors" "$tmp/err" || { fail "export report"; cat "$tmp/err"; }

# a new run from the exported file (--init): its architecture, a priors-only phase first
# shellcheck disable=SC2086
"$tool" --model video --crop 64 -b 1 --chain 2 --intra source -t 1 --quiet -o "$tmp/i.ckpt" -n 3 \
  --init "$tmp/v.nvcm" --prior-steps 2 --blend 1 "$clip" 2>"$tmp/err" || { fail "--init: status $?"; cat "$tmp/err"; }
grep -q "started from .*v.nvcm (tiny, step 4)" "$tmp/err" || { fail "--init: not started from the file"; cat "$tmp/err"; }
grep -q '^g1=4$' "$tmp/i.ckpt.cfg" && grep -q '^blend=1$' "$tmp/i.ckpt.cfg" && grep -q '^prior_steps=2$' "$tmp/i.ckpt.cfg" ||
  { fail "--init: architecture file"; cat "$tmp/i.ckpt.cfg"; }

# the next phase with a new schedule: warm-up again from the resumed step (step 3 -> 5 of
# --warmup 4 at 1e-3: the second new step runs at 2/4 of it)
"$tool" --model video --crop 64 -b 1 --chain 2 --intra source -t 1 -o "$tmp/i.ckpt" -n 5 --lr 1e-3 \
  --warmup 4 --new-schedule "$clip" 2>"$tmp/err" || { fail "--new-schedule: status $?"; cat "$tmp/err"; }
grep -q "a new learning-rate schedule from step 3" "$tmp/err" && grep -q "step 5/5 .* lr 0.0005 " "$tmp/err" ||
  { fail "--new-schedule: not restarted"; cat "$tmp/err"; }

# evaluation of the checkpoint: one CSV line per quality
"$tool" --model video --crop 64 -b 1 --chain 2 --intra source -t 1 -o "$tmp/v.ckpt" --eval --calib 1 "$clip" \
  >"$tmp/eval" 2>"$tmp/err" || { fail "eval: status $?"; cat "$tmp/err"; }
[ "$(grep -c '^[0-9]*,[0-9.]*,[0-9.]*,[0-9.]*,' "$tmp/eval")" -eq 4 ] || { fail "eval output"; cat "$tmp/eval"; }
# ... and of the exported file (--init): its step, four lines
"$tool" --model video --crop 64 -b 1 --chain 2 --intra source -t 1 -o "$tmp/none.ckpt" --init "$tmp/v.nvcm" --eval \
  --calib 1 "$clip" >"$tmp/eval" 2>"$tmp/err" || { fail "eval --init: status $?"; cat "$tmp/err"; }
grep -q '^# step 4,' "$tmp/eval" && [ "$(grep -c '^[0-9]*,[0-9.]*,[0-9.]*,[0-9.]*,' "$tmp/eval")" -eq 4 ] ||
  { fail "eval --init output"; cat "$tmp/eval"; }
[ -e "$tmp/none.ckpt" ] && fail "eval --init wrote a checkpoint"

# bad input: status != 0 and one line on stderr
bad() {
  what=$1; shift
  "$tool" "$@" >/dev/null 2>"$tmp/err" && { fail "nvc-train $*: succeeded"; return; }
  if [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -q -- "$what" "$tmp/err"; then
    fail "nvc-train $*: expected one line with '$what':"; cat "$tmp/err"
  fi
}
bad "not image or video" --model audio "$clip"
bad "not a multiple of 64" --model video --crop 100 "$clip"
bad "no training data" --model video
bad "not found" --model video -o "$tmp/x.ckpt" "$tmp/missing.y4m"
bad "no clip" --model video -o "$tmp/x.ckpt" --crop 1024 "$clip"
bad "not recon or source" --model video --me flow "$clip"
bad "checksum mismatch" --model video -o "$tmp/y.ckpt" --init "$clip" "$clip"
bad "--init" --model video -o "$tmp/y.ckpt" --init "$tmp/missing.nvcm" "$clip"
bad "no checkpoint to export" --model video -o "$tmp/none.ckpt" --export "$tmp/x.nvcm" "$clip"

[ "$fails" -eq 0 ] || exit 1
echo "nvc-train video: all checks passed"

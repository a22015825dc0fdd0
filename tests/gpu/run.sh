#!/usr/bin/env bash
# nn on a GPU machine, in one call: build the engine (CPU + CUDA) without
# autotools, OpenBLAS, Check, libpng or FFmpeg, run the CUDA-vs-CPU comparison
# of every op (forward and backward), then time training steps on the CPU and
# on CUDA (and, where python3 has torch with CUDA, the PyTorch twin).
#
#   bash tests/gpu/run.sh            (from the repository root)
#
# Environment: NVCC (default: nvcc on PATH, else /usr/local/cuda/bin/nvcc),
# CUDA_ARCH (default: -arch=native, else sm_90), BUILD (default: a temporary
# folder), OUT (if set, the log is copied there), THREADS (CPU threads of the
# reference, default: all).
# Exit status: 0 all ops agree, 1 a build or comparison failure, 77 no GPU.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
log() { printf '%s\n' "$*" >&2; }

nvcc=${NVCC:-$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)}
[ -x "$nvcc" ] || { log "run.sh: nvcc not found (set NVCC)"; exit 1; }
cuda_home=$(dirname "$(dirname "$nvcc")")
build=${BUILD:-$(mktemp -d /tmp/nvc-gpu.XXXXXX)}
mkdir -p "$build/obj"
jobs=$(nproc 2>/dev/null || echo 4)
start=$(date +%s)

if [ -z "${CUDA_ARCH:-}" ]; then
  # the GPU's own architecture; without a visible GPU, Hopper (H100/H200)
  if nvidia-smi -L >/dev/null 2>&1; then
    CUDA_ARCH=-arch=native
  else
    CUDA_ARCH="-gencode arch=compute_90,code=sm_90"
  fi
fi

# config.h: CUDA on; OpenBLAS, PNG, FFmpeg off (the built-in SGEMM runs the CPU side)
cat >"$build/config.h" <<'EOF'
#define NVC_HAVE_CUDA 1
#define PACKAGE_VERSION "gpu-run"
EOF

cflags=(-std=c11 -D_GNU_SOURCE -O3 -march=native -fopenmp -Wall -Wno-unused-parameter
        -I"$build" -I"$root" -I"$root/include" -I"$cuda_home/include")
csrc=(codec/util.c codec/bytes.c codec/crc.c codec/file.c
      nn/nn.c nn/gemm.c nn/conv.c nn/conv_direct.c nn/elementwise.c nn/resample.c nn/norm.c nn/ssim.c
      nn/loss.c nn/optim.c nn/checkpoint.c tests/nn_cases.c tests/nn_model.c tests/test_nn_cuda.c)
cusrc=(nn/cuda/device.cu nn/cuda/conv.cu nn/cuda/elementwise.cu nn/cuda/resample.cu nn/cuda/loss.cu)

log "run.sh: building in $build with $nvcc ($CUDA_ARCH), gcc $(gcc -dumpversion), $jobs jobs"
compile_c() { gcc "${cflags[@]}" -c "$1" -o "$build/obj/$(echo "$1" | tr / _).o"; }
compile_cu() { "$nvcc" -O3 $CUDA_ARCH -I"$build" -I"$root" -I"$root/include" -c "$1" -o "$build/obj/$(echo "$1" | tr / _).o"; }
pids=()
for f in "${csrc[@]}"; do compile_c "$f" & pids+=($!); while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done; done
for f in "${cusrc[@]}"; do compile_cu "$f" & pids+=($!); while [ "$(jobs -rp | wc -l)" -ge "$jobs" ]; do sleep 0.2; done; done
fail=0
for p in "${pids[@]}"; do wait "$p" || fail=1; done
[ $fail = 0 ] || { log "run.sh: compilation failed"; exit 1; }
# cuBLAS next to nvcc, else wherever the dynamic linker knows it
libdir=$cuda_home/lib64
if ! ls "$libdir"/libcublas.so* >/dev/null 2>&1; then
  libdir=$(dirname "$(ldconfig -p 2>/dev/null | awk '/libcublas\.so/ {print $NF; exit}')" 2>/dev/null || echo "$libdir")
fi
g++ -fopenmp -o "$build/test_nn_cuda" "$build"/obj/*.o -L"$libdir" -Wl,-rpath,"$libdir" \
  -lcublas -lcudart -lm -lpthread || { log "run.sh: link failed"; exit 1; }
log "run.sh: built in $(( $(date +%s) - start )) s"

if command -v nvidia-smi >/dev/null 2>&1; then
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader >&2 || true
fi
set +e
OMP_NUM_THREADS=${THREADS:-$jobs} "$build/test_nn_cuda" --bench 2>&1 | tee "$build/log.txt"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 77 ]; then
  log "run.sh: no CUDA device here: everything built, nothing could run (exit 77)"
  exit 77
fi

# The PyTorch twin of the small step, on CUDA (reference only; needs torch with CUDA).
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  echo "PyTorch on CUDA, hnerv-small 128x128 b2:" | tee -a "$build/log.txt"
  python3 bench/nn_torch.py 1 2 4 4 64 1.2 12 4 2 2 2 -- 20 3 cuda 2>&1 | tee -a "$build/log.txt"
  echo "PyTorch on CUDA, hnerv 320x640 b2:" | tee -a "$build/log.txt"
  python3 bench/nn_torch.py 1 2 2 4 96 1.2 12 5 4 2 2 2 -- 20 3 cuda 2>&1 | tee -a "$build/log.txt"
fi
[ -n "${OUT:-}" ] && cp "$build/log.txt" "$OUT/nn-gpu-log.txt"
log "run.sh: done in $(( $(date +%s) - start )) s (exit $rc)"
exit "$rc"

#!/usr/bin/env bash
# One-command GPU run for a session that is lent a GPU machine (through the device tool).
# Not yet exercised on a GPU: the first session with one should run it and fix what breaks.
#
# Here (the development machine), once:   bash bench/gpu/run.sh fetch
#   downloads the Debian packages the build needs into .deps/ (git-ignored; carry it).
# There (the GPU machine):                bash bench/gpu/run.sh all
#   unpacks them into /tmp/deps, builds with CUDA for sm_90, runs the whole test suite, the
#   CUDA tests under compute-sanitizer (memcheck, racecheck) with the allocator cache
#   bypassed, and the benchmarks; logs go to $OUT (or /tmp/gpu-out).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
OUT=${OUT:-/tmp/gpu-out}
PKGS=(libfmt-dev libfmt9 libgtest-dev libopenblas-dev libopenblas-pthread-dev libopenblas0-pthread
  libopenblas-openmp-dev libopenblas0-openmp libgfortran5 libbenchmark-dev libbenchmark1debian zlib1g-dev
  dataset-fashion-mnist)

fetch() {
  mkdir -p .deps && cd .deps && apt-get download "${PKGS[@]}"
}

all() {
  mkdir -p "$OUT" /tmp/deps
  for f in .deps/*.deb; do dpkg -x "$f" /tmp/deps; done
  nvidia-smi | tee "$OUT/nvidia-smi.txt"
  # cuDNN from pip (nvidia-cudnn-cu*: include/cudnn.h, lib/libcudnn.so.9), else the toolkit's own
  cudnn=$(python3 -c "import nvidia.cudnn as m; print(m.__path__[0])" 2>/dev/null || true)
  echo "cuDNN: ${cudnn:-from the CUDA toolkit}" | tee "$OUT/cudnn.txt"
  cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DNABLA_WITH_CUDA=ON -DNABLA_CUDNN_ROOT="${cudnn}" \
    -DCMAKE_PREFIX_PATH="/tmp/deps/usr" -DCMAKE_LIBRARY_PATH=/tmp/deps/usr/lib/x86_64-linux-gnu \
    -DCMAKE_INCLUDE_PATH=/tmp/deps/usr/include 2>&1 | tee "$OUT/configure.log"
  # libcudnn.so.9 loads its engine libraries (libcudnn_cnn.so.9, ...) by name from its own dir
  export LD_LIBRARY_PATH=/tmp/deps/usr/lib/x86_64-linux-gnu:/tmp/deps/usr/lib/x86_64-linux-gnu/openblas-openmp${cudnn:+:${cudnn}/lib}:${LD_LIBRARY_PATH:-}
  cmake --build build-gpu -j"$(nproc)" 2>&1 | tail -50 | tee "$OUT/build.log"
  (ctest --test-dir build-gpu --output-on-failure -j4 2>&1 || true) | tee "$OUT/ctest.log"
  for tool in memcheck racecheck; do
    (NABLA_CUDA_NO_CACHE=1 compute-sanitizer --tool "$tool" build-gpu/tests/test_cuda 2>&1 || true) |
      tail -40 | tee "$OUT/sanitizer-$tool.log"
  done
  for model in all lstm512 lstm512_cells; do
    (build-gpu/bench/nabla-bench models --model "$model" --device cuda --json 2>&1 || true) | tee -a "$OUT/bench-models.jsonl"
  done
  (build-gpu/bench/nabla-bench ops --device cuda --benchmark_format=json --benchmark_out="$OUT/bench-ops.json" \
    --benchmark_min_time=0.05 2>&1 || true) | tail -60 | tee "$OUT/bench-ops.log"
  for model in mlp cnn lstm dcgan32; do
    (build-gpu/bench/nabla-parity --model "$model" --a cuda:float32 --b cpu:float32 --steps 3 \
      --dump "$OUT/parity-$model.safetensors" 2>&1 || true) | tee "$OUT/parity-$model.log"
  done
  # nabla vs PyTorch on this GPU (eager and CUDA graphs), interleaved: results into bench/results/
  (python3 bench/compare/compare.py --device cuda --rounds 3 --models mlp,cnn,lstm,dcgan32,lstm512 --bin build-gpu/bench/nabla-bench \
    --out "$OUT/results" 2>&1 || true) | tee "$OUT/compare.log"
}

case "${1:-}" in
  fetch) fetch ;;
  all) all ;;
  *) echo "usage: bash bench/gpu/run.sh fetch|all" >&2; exit 2 ;;
esac

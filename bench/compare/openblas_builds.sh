#!/bin/bash
# Usage: bash bench/compare/openblas_builds.sh (after a build in build-cpu/ or BIN=path/to/nabla-bench).
# nabla-bench models at 2 threads on OpenBLAS's OpenMP build (the RUNPATH) and its pthread build
# (LD_LIBRARY_PATH), interleaved, 3 rounds.
cd "$(dirname "$0")/../.."
P=/usr/lib/x86_64-linux-gnu/openblas-pthread
echo "| model | round | OpenMP build ms/step | pthread build ms/step |"
echo "|---|---|---|---|"
for m in mlp cnn lstm; do for r in 1 2 3; do
  a=$("${BIN:-build-cpu/bench/nabla-bench}" models --model $m --threads 2 --json | tail -1 | python3 -c "import json,sys;print(json.load(sys.stdin)['ms_per_step'])")
  b=$(LD_LIBRARY_PATH=$P "${BIN:-build-cpu/bench/nabla-bench}" models --model $m --threads 2 --json | tail -1 | python3 -c "import json,sys;print(json.load(sys.stdin)['ms_per_step'])")
  echo "| $m | $r | $a | $b |"
done; done

#!/usr/bin/env bash
# Runs a classic model's training step (bench/model_step.cpp: mlp, cnn, dcgan32, lstm) in nabla
# and in PyTorch on this machine, interleaved (nabla, torch, nabla, torch, ...), and prints each
# run and the median ratio nabla/PyTorch.
#   bash bench/compare/model_step.sh [model] [rounds] [threads] [device]   (after bash cmake/dev.sh build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
model=${1:-mlp}
rounds=${2:-3}
threads=${3:-2}
device=${4:-cpu}
bin=${NABLA_BENCH_BIN:-build/bench/model_step}
[ -x "$bin" ] || { echo "build first: bash cmake/dev.sh build" >&2; exit 2; }
# The first python3 with PyTorch: Debian's python3-torch lives in /usr/bin/python3, which a
# pyenv or virtualenv python3 earlier on PATH does not see.
PY=""
for p in python3 /usr/bin/python3; do
  if "$p" -c "import torch" 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "PyTorch is missing: apt-get install python3-torch" >&2; exit 2; }
ratios=()
for r in $(seq "$rounds"); do
  n=$("$bin" --model "$model" --threads "$threads" --device "$device")
  t=$("$PY" bench/compare/model_step.py --model "$model" --threads "$threads" --device "$device")
  echo "$n"
  echo "$t"
  ratios+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ms_per_step'] / json.loads(sys.argv[2])['ms_per_step'])" "$n" "$t")")
done
python3 - "$model" "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(float(x) for x in sys.argv[2:])
print(f"{sys.argv[1]}: nabla/pytorch ms_per_step: median {statistics.median(r):.3f} (runs: {', '.join(f'{x:.3f}' for x in r)}); < 1 means nabla is faster")
PY

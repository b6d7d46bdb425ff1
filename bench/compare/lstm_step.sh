#!/usr/bin/env bash
# Runs the seed_lstm training step (LSTM(50) over 10 steps x 3 features, batch 10) in nabla and
# in PyTorch on this machine, interleaved (nabla, torch, nabla, torch, ...), and prints each run
# and the median ratio nabla/PyTorch.
#   bash bench/compare/lstm_step.sh [rounds] [threads] [device]   (after bash cmake/dev.sh build;
#   device cuda runs both sides on the GPU: nabla on cuDNN, PyTorch on its CUDA build)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
rounds=${1:-3}
threads=${2:-2}
device=${3:-cpu}
bin=${NABLA_BUILD_DIR:-build}/bench/lstm_step
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
  n=$("$bin" --threads "$threads" --device "$device")
  t=$("$PY" bench/compare/lstm_step.py --threads "$threads" --device "$device")
  echo "$n"
  echo "$t"
  ratios+=("$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ms_per_step'] / json.loads(sys.argv[2])['ms_per_step'])" "$n" "$t")")
done
python3 - "${ratios[@]}" <<'PY'
import statistics, sys
r = sorted(float(x) for x in sys.argv[1:])
print(f"nabla/pytorch ms_per_step: median {statistics.median(r):.3f} (runs: {', '.join(f'{x:.3f}' for x in r)}); < 1 means nabla is faster")
PY

#!/usr/bin/env bash
# Runs examples/from_libtorch/main.cpp on both sides: the nabla build given, and a libtorch build
# made here from the same file (Debian's libtorch-dev), on the same data and number of batches,
# and prints both result lines. Exit 77 (ctest: skipped) without libtorch.
#
#   run_both.sh NABLA_BINARY WORK_DIR [MAX_TRAIN_BATCHES] [DATA_DIR]
#
# libtorch's MNIST reads uncompressed files only, so the .gz files of dataset-fashion-mnist are
# unpacked into WORK_DIR/data for both sides. Both must reach 0.70 test accuracy; the two
# accuracies are not equal (the libraries' random streams differ: initial weights, shuffling,
# dropout), so the check is on each side alone and the pair is printed for comparison.
set -euo pipefail
nabla_bin=$1
work=$2
batches=${3:-150}
src_data=${4:-/usr/share/datasets/fashion-mnist}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

torch_dir=$(find /usr/lib /usr/local/lib /usr/share -path '*/cmake/Torch/TorchConfig.cmake' 2>/dev/null | head -1 || true)
if [ -z "${torch_dir}" ]; then
  echo "run_both: skipped: libtorch not found (Debian: apt-get install libtorch-dev)"
  exit 77
fi
mkdir -p "${work}/data"
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ ! -s "${work}/data/${f}" ]; then
    if [ -f "${src_data}/${f}" ]; then cp "${src_data}/${f}" "${work}/data/${f}";
    elif [ -f "${src_data}/${f}.gz" ]; then gzip -dc "${src_data}/${f}.gz" > "${work}/data/${f}";
    else echo "run_both: ${src_data} has neither ${f} nor ${f}.gz (Debian: dataset-fashion-mnist)" >&2; exit 1; fi
  fi
done

cmake -S "${here}" -B "${work}/libtorch-build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DFROM_LIBTORCH_BACKEND=libtorch -DTorch_DIR="$(dirname "${torch_dir}")" > "${work}/libtorch-configure.log" 2>&1 ||
  { cat "${work}/libtorch-configure.log"; exit 1; }
cmake --build "${work}/libtorch-build" > "${work}/libtorch-build.log" 2>&1 || { cat "${work}/libtorch-build.log"; exit 1; }

rc=0
for side in nabla libtorch; do
  bin=${nabla_bin}
  [ "${side}" = libtorch ] && bin=${work}/libtorch-build/from_libtorch
  start=$(date +%s%N)
  if ! line=$(cd "${work}" && "${bin}" "${work}/data" 1 "${batches}" 2>&1 | tail -1); then
    echo "run_both: the ${side} side failed: ${line}" >&2
    rc=1
    continue
  fi
  elapsed_ms=$((($(date +%s%N) - start) / 1000000))
  echo "${line}"
  printf 'run_both: %s side: %d ms wall (%s training batches of 64, then the 10000 test images)\n' "${side}" "${elapsed_ms}" "${batches}"
  if ! [[ "${line}" =~ \"test_accuracy\":\ 0\.([89]|7) ]]; then
    echo "run_both: the ${side} side stayed below 0.70 test accuracy" >&2
    rc=1
  fi
done
exit ${rc}

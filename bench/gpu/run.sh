#!/usr/bin/env bash
# The GPU session in one command (bench/gpu/README.md has the device call and the budget).
#
#   bash bench/gpu/run.sh bundle   (here, the development machine)
#     builds libnabla.so, test_cuda, nabla-bench and nabla-parity (sm_90 SASS + compute_90 PTX),
#     copies them with every non-CUDA shared library they need into one folder with $ORIGIN
#     run paths, checks that nothing outside it is needed but libc/libm/libdl/libpthread/librt,
#     the driver, cuBLAS(Lt) and cuDNN, and packs it into .gpu/nabla-gpu.tar.gz (<= 40 MiB);
#     downloads the Debian packages of a from-source build into .gpu/debs (the fallback there).
#   bash bench/gpu/run.sh all      (there, the GPU machine; here it is the dry run)
#     unpacks the bundle, finds cuBLAS/cuDNN, and runs the stages, each under `timeout`, each
#     logging to $OUT as it goes: 1 test_cuda (+ launch resources), 2 nabla-parity cuda vs
#     cpu, 3 compute-sanitizer memcheck/racecheck, 4 nabla-bench and compare.py. It writes
#     $OUT/summary.md (every stage: passed / failed with its first error line / skipped and
#     why, plus the machine's facts) and exits 0 once the summary is written. When the bundle
#     cannot load there (another glibc, say), it builds from source with the carried .debs.
#
# Environment:
#   OUT                    where logs and results go (default /tmp/nabla-gpu-out); at most 8
#                          files land there, since the device tool brings back no more.
#   NABLA_BUILD_DIR        bundle: the build tree to package (default build/)
#   NABLA_BUILD_CMD        bundle: the command that builds targets (default `cmake --build
#                          <dir> --target`; /tmp/nb where that lock-taking wrapper exists)
#   NABLA_GPU_BUNDLE_DIR   all: use this folder instead of unpacking .gpu/nabla-gpu.tar.gz:
#                          an unpacked bundle (bin/, lib/) or a build tree (tests/, bench/)
#   NABLA_GPU_DRY=1        all: act as if there were no GPU (the ctest gpu_run_dry)
#   NABLA_GPU_DEADLINE_S   all: wall-time budget of the whole run in seconds (default 450)
#   NABLA_GPU_NO_DEBS=1    bundle: skip downloading the fallback's .deb files
#   NABLA_GPU_FORCE_SOURCE=1  all: build from source as if the bundle did not load
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
GPU_DIR=${ROOT}/.gpu
NAME=nabla-gpu
TARBALL=${GPU_DIR}/${NAME}.tar.gz
MAX_BUNDLE_MIB=40
TARGETS=(nabla test_cuda nabla-bench nabla-parity)

# Libraries the GPU machine provides (never bundled): the C library's parts, the driver, and
# the CUDA libraries too large to carry (cuBLAS + cuBLASLt ~ 700 MB, cuDNN ~ 1 GB). cudart is
# linked statically (CMakeLists.txt: CUDA::cudart_static), so it is not among them.
SYSTEM_LIBS='^(linux-vdso\.so|ld-linux-x86-64\.so|libc\.so|libm\.so|libdl\.so|libpthread\.so|librt\.so)'
GPU_LIBS='^(libcuda\.so|libcublas\.so|libcublasLt\.so|libcudnn[a-z_]*\.so|libnvrtc)'
# The C++ runtime goes into lib/compat and is used only where the machine's own is older.
COMPAT_LIBS='^(libstdc\+\+\.so|libgcc_s\.so)'

# Debian packages of a from-source build on the GPU machine (headers, CMake configs, libs).
DEBS=(libfmt-dev libfmt9 libgtest-dev libbenchmark-dev libbenchmark1debian zlib1g-dev zlib1g
  libopenblas-dev libopenblas-openmp-dev libopenblas0-openmp libopenblas0 libgfortran5 libquadmath0)

die() { printf 'run.sh: %s\n' "$*" >&2; exit 1; }
step() { printf '\n==> %s\n' "$*"; }

# ============================================================================================
# bundle (here)
# ============================================================================================
cmd_bundle() {
  set -e
  local build=${NABLA_BUILD_DIR:-${ROOT}/build}
  [ -f "${build}/CMakeCache.txt" ] || die "bundle: ${build} is not a configured build tree"
  grep -q '^NABLA_WITH_CUDA:STRING=\(ON\|AUTO\)' "${build}/CMakeCache.txt" ||
    die "bundle: ${build} is configured without CUDA (need -DNABLA_WITH_CUDA=ON)"
  # "90" in CMake means code=[compute_90,sm_90]: SASS for the H100/H200 plus PTX (the driver
  # JIT-compiles it for any later chip). "90-real" alone would drop the PTX.
  local archs
  archs=$(sed -n 's/^NABLA_CUDA_ARCHITECTURES:STRING=//p' "${build}/CMakeCache.txt")
  if ! grep -q -- '-code=\[compute_90,sm_90\]\|code=\[compute_90,sm_90\]' "${build}/build.ninja" 2>/dev/null; then
    die "bundle: ${build} does not build sm_90 SASS plus compute_90 PTX (NABLA_CUDA_ARCHITECTURES='${archs}');" \
        "reconfigure with -DNABLA_CUDA_ARCHITECTURES=90 (or '90-real;90-virtual')"
  fi

  step "bundle: build ${TARGETS[*]} in ${build}"
  local build_cmd=${NABLA_BUILD_CMD:-}
  if [ -z "${build_cmd}" ]; then
    if [ -x /tmp/nb ] && grep -q -- "-C ${build}" /tmp/nb; then build_cmd=/tmp/nb  # the workplace's locked ninja
    else build_cmd="cmake --build ${build} --target"; fi
  fi
  # shellcheck disable=SC2086  # the build command is word-split on purpose
  ${build_cmd} "${TARGETS[@]}"

  command -v patchelf >/dev/null || {
    step "bundle: installing patchelf (Debian package) to set \$ORIGIN run paths"
    local sudo=(); [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq patchelf >/dev/null ||
      die "bundle: patchelf is missing and apt-get could not install it"
  }

  local stage=${GPU_DIR}/stage/${NAME}
  rm -rf "${GPU_DIR}/stage"
  mkdir -p "${stage}/bin" "${stage}/lib/compat" "${stage}/bench/compare" "${stage}/bench/gpu" "${stage}/tests"
  cp "${build}/tests/test_cuda" "${build}/bench/nabla-bench" "${build}/bench/nabla-parity" "${stage}/bin/"
  cp "$(readlink -f "${build}/libnabla.so")" "${stage}/lib/libnabla.so.0"
  cp "${ROOT}"/bench/compare/*.py "${stage}/bench/compare/"
  cp "${ROOT}/bench/gpu/run.sh" "${stage}/bench/gpu/"
  cp "${ROOT}/tests/check_launch_resources.py" "${stage}/tests/"

  step "bundle: copy the shared libraries they need"
  local f line soname path
  for f in "${stage}"/bin/* "${build}/libnabla.so"; do
    while read -r line; do
      soname=$(awk '{print $1}' <<<"${line}")
      path=$(awk '$2 == "=>" {print $3}' <<<"${line}")
      [[ ${soname} =~ ${SYSTEM_LIBS} || ${soname} =~ ${GPU_LIBS} || ${soname} == libnabla.so.0 ]] && continue
      [ -n "${path}" ] && [ -f "${path}" ] || die "bundle: ${f##*/} needs ${soname}, which does not resolve here: ${line}"
      if [[ ${soname} =~ ${COMPAT_LIBS} ]]; then cp -L "${path}" "${stage}/lib/compat/${soname}"
      else cp -L "${path}" "${stage}/lib/${soname}"; fi
    done < <(env -u LD_LIBRARY_PATH ldd "${f}" | grep '=>')
  done
  # Run paths relative to the files: bin/ looks in ../lib, every library in its own folder
  # (DT_RUNPATH serves only an object's direct needs, so each library needs its own).
  for f in "${stage}"/bin/*; do patchelf --set-rpath '$ORIGIN/../lib' "${f}"; done
  for f in "${stage}"/lib/*.so* "${stage}"/lib/compat/*.so*; do chmod u+w "${f}"; patchelf --set-rpath '$ORIGIN' "${f}"; done
  ln -sf libnabla.so.0 "${stage}/lib/libnabla.so"

  step "bundle: check that every dependency resolves inside the bundle"
  local bad=0
  for f in "${stage}"/bin/* "${stage}"/lib/*.so.* "${stage}"/lib/compat/*; do
    while read -r line; do
      soname=$(awk '{print $1}' <<<"${line}")
      path=$(awk '$2 == "=>" {print $3}' <<<"${line}")
      [[ ${soname} =~ ${SYSTEM_LIBS} || ${soname} =~ ${GPU_LIBS} ]] && continue
      [[ ${soname} =~ ${COMPAT_LIBS} && -f ${stage}/lib/compat/${soname} ]] && continue
      [[ ${path} == "${stage}"/* ]] && continue
      echo "  ${f#"${stage}"/}: ${line}" >&2; bad=1
    done < <(env -u LD_LIBRARY_PATH ldd "${f}" | grep -v '^\s*/lib64/ld-linux\|statically linked')
  done
  [ "${bad}" -eq 0 ] || die "bundle: the dependencies above resolve outside the bundle (or not at all)"
  # and that it really loads (cuBLAS/cuDNN from this machine's toolkit, as cuda_lib_path finds them there)
  local ldp; ldp=$(cuda_lib_path)
  LD_LIBRARY_PATH=${ldp} "${stage}/bin/test_cuda" --gtest_list_tests >/dev/null ||
    die "bundle: bin/test_cuda does not start (LD_LIBRARY_PATH=${ldp})"

  { echo "nabla GPU bundle"
    echo "commit: $(git -C "${ROOT}" rev-parse HEAD 2>/dev/null)$(git -C "${ROOT}" diff --quiet HEAD 2>/dev/null || echo ' (+ uncommitted changes)')"
    echo "made: $(date -u +%FT%TZ) on $(uname -srm), $(ldd --version | head -1)"
    echo "build: ${build} ($(sed -n 's/^CMAKE_BUILD_TYPE:STRING=//p' "${build}/CMakeCache.txt")), NABLA_CUDA_ARCHITECTURES=${archs} (sm_90 SASS + compute_90 PTX)"
    echo "nvcc: $(sed -n 's/^CMAKE_CUDA_COMPILER:[A-Z]*=//p' "${build}/CMakeCache.txt") $(grep -o 'release [0-9.]*' <(/usr/local/cuda/bin/nvcc --version 2>/dev/null) || true)"
    echo "cuDNN built against: $(sed -n 's/^#define CUDNN_\(MAJOR\|MINOR\|PATCHLEVEL\) //p' "$(sed -n 's/^CUDNN_INCLUDE_DIR:PATH=//p' "${build}/CMakeCache.txt")/cudnn_version.h" 2>/dev/null | paste -sd.)"
    echo "needed from the GPU machine: libcublas.so.13, libcublasLt.so.13, libcudnn.so.9 (+ its engine libraries), the driver's libcuda.so.1"
    echo; echo "files (bytes, sha256):"
    (cd "${stage}" && find . -type f | sort | while read -r f; do printf '%10d  %s  %s\n' "$(stat -c %s "${f}")" "$(sha256sum "${f}" | cut -c1-16)" "${f#./}"; done)
  } >"${stage}/MANIFEST.txt"

  step "bundle: pack ${TARBALL}"
  tar -C "${GPU_DIR}/stage" -czf "${TARBALL}.tmp" "${NAME}"
  mv "${TARBALL}.tmp" "${TARBALL}"
  rm -rf "${GPU_DIR}/stage"
  local size; size=$(stat -c %s "${TARBALL}")
  [ "${size}" -le $((MAX_BUNDLE_MIB << 20)) ] || die "bundle: ${TARBALL} is $((size >> 20)) MiB, over ${MAX_BUNDLE_MIB} MiB"

  if [ -z "${NABLA_GPU_NO_DEBS:-}" ]; then
    step "bundle: Debian packages of the from-source fallback into .gpu/debs"
    mkdir -p "${GPU_DIR}/debs"
    (cd "${GPU_DIR}/debs" && rm -f ./*.deb && apt-get download "${DEBS[@]}") ||
      die "bundle: apt-get download failed (NABLA_GPU_NO_DEBS=1 bundles without the fallback)"
  fi

  tar -tzvf "${TARBALL}" | awk '{printf "  %10s  %s\n", $3, $6}'
  echo "bundle: ${TARBALL}: $(du -h "${TARBALL}" | cut -f1) ($(stat -c %s "${TARBALL}") bytes)"
  [ -d "${GPU_DIR}/debs" ] && echo "debs: $(ls "${GPU_DIR}/debs" | wc -l) files, $(du -sh "${GPU_DIR}/debs" | cut -f1)"
  echo "carry: .gpu ($(du -sh "${GPU_DIR}" | cut -f1); the device tool carries 64 MiB with the working tree)"
}

# The folders of cuBLAS, cuDNN and NVRTC: the CUDA toolkit's, then NVIDIA's pip wheels (which
# PyTorch brings: site-packages/nvidia/{cu13,cublas,cudnn,...}/lib), first hit for each.
cuda_lib_path() {
  local dirs=() d lib found
  local cands=("${CUDA_HOME:-/usr/local/cuda}/lib64" /usr/local/cuda/lib64 /usr/local/cuda/lib
    /usr/local/cuda/targets/x86_64-linux/lib)
  local pip; pip=$(timeout 30 python3 -c "import nvidia; print('\n'.join(nvidia.__path__))" 2>/dev/null || true)
  if [ -n "${pip}" ]; then
    while read -r d; do cands+=("${d}"/*/lib); done <<<"${pip}"
  fi
  for lib in libcublas.so.13 libcudnn.so.9 libnvrtc.so.13; do
    found=""
    for d in "${cands[@]}"; do [ -e "${d}/${lib}" ] && { found=${d}; break; }; done
    [ -n "${found}" ] && [[ " ${dirs[*]} " != *" ${found} "* ]] && dirs+=("${found}")
  done
  (IFS=:; echo "${dirs[*]}")
}

# ============================================================================================
# all (there; the dry run here)
# ============================================================================================
OUT=${OUT:-/tmp/nabla-gpu-out}
RES=/tmp/nabla-gpu-results          # result files, packed into $OUT/results.tar.gz after each stage
DEADLINE=${NABLA_GPU_DEADLINE_S:-450}
T0=${SECONDS}
ROWS=()                              # summary rows: "stage|status|seconds|detail"
FACTS=()
HAVE_GPU=0
NO_GPU_WHY=""

elapsed() { echo $((SECONDS - T0)); }
left() { echo $((DEADLINE - (SECONDS - T0))); }
# budget WANT: the seconds a command may run, WANT or what is left before the deadline
budget() { local l; l=$(left); [ "$1" -lt "$l" ] && echo "$1" || echo "$l"; }

md_safe() { tr '|\n\r' '/  ' | cut -c1-240; }
# The first line of a log that says what went wrong, else its last non-empty line.
first_error() {
  local l
  l=$(grep -m1 -E '\[  FAILED  \]|Failure$|^=========  *(Invalid|Race|Error|Program hit|Uninitialized|Barrier|Saved host backtrace)|[Ee]rror[: ]|not found|Segmentation|Aborted|terminate called|diverge|timed out' "$1" 2>/dev/null)
  [ -n "${l}" ] || l=$(grep -v '^\s*$' "$1" 2>/dev/null | tail -1)
  md_safe <<<"${l}"
}

row() { ROWS+=("$1|$2|$3|$(md_safe <<<"$4")"); write_summary; }

write_summary() {
  {
    echo "# nabla GPU run, $(date -u +%FT%TZ)"
    echo
    echo "Bundle: ${BUNDLE_DESC:-not yet unpacked}. Wall time so far: $(elapsed) s of a ${DEADLINE} s budget."
    [ "${HAVE_GPU}" -eq 1 ] || echo "No GPU: ${NO_GPU_WHY}."
    echo
    echo "| stage | status | seconds | detail |"
    echo "|---|---|---|---|"
    local r; for r in "${ROWS[@]}"; do echo "| ${r//|/ | } |"; done
    echo
    echo "## Machine"
    echo
    local f; for f in "${FACTS[@]}"; do echo "- ${f}"; done
    echo
    echo "Logs: s0-setup.log, s1-tests.log, s2-parity.log, s3-sanitizer.log, s4-bench.log; results.tar.gz holds the JSON/Markdown results."
  } >"${OUT}/summary.md"
}

# run LOG SECONDS CMD...: runs CMD under timeout, its output to the terminal and appended to
# LOG as it comes; returns CMD's status (124 when it ran out of time).
run() {
  local log=$1 t=$2; shift 2
  printf '\n+ [%ss] %s\n' "${t}" "$*" | tee -a "${log}"
  timeout -k 5 "${t}" "$@" 2>&1 | tee -a "${log}"
  return "${PIPESTATUS[0]}"
}

pack_results() { [ -d "${RES}" ] && [ -n "$(ls -A "${RES}")" ] && tar -C "${RES}" -czf "${OUT}/results.tar.gz" . ; return 0; }

first_or_absent() { local l; IFS= read -r l && [ -n "${l}" ] && echo "${l}" || echo absent; cat >/dev/null; }
fact() { FACTS+=("$1: $(md_safe <<<"$2")"); }

setup() {
  local log=${OUT}/s0-setup.log t=${SECONDS}
  step "0 setup: machine facts, bundle, CUDA libraries" | tee -a "${log}"
  fact "uname -a" "$(uname -a)"
  fact "glibc" "$(ldd --version 2>&1 | head -1)"
  fact "nvcc" "$( { nvcc --version || /usr/local/cuda/bin/nvcc --version; } 2>/dev/null | grep -o 'release.*' | first_or_absent)"
  fact "cmake" "$(cmake --version 2>/dev/null | first_or_absent)"
  fact "g++" "$(g++ --version 2>/dev/null | first_or_absent)"
  fact "compute-sanitizer" "$( { command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer; } 2>/dev/null | first_or_absent)"
  fact "cuobjdump" "$( { command -v cuobjdump || ls /usr/local/cuda/bin/cuobjdump; } 2>/dev/null | first_or_absent)"
  fact "python3 torch" "$(timeout 60 python3 -c "import torch; print(torch.__version__, 'cuda', torch.version.cuda, 'cudnn', torch.backends.cudnn.version(), 'gpu', torch.cuda.is_available() and torch.cuda.get_device_name(0))" 2>&1 | tail -1)"
  if [ -n "${NABLA_GPU_DRY:-}" ]; then
    NO_GPU_WHY="dry run (NABLA_GPU_DRY=1)"
  elif ! command -v nvidia-smi >/dev/null; then
    NO_GPU_WHY="nvidia-smi not found"
  elif ! nvidia-smi -L >/dev/null 2>&1; then
    NO_GPU_WHY="nvidia-smi -L failed: $(nvidia-smi -L 2>&1 | head -1)"
  else
    HAVE_GPU=1
    fact "GPU" "$(nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>&1 | head -1)"
  fi
  { printf '%s\n' "${FACTS[@]}"; echo "GPU: ${HAVE_GPU} ${NO_GPU_WHY}"; } | tee -a "${log}"

  # the bundle: an unpacked folder or build tree named by NABLA_GPU_BUNDLE_DIR, else the tarball
  local b=${NABLA_GPU_BUNDLE_DIR:-}
  if [ -z "${b}" ]; then
    [ -f "${TARBALL}" ] || { row "0 setup" failed "$(( SECONDS - t ))" "no ${TARBALL#"${ROOT}"/} (run bash bench/gpu/run.sh bundle here, carry .gpu)"; return 1; }
    rm -rf "/tmp/${NAME}"; tar -C /tmp -xzf "${TARBALL}" || { row "0 setup" failed "$(( SECONDS - t ))" "cannot unpack ${TARBALL}"; return 1; }
    b=/tmp/${NAME}
  fi
  use_layout "${b}" || { row "0 setup" failed "$(( SECONDS - t ))" "${b}: neither a bundle (bin/test_cuda) nor a build tree (tests/test_cuda)"; return 1; }

  CUDA_LD=$(cuda_lib_path)
  export LD_LIBRARY_PATH=${CUDA_LD}${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}
  fact "cuBLAS" "$(dir_of libcublas.so.13)"
  fact "cuDNN" "$(readlink -f "$(dir_of libcudnn.so.9)/libcudnn.so.9" 2>/dev/null || echo 'not found')"
  fact "NCCL" "$( { ls /usr/local/cuda/lib64/libnccl.so.2 2>/dev/null; timeout 30 python3 -c "import nvidia.nccl as m; print(m.__path__[0])" 2>/dev/null; } | first_or_absent) (nabla does not use it yet)"
  # the C++ runtime of the bundle only where the machine's own lacks the versions it needs
  # (ldd: "version `GLIBCXX_3.4.30' not found", or no libstdc++ at all)
  if [ -d "${LIBDIR}/compat" ] && ldd "${TEST_CUDA}" 2>&1 | grep -q "GLIBCXX_.*not found\|CXXABI_.*not found\|GCC_.*not found\|libstdc++.* not found\|libgcc_s.* not found"; then
    export LD_LIBRARY_PATH=${LIBDIR}/compat:${LD_LIBRARY_PATH}
    echo "using the bundle's libstdc++/libgcc_s (lib/compat): the machine's are older" | tee -a "${log}"
  fi
  fact "LD_LIBRARY_PATH" "${LD_LIBRARY_PATH}"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH}" | tee -a "${log}"

  # does it load? ldd for what is missing, then a real start of test_cuda
  run "${log}" 20 ldd "${TEST_CUDA}"
  local why="NABLA_GPU_FORCE_SOURCE=1" llog=/tmp/nabla-gpu-load.log
  if [ -z "${NABLA_GPU_FORCE_SOURCE:-}" ]; then
    : >"${llog}"
    if run "${llog}" "$(budget 60)" "${TEST_CUDA}" --gtest_list_tests; then
      cat "${llog}" >>"${log}"
      row "0 setup" passed "$(( SECONDS - t ))" "${BUNDLE_DESC}: loads (test_cuda --gtest_list_tests)"
      return 0
    fi
    cat "${llog}" >>"${log}"; why=$(first_error "${llog}")
  fi
  echo "the bundle does not load here (${why}): building from source" | tee -a "${log}"
  local blog=/tmp/nabla-gpu-srcbuild.log brc=0; : >"${blog}"
  build_from_source "${blog}" || brc=$?
  cat "${blog}" >>"${log}"
  [ "${brc}" -eq 0 ] || { row "0 setup" failed "$(( SECONDS - t ))" "bundle does not load (${why}) and the build from source failed: $(grep -q '^+ \[' "${blog}" && tail -1 "${blog}" | md_safe)"; return 1; }
  row "0 setup" passed "$(( SECONDS - t ))" "bundle did not load (${why}); built from source instead"
}

dir_of() { local d; for d in ${CUDA_LD//:/ }; do [ -e "${d}/$1" ] && { echo "${d}"; return; }; done; echo "not found"; }

# use_layout DIR: the binaries' paths in an unpacked bundle or in a build tree
use_layout() {
  local b; b=$(cd "$1" 2>/dev/null && pwd) || return 1
  if [ -x "${b}/bin/test_cuda" ]; then
    TEST_CUDA=${b}/bin/test_cuda BENCH=${b}/bin/nabla-bench PARITY=${b}/bin/nabla-parity LIBDIR=${b}/lib
    COMPARE=${b}/bench/compare/compare.py CHECK_LR=${b}/tests/check_launch_resources.py
    BUNDLE_DESC="${b} ($(sed -n 's/^commit: //p' "${b}/MANIFEST.txt" 2>/dev/null | cut -c1-12))"
  elif [ -x "${b}/tests/test_cuda" ]; then
    TEST_CUDA=${b}/tests/test_cuda BENCH=${b}/bench/nabla-bench PARITY=${b}/bench/nabla-parity LIBDIR=${b}
    COMPARE=${ROOT}/bench/compare/compare.py CHECK_LR=${ROOT}/tests/check_launch_resources.py
    BUNDLE_DESC="build tree ${b}"
  else
    return 1
  fi
}

# The fallback: configure and build the four targets there, against the carried Debian
# packages (unpacked into /tmp/nabla-gpu-deps) and the machine's CUDA, cuBLAS and cuDNN.
build_from_source() {
  local log=$1 deps=/tmp/nabla-gpu-deps src=${ROOT} bdir=/tmp/nabla-gpu-build f
  ls "${GPU_DIR}"/debs/*.deb >/dev/null 2>&1 || { echo "no .gpu/debs/*.deb carried" | tee -a "${log}"; return 1; }
  mkdir -p "${deps}"
  for f in "${GPU_DIR}"/debs/*.deb; do
    if command -v dpkg >/dev/null; then dpkg -x "${f}" "${deps}"
    else (cd "${deps}" && ar p "${f}" "$(ar t "${f}" | grep '^data.tar')" | tar -x --auto-compress -f - 2>/dev/null ||
          ar p "${f}" data.tar.xz | tar -xJf -); fi
  done
  local a=${deps}/usr/lib/x86_64-linux-gnu
  # set before configure: CMake's checks and later the programs load these libraries
  export LD_LIBRARY_PATH=${a}/openblas-openmp:${a}:${LD_LIBRARY_PATH}
  local cudnn_root; cudnn_root=$(dirname "$(dir_of libcudnn.so.9)")
  run "${log}" "$(budget 60)" cmake -S "${src}" -B "${bdir}" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DNABLA_WITH_CUDA=ON -DNABLA_CUDA_ARCHITECTURES=90 -DNABLA_CUDNN_ROOT="${cudnn_root}" \
    -DNABLA_BUILD_EXAMPLES=OFF -DNABLA_BUILD_PYTHON=OFF -DNABLA_BUILD_TESTS=ON \
    -DCMAKE_PREFIX_PATH="${deps}/usr" -Dfmt_DIR="${a}/cmake/fmt" -DGTest_DIR="${a}/cmake/GTest" \
    -Dbenchmark_DIR="${a}/cmake/benchmark" -DZLIB_INCLUDE_DIR="${deps}/usr/include" -DZLIB_LIBRARY="${a}/libz.so" \
    -DNABLA_OPENBLAS_OPENMP="${a}/openblas-openmp/libopenblas.so" \
    -DNABLA_OPENBLAS_OPENMP_INCLUDE="${deps}/usr/include/x86_64-linux-gnu/openblas-openmp" || return 1
  run "${log}" "$(budget 300)" cmake --build "${bdir}" -j"$(nproc)" --target "${TARGETS[@]}" || return 1
  use_layout "${bdir}"
  run "${log}" 60 "${TEST_CUDA}" --gtest_list_tests
}

stage_tests() {
  local log=${OUT}/s1-tests.log t=${SECONDS} rc
  step "1 tests: nvidia-smi, test_cuda, launch resources" | tee -a "${log}"
  [ "${HAVE_GPU}" -eq 1 ] && run "${log}" 20 nvidia-smi
  mkdir -p "${RES}"
  run "${log}" "$(budget 90)" "${TEST_CUDA}" --gtest_output="json:${OUT}/test_cuda.json"; rc=$?
  local counts; counts=$(grep -E '^\[  PASSED  \]|^\[  SKIPPED \] [0-9]+|^\[  FAILED  \] [0-9]+' "${log}" | tr '\n' ' ')
  if [ "${rc}" -eq 124 ]; then row "1 test_cuda" failed "$(( SECONDS - t ))" "timed out: $(first_error "${log}")"
  elif [ "${rc}" -ne 0 ]; then row "1 test_cuda" failed "$(( SECONDS - t ))" "exit ${rc}: $(first_error "${log}") (${counts})"
  elif [ "${HAVE_GPU}" -eq 0 ]; then row "1 test_cuda" skipped "$(( SECONDS - t ))" "${NO_GPU_WHY}: test_cuda ran and skipped its cases (${counts})"
  else row "1 test_cuda" passed "$(( SECONDS - t ))" "${counts}"; fi

  # launch resources from the library's own SASS (needs cuobjdump: on the GPU machine's toolkit)
  t=${SECONDS}
  run "${log}" "$(budget 40)" python3 "${CHECK_LR}" --lib "${LIBDIR}/libnabla.so.0"; rc=$?
  case ${rc} in
    0) row "1b launch resources" passed "$(( SECONDS - t ))" "$(grep -m1 '^launch resources:' "${log}")" ;;
    77) row "1b launch resources" skipped "$(( SECONDS - t ))" "$(grep -m1 '^SKIP' "${log}")" ;;
    *) row "1b launch resources" failed "$(( SECONDS - t ))" "exit ${rc}: $(grep -m1 '^launch resources:' "${log}" || first_error "${log}")" ;;
  esac
}

stage_parity() {
  local log=${OUT}/s2-parity.log t=${SECONDS} m rc fails=() skips=() oks=()
  step "2 parity: nabla-parity cuda:float32 vs cpu:float32" | tee -a "${log}"
  for m in mlp cnn lstm dcgan32; do
    [ "$(left)" -gt 15 ] || { skips+=("${m} (no time left)"); continue; }
    run "${log}" "$(budget 30)" "${PARITY}" --model "${m}" --a cuda:float32 --b cpu:float32 --steps 3 \
      --dump "${RES}/parity-${m}.safetensors"; rc=$?
    case ${rc} in
      0) oks+=("${m}") ;;
      2) skips+=("${m}") ;;
      124) fails+=("${m}: timed out") ;;
      *) fails+=("${m}: exit ${rc}") ;;
    esac
  done
  if [ ${#fails[@]} -gt 0 ]; then row "2 parity" failed "$(( SECONDS - t ))" "${fails[*]}; first: $(first_error "${log}")"
  elif [ ${#oks[@]} -eq 0 ]; then row "2 parity" skipped "$(( SECONDS - t ))" "exit 2 (target cannot run) for ${skips[*]}: $(grep -v '^+ \|^==>' "${log}" | grep -m1 -i 'cuda\|gpu' | md_safe)"
  else row "2 parity" passed "$(( SECONDS - t ))" "within tolerance: ${oks[*]}${skips:+; skipped ${skips[*]}}"; fi
}

# memcheck over every case but cuDNN's benchmark-mode search (it tries every algorithm and
# would eat the budget); racecheck (shared-memory hazards) over the cases whose kernels use
# shared memory: every op's parity (reductions, softmax, ...), norms, pooling, the RNN.
MEMCHECK_FILTER='-CudnnConv.BenchmarkModeAgreesWithHeuristics'
RACECHECK_FILTER='CudaParity.ForwardAndBackwardMatchCpu:CudaNorm.*:CudaPool.*:CudaRuntime.*'
stage_sanitizer() {
  local log=${OUT}/s3-sanitizer.log t san tool filter want rc
  step "3 compute-sanitizer memcheck, racecheck (NABLA_CUDA_NO_CACHE=1)" | tee -a "${log}"
  san=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null)
  for tool in memcheck racecheck; do
    t=${SECONDS}
    if [ "${HAVE_GPU}" -eq 0 ]; then row "3 ${tool}" skipped 0 "${NO_GPU_WHY}"; continue; fi
    if [ -z "${san}" ]; then row "3 ${tool}" skipped 0 "compute-sanitizer not found"; continue; fi
    if [ "${tool}" = memcheck ]; then filter=${MEMCHECK_FILTER} want=70; else filter=${RACECHECK_FILTER} want=50; fi
    [ "$(left)" -gt 20 ] || { row "3 ${tool}" skipped 0 "no time left"; continue; }
    local tlog=/tmp/nabla-gpu-${tool}.log; : >"${tlog}"
    # the caching allocator off: every tensor its own cudaMalloc, so an overrun is seen
    NABLA_CUDA_NO_CACHE=1 run "${tlog}" "$(budget ${want})" "${san}" --tool "${tool}" --error-exitcode 86 \
      --print-limit 50 "${TEST_CUDA}" --gtest_filter="${filter}"; rc=$?
    cat "${tlog}" >>"${log}"
    local errs; errs=$(grep -m1 -E '^========= (ERROR SUMMARY|RACECHECK SUMMARY).*' "${tlog}")
    case ${rc} in
      0) row "3 ${tool}" passed "$(( SECONDS - t ))" "${filter}: ${errs:-clean}" ;;
      124) row "3 ${tool}" failed "$(( SECONDS - t ))" "timed out after $(budget ${want}) s (partial log; errors so far: $(grep -c '^========= [A-Z][a-z]' "${tlog}")): $(first_error "${tlog}")" ;;
      *) row "3 ${tool}" failed "$(( SECONDS - t ))" "exit ${rc}, ${errs}: $(first_error "${tlog}")" ;;
    esac
  done
}

stage_bench() {
  local log=${OUT}/s4-bench.log t=${SECONDS} rc
  step "4 bench: nabla-bench ops + models on cuda, compare.py vs PyTorch" | tee -a "${log}"
  if [ "${HAVE_GPU}" -eq 0 ]; then
    row "4 bench ops" skipped 0 "${NO_GPU_WHY}"; row "4 bench models" skipped 0 "${NO_GPU_WHY}"
    row "4 compare.py" skipped 0 "${NO_GPU_WHY}"; row "4 attention.py" skipped 0 "${NO_GPU_WHY}"; return
  fi
  # every op_db entry at one size (medium, 2^20 elements), one short run each
  run "${log}" "$(budget 60)" "${BENCH}" ops --device cuda --sizes medium --benchmark_min_time=0.01 \
    --benchmark_out="${RES}/bench_ops_cuda.json" --benchmark_out_format=json; rc=$?
  case ${rc} in
    0) row "4 bench ops" passed "$(( SECONDS - t ))" "$(grep -c '/medium' "${log}") lines at medium; bench_ops_cuda.json" ;;
    *) row "4 bench ops" failed "$(( SECONDS - t ))" "exit ${rc}: $(grep -m1 -i 'error\|fail' "${log}" | md_safe)" ;;
  esac
  t=${SECONDS}
  [ "$(left)" -gt 20 ] || { row "4 bench models" skipped 0 "no time left"; row "4 compare.py" skipped 0 "no time left"; row "4 attention.py" skipped 0 "no time left"; return; }
  run "${log}" "$(budget 45)" "${BENCH}" models --model all --device cuda --json | tee "${RES}/bench_models_cuda.jsonl"; rc=${PIPESTATUS[0]}
  if [ "${rc}" -eq 0 ]; then row "4 bench models" passed "$(( SECONDS - t ))" "$(grep -o '"model": "[a-z0-9_]*".*"ms_per_step": [0-9.]*' "${RES}/bench_models_cuda.jsonl" | sed 's/"model": "\([^"]*\)".*"ms_per_step": \(.*\)/\1 \2 ms/' | paste -sd, -)"
  else row "4 bench models" failed "$(( SECONDS - t ))" "exit ${rc}: $(first_error "${log}")"; fi
  t=${SECONDS}
  [ "$(left)" -gt 30 ] || { row "4 compare.py" skipped 0 "no time left"; row "4 attention.py" skipped 0 "no time left"; return; }
  timeout 30 python3 -c "import torch" 2>/dev/null || { row "4 compare.py" skipped 0 "python3 has no torch"; row "4 attention.py" skipped 0 "python3 has no torch"; return; }
  PYTHONUNBUFFERED=1 run "${log}" "$(budget 120)" python3 "${COMPARE}" --device cuda --rounds 1 --bin "${BENCH}" --out "${RES}/compare"; rc=$?
  if [ "${rc}" -eq 0 ]; then row "4 compare.py" passed "$(( SECONDS - t ))" "ratios (nabla/PyTorch eager; op families fwd/fwd+bwd): $(grep -h '^|' "${RES}"/compare/*.md 2>/dev/null | awk -F'|' '/^[|] model/ {t = "m"; next} /^[|] op family/ {t = "o"; next} /^[|]---/ {next} t == "m" {printf "%s %s,", $2, $6} t == "o" {printf "%s %s/%s,", $2, $5, $8}' | tr -s ' ')"
  else row "4 compare.py" failed "$(( SECONDS - t ))" "exit ${rc}: $(first_error "${log}")"; fi
  # the fused attention against PyTorch's explicit attention, nn.MultiheadAttention and (PyTorch
  # >= 2.0, as the GPU machine's) F.scaled_dot_product_attention (issue 16)
  t=${SECONDS}
  [ "$(left)" -gt 20 ] || { row "4 attention.py" skipped 0 "no time left"; return; }
  PYTHONUNBUFFERED=1 run "${log}" "$(budget 60)" python3 "$(dirname "${COMPARE}")/attention.py" --device cuda --grad \
    --bin "${BENCH}" --out "${RES}/compare"; rc=$?
  if [ "${rc}" -eq 0 ]; then row "4 attention.py" passed "$(( SECONDS - t ))" "$(ls "${RES}"/compare/*attention*.md 2>/dev/null | head -1 | xargs -r basename)"
  else row "4 attention.py" failed "$(( SECONDS - t ))" "exit ${rc}: $(first_error "${log}")"; fi
}

cmd_all() {
  rm -rf "${RES}"; mkdir -p "${OUT}" "${RES}"
  rm -f "${OUT}"/s[0-4]-*.log "${OUT}/summary.md" "${OUT}/results.tar.gz" "${OUT}/test_cuda.json"
  write_summary
  if setup; then
    stage_tests; pack_results
    stage_parity; pack_results
    stage_sanitizer; pack_results
    stage_bench; pack_results
  else
    local s; for s in "1 test_cuda" "2 parity" "3 sanitizer" "4 bench"; do row "${s}" skipped 0 "setup failed"; done
  fi
  write_summary
  step "summary ($(elapsed) s): ${OUT}/summary.md"
  cat "${OUT}/summary.md"
  return 0
}

case "${1:-}" in
  bundle) cmd_bundle ;;
  all) cmd_all ;;
  -h|--help|help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}" ;;
  *) echo "usage: bash bench/gpu/run.sh bundle|all (--help: what each does)" >&2; exit 2 ;;
esac

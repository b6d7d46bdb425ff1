#!/usr/bin/env bash
# Developer entry point: install Debian build dependencies, build, run the demo, run the tests.
#
#   bash cmake/dev.sh deps    install missing Debian packages (apt-get; sudo when not root) and the Python venv
#   bash cmake/dev.sh build   configure build/ (Ninja) and build everything
#   bash cmake/dev.sh demo    deps + build + run the demo program
#   bash cmake/dev.sh test    deps + build + run the whole ctest suite
#
# The Python module (python_stub/) builds against Debian's Python with nanobind from PyPI, both
# in a virtualenv at build/pyenv (Debian's Python is externally managed; the venv sees its
# numpy, pytest and torch).
#
# Environment: NABLA_BUILD_TYPE (default Release), NABLA_CMAKE_ARGS (extra cmake arguments,
# word-split), NABLA_JOBS (default: nproc), CI (when set: warnings are errors).
set -euo pipefail

# The demo program: its target name, where it lands in the build tree, and its arguments.
DEMO_NAME=fashion_cnn
DEMO_BIN=build/examples/${DEMO_NAME}
DEMO_ARGS=(--device auto --epochs 1)

BUILD_DIR=build
# clang-format: the ctest clang_format (tests/check_format.sh); python3-torch: PyTorch 1.13 (CPU), the reference the pytest suite checks the binding's PyTorch compatibility against; zlib1g-dev: gzip IDX files; libbenchmark-dev: nabla-bench; dataset-fashion-mnist: the data of the examples and of test_data; libtorch-dev: the libtorch side of examples/from_libtorch (test example_from_libtorch_both builds the same program against libtorch).
DEB_PACKAGES=(cmake ninja-build g++ pkg-config ccache clang-format libfmt-dev libgtest-dev libopenblas-dev libopenblas-openmp-dev zlib1g-dev libbenchmark-dev
  dataset-fashion-mnist
  python3-dev python3-venv python3-numpy python3-pytest python3-torch libtorch-dev)
# nanobind pinned: the committed .pyi stubs are its stubgen's output; mypy type-checks code against
# them (python_stub/tests/test_stubs.py).
# nvidia-cuda-cuobjdump: the CUDA toolkit here has no cuobjdump; the launch-resources test
# (tests/check_launch_resources.py) reads every kernel's registers and bounds with it.
PY_PACKAGES=(nanobind==3.1.0 mypy==2.4.1 nvidia-cuda-cuobjdump==13.5.37)
PY_ENV=${BUILD_DIR}/pyenv

cd "$(dirname "${BASH_SOURCE[0]}")/.."
JOBS=${NABLA_JOBS:-$(nproc 2>/dev/null || echo 2)}

step() { printf '\n==> %s\n' "$*"; }
die() { printf 'dev.sh: %s\n' "$*" >&2; exit 1; }

cmd_deps() {
  deb_deps
  python_env
}

deb_deps() {
  step "deps: checking Debian packages"
  if ! command -v dpkg >/dev/null 2>&1; then
    echo "no dpkg here: not a Debian system; install these yourself: ${DEB_PACKAGES[*]}"
    return 0
  fi
  local missing=() p
  for p in "${DEB_PACKAGES[@]}"; do
    dpkg -s "$p" 2>/dev/null | grep -q '^Status: install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then
    echo "all present: ${DEB_PACKAGES[*]}"
    return 0
  fi
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || die "not root and no sudo: install ${missing[*]} as root"
    sudo=(sudo)
  fi
  echo "installing: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

python_env() {
  step "deps: Python virtualenv ${PY_ENV} (${PY_PACKAGES[*]})"
  if [ ! -x "${PY_ENV}/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "${PY_ENV}" || { python_env_failed "cannot create ${PY_ENV}"; return 0; }
  fi
  # pip only when a pinned package is missing or at another version (no network otherwise).
  if ! "${PY_ENV}/bin/python" -c "import importlib.metadata as m, sys
sys.exit(any(m.version(n) != v for n, v in (p.split('==') for p in sys.argv[1:])))" "${PY_PACKAGES[@]}" 2>/dev/null; then
    "${PY_ENV}/bin/python" -m pip install -q --disable-pip-version-check "${PY_PACKAGES[@]}" ||
      { python_env_failed "pip install ${PY_PACKAGES[*]} failed"; return 0; }
  fi
  echo "ok: ${PY_PACKAGES[*]}"
}

# Without the venv the build goes on without the Python module; CI must have it.
python_env_failed() {
  [ -n "${CI:-}" ] && die "$1"
  echo "warning: $1; building without the Python module" >&2
}

cmd_build() {
  step "build: configure ${BUILD_DIR}/"
  local args=(-S . -B "${BUILD_DIR}" "-DCMAKE_BUILD_TYPE=${NABLA_BUILD_TYPE:-Release}")
  # Ninja for a fresh tree; an existing tree keeps the generator it was made with.
  [ -f "${BUILD_DIR}/CMakeCache.txt" ] || args+=(-G Ninja)
  if [ -n "${CI:-}" ]; then args+=(-DNABLA_WERROR=ON); else args+=(-DNABLA_WERROR=OFF); fi
  [ -x "${PY_ENV}/bin/python" ] && args+=("-DPython_EXECUTABLE=$(pwd)/${PY_ENV}/bin/python")
  if [ -n "${NABLA_CMAKE_ARGS:-}" ]; then
    # shellcheck disable=SC2206  # word splitting of NABLA_CMAKE_ARGS is intended
    args+=(${NABLA_CMAKE_ARGS})
  fi
  cmake "${args[@]}"
  step "build: compile (-j${JOBS})"
  cmake --build "${BUILD_DIR}" -j"${JOBS}"
}

cmd_demo() {
  cmd_deps
  cmd_build
  step "demo: ${DEMO_BIN} ${DEMO_ARGS[*]}"
  "./${DEMO_BIN}" "${DEMO_ARGS[@]}"
}

cmd_test() {
  local start=${SECONDS} rc=0
  cmd_deps
  cmd_build
  step "test: ctest (-j${JOBS})"
  ctest --test-dir "${BUILD_DIR}" --output-on-failure -j"${JOBS}" || rc=$?
  step "test: done in $((SECONDS - start)) s (ctest exit ${rc})"
  return "${rc}"
}

usage() {
  # The comment block at the top of this file.
  awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "${BASH_SOURCE[0]}"
}

case "${1:-}" in
  deps) cmd_deps ;;
  build) cmd_build ;;
  demo) cmd_demo ;;
  test) cmd_test ;;
  -h|--help|help) usage ;;
  *) usage >&2; exit 2 ;;
esac

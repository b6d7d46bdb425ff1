// The BLAS side of nabla's threads (see blas.h): OpenBLAS held at one thread, and
// parallel_info(), which says what a user's process really runs with.
#include "cpu_fallback/blas.h"

#include <fmt/format.h>

#include <string>

#include "nabla/parallel.h"

namespace nabla {
namespace cpu {
namespace {
std::atomic<int> g_last_gemm_threads{0};
}  // namespace

int last_gemm_threads() { return g_last_gemm_threads.load(std::memory_order_relaxed); }
void set_last_gemm_threads(int n) { g_last_gemm_threads.store(n, std::memory_order_relaxed); }

void keep_blas_serial() {
  if (openblas_get_num_threads() == 1) return;
  // OpenBLAS's OpenMP build also calls omp_set_num_threads() here, which would leave a user's
  // own `#pragma omp parallel` on this thread with one thread: put the setting back
  const int omp_threads = omp_get_max_threads();
  openblas_set_num_threads(1);
  omp_set_num_threads(omp_threads);
}

}  // namespace cpu

std::string parallel_info() {
  cpu::keep_blas_serial();
  const int mode = openblas_get_parallel();
  const char* build = mode == 0 ? "sequential" : mode == 1 ? "pthread" : mode == 2 ? "OpenMP" : "unknown";
  return fmt::format(
      "nabla CPU threads: {} (set_num_threads or NABLA_NUM_THREADS)\n"
      "OpenMP: version {}, omp_get_max_threads() = {}\n"
      "BLAS: {} ({} build), held at {} thread: nabla splits each GEMM over its own threads\n",
      get_num_threads(), _OPENMP, omp_get_max_threads(), openblas_get_config(), build,
      openblas_get_num_threads());
}

}  // namespace nabla

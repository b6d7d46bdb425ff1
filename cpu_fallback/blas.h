// Row-major GEMM through CBLAS (OpenBLAS) for float and double, shared by the CPU kernels
// that lower to matrix products (linalg, conv, rnn).
//
// Threads: nabla, not OpenBLAS, runs a GEMM in parallel. OpenBLAS is held at one thread and
// gemm() cuts C into min(get_num_threads(), ...) blocks of rows (or columns), one
// single-threaded OpenBLAS call each, on nabla's OpenMP threads. Two reasons: OpenBLAS's
// pthread build (Debian's default) keeps a thread pool of its own that spins while nabla's
// OpenMP threads work, and the two fight for the cores (2-thread training steps were 3-4x
// slower with it); with one pool, either OpenBLAS build runs at the same speed, and
// set_num_threads() governs GEMMs as it does every other CPU loop. Measured on 2 cores, the
// split is as fast as OpenBLAS's own threading or faster (a CBLAS driver, 2 threads: 64x1000x784
// 0.65 vs 0.79 ms, 1024^3 12.4 vs 13.0 ms; the models: bench/results/2026-12-03-cpu-openblas-builds.md).
// Numerics: OpenBLAS's result bits depend on how C is cut (tested: every split changes them),
// and blocks that did not depend on the thread count cost 10-40% at 2 threads, so float32 and
// float64 GEMM results depend on the thread count, as in PyTorch; they are deterministic for a
// given count. Every other CPU kernel is bitwise independent of it.
#pragma once

#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "util/parallel.h"

namespace nabla::cpu {

/// How gemm() cuts an m x n x k product: `pieces` blocks of `block` rows (over_rows) or
/// columns of C. Depends on the shape and on the threads available only.
struct GemmSplit {
  int64_t pieces = 1, block = 0;
  bool over_rows = true;
};

inline GemmSplit gemm_split(int64_t m, int64_t n, int64_t k, int64_t threads) {
  // a block does at least 2^16 multiply-adds (a few microseconds, well above a fork/join) and
  // is a whole number of OpenBLAS's register tiles (16 rows or columns), so only the last
  // block meets its edge kernels
  constexpr int64_t kMinWork = int64_t{1} << 16, kUnit = 16;
  GemmSplit s;
  s.over_rows = m >= n;
  const int64_t dim = s.over_rows ? m : n;
  const int64_t work = m * n * k;
  const int64_t most = std::min({threads, (dim + kUnit - 1) / kUnit, std::max<int64_t>(1, work / kMinWork)});
  if (most <= 1) return s;
  s.block = ((dim + most - 1) / most + kUnit - 1) / kUnit * kUnit;
  s.pieces = (dim + s.block - 1) / s.block;
  return s;
}

/// How many threads ran pieces of the last split GEMM (1 for an unsplit one): what the tests
/// read to see that set_num_threads() reaches the matrix products.
int last_gemm_threads();
void set_last_gemm_threads(int n);

/// Holds OpenBLAS's pthread build at one thread (checked every call: a user's
/// openblas_set_num_threads would otherwise bring the second pool back).
void keep_blas_serial();

/// OpenBLAS's OpenMP build takes its thread count from omp_get_max_threads() at every call
/// (outside a parallel region), whatever openblas_set_num_threads said: one call is made with
/// this thread's OpenMP setting at 1, restored after.
class SerialOpenMP {
 public:
  SerialOpenMP() : saved_(omp_get_max_threads()) {
    if (saved_ != 1) omp_set_num_threads(1);
  }
  ~SerialOpenMP() {
    if (saved_ != 1) omp_set_num_threads(saved_);
  }
  SerialOpenMP(const SerialOpenMP&) = delete;
  SerialOpenMP& operator=(const SerialOpenMP&) = delete;

 private:
  int saved_;
};

/// One single-threaded CBLAS GEMM (sizes checked to fit CBLAS's int by the callers' shapes).
template <class T>
void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, double alpha,
               const T* a, int64_t lda, const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  const SerialOpenMP serial;
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                static_cast<float>(alpha), a, static_cast<int>(lda), b, static_cast<int>(ldb),
                static_cast<float>(beta), c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha,
                a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
}

/// c (m x n, ldc) = alpha * op(a) (m x k) @ op(b) (k x n) + beta * c, row-major, on nabla's
/// threads (inline when called inside a parallel region). Empty products are handled here:
/// k == 0 only scales c (beta == 0 clears it, NaN included).
template <class T>
void gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int64_t m, int64_t n, int64_t k, double alpha, const T* a,
          int64_t lda, const T* b, int64_t ldb, double beta, T* c, int64_t ldc) {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "CBLAS GEMM is float or double");
  if (m == 0 || n == 0) return;
  if (k == 0) {
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t j = 0; j < n; ++j)
        c[i * ldc + j] = beta == 0.0 ? T(0) : static_cast<T>(beta * c[i * ldc + j]);
    }
    return;
  }
  keep_blas_serial();
  const GemmSplit s = gemm_split(m, n, k, omp_in_parallel() ? 1 : get_num_threads());
  if (s.pieces == 1) {
    blas_gemm<T>(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    set_last_gemm_threads(1);
    return;
  }
  std::atomic<int> ran{0};
  parallel_for(s.pieces, 1, [&](int64_t lo, int64_t hi) {
    ran.fetch_add(1, std::memory_order_relaxed);
    for (int64_t p = lo; p < hi; ++p) {
      const int64_t at = p * s.block;
      if (s.over_rows) {  // rows [at, at + len) of C: rows of op(a)
        const int64_t len = std::min(s.block, m - at);
        const T* ap = ta == CblasNoTrans ? a + at * lda : a + at;
        blas_gemm<T>(ta, tb, len, n, k, alpha, ap, lda, b, ldb, beta, c + at * ldc, ldc);
      } else {  // columns [at, at + len) of C: columns of op(b)
        const int64_t len = std::min(s.block, n - at);
        const T* bp = tb == CblasNoTrans ? b + at : b + at * ldb;
        blas_gemm<T>(ta, tb, m, len, k, alpha, a, lda, bp, ldb, beta, c + at, ldc);
      }
    }
  });
  set_last_gemm_threads(ran.load());
}

}  // namespace nabla::cpu

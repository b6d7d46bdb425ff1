// Row-major GEMM through CBLAS (OpenBLAS) for float and double, shared by the CPU kernels
// that lower to matrix products (linalg, conv).
#pragma once

#include <cblas.h>

#include <cstdint>
#include <type_traits>

namespace nabla::cpu {

/// c (m x n, ldc) = alpha * op(a) (m x k) @ op(b) (k x n) + beta * c, row-major. Empty
/// products are handled here: k == 0 only scales c (beta == 0 clears it, NaN included).
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
  if constexpr (std::is_same_v<T, float>) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k),
                static_cast<float>(alpha), a, static_cast<int>(lda), b, static_cast<int>(ldb),
                static_cast<float>(beta), c, static_cast<int>(ldc));
  } else {
    cblas_dgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha,
                a, static_cast<int>(lda), b, static_cast<int>(ldb), beta, c, static_cast<int>(ldc));
  }
}

}  // namespace nabla::cpu

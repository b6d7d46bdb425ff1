// Formulas of batch and layer normalization, shared by the CPU kernels (cpu_fallback/norm.cpp)
// and the CUDA kernels.
//
// Forward over a group of M values (a channel across the batch, or a row):
//   mean = sum x / M,  var = sum (x - mean)^2 / M (biased),  invstd = 1 / sqrt(var + eps),
//   xhat = (x - mean) invstd,  y = w xhat + b.
// Backward, with h = dL/dxhat = g w (per element):
//   dL/dx = invstd (h - mean(h) - xhat mean(h xhat)),  dL/dw = sum g xhat,  dL/db = sum g.
// Batch norm has one w per group (so mean(h) = w mean(g)); layer norm one w per position.
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"

namespace nabla::math {

template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A norm_invstd(A var, A eps) {
  return A(1) / m::sqrt(var + eps);
}

/// dL/dx of one element: invstd (h - mean_h - xhat mean_hxhat).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A norm_grad_input(A h, A xhat, A invstd, A mean_h, A mean_hxhat) {
  return invstd * (h - mean_h - xhat * mean_hxhat);
}

/// The unbiased variance batch norm stores in its running statistics (M > 1).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A unbiased_var(A biased_var, int64_t m) {
  return m > 1 ? biased_var * static_cast<A>(m) / static_cast<A>(m - 1) : biased_var;
}

}  // namespace nabla::math

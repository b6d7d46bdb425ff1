// Row formulas of the fused cross-entropy op, shared by the CPU kernel (cpu_fallback/loss.cpp)
// and the CUDA kernel.
//
// With label smoothing s over C classes, class weights w and target t, the row loss is
//   loss = sum_c a_c (lse - x_c),   a_c = (1 - s) w_t [c == t] + (s / C) w_c,
// where lse = log sum_c exp(x_c). Its gradient is
//   d loss / d x_c = A softmax_c - a_c,   A = sum_c a_c = (1 - s) w_t + (s / C) sum_c w_c,
// so one pass over the row (with lse saved from the forward) gives the whole gradient.
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"

namespace nabla::math {

template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A ce_coefficient(int64_t c, int64_t t, A w_c, A w_t, A smoothing, int64_t classes) {
  return (c == t ? (A(1) - smoothing) * w_t : A(0)) + smoothing / static_cast<A>(classes) * w_c;
}

/// A = sum_c a_c.
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A ce_total(A w_t, A sum_w, A smoothing, int64_t classes) {
  return (A(1) - smoothing) * w_t + smoothing / static_cast<A>(classes) * sum_w;
}

}  // namespace nabla::math

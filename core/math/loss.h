// Row formulas of the fused cross-entropy op, shared by the CPU kernels (cpu_fallback/loss.cpp)
// and the CUDA kernels (cuda/kernels/loss.cu).
//
// With label smoothing s over C classes, class weights w and target t, the row loss is
//   loss = sum_c a_c (lse - x_c),   a_c = (1 - s) w_t [c == t] + (s / C) w_c,
// where lse = log sum_c exp(x_c) (core/math/softmax.h's two-pass row statistics). Its gradient is
//   d loss / d x_c = A softmax_c - a_c,   A = sum_c a_c = (1 - s) w_t + (s / C) sum_c w_c,
// so one pass over the row (with lse saved from the forward) gives the whole gradient. A row
// whose target is ignore_index (or, on the GPU, out of range: reported, not thrown) has loss 0
// and gradient 0.
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"
#include "core/math/softmax.h"

namespace nabla::math {

/// Whether target t of a row counts: a class, and not the ignored one.
NABLA_HOST_DEVICE NABLA_INLINE bool ce_counts(int64_t t, int64_t ignore, int64_t classes) {
  return t != ignore && t >= 0 && t < classes;
}

template <class A>
struct CeRow {
  A lse, loss;
};

/// The loss of one row given its log-sum-exp lse: x(c) and w(c) give logit and weight c in A.
template <class A, class X, class W>
NABLA_HOST_DEVICE A ce_row_loss(int64_t classes, int64_t t, int64_t ignore, A smoothing, A lse, const X& x,
                                const W& w) {
  if (!ce_counts(t, ignore, classes)) return A(0);
  A l = (A(1) - smoothing) * w(t) * (lse - x(t));
  if (smoothing != A(0)) {
    A smooth = 0;
    for (int64_t c = 0; c < classes; ++c) smooth += w(c) * (lse - x(c));
    l += smoothing / static_cast<A>(classes) * smooth;
  }
  return l;
}

/// The forward of one row: x(c) and w(c) give logit and weight c in A.
template <class A, class X, class W>
NABLA_HOST_DEVICE CeRow<A> ce_forward_row(int64_t classes, int64_t t, int64_t ignore, A smoothing, const X& x,
                                          const W& w) {
  const A lse = row_stats<A, A>(classes, x).lse();
  return {lse, ce_row_loss(classes, t, ignore, smoothing, lse, x, w)};
}

template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A ce_coefficient(int64_t c, int64_t t, A w_c, A w_t, A smoothing,
                                                int64_t classes) {
  return (c == t ? (A(1) - smoothing) * w_t : A(0)) + smoothing / static_cast<A>(classes) * w_c;
}

/// A = sum_c a_c.
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A ce_total(A w_t, A sum_w, A smoothing, int64_t classes) {
  return (A(1) - smoothing) * w_t + smoothing / static_cast<A>(classes) * sum_w;
}

/// d loss / d x_c for upstream gradient g: g (A softmax_c - a_c), softmax_c = exp(x_c - lse).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A ce_gradient(A g, A x_c, A lse, A total, A a_c) {
  return g * (total * m::exp(x_c - lse) - a_c);
}

}  // namespace nabla::math

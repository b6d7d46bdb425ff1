// Row math of softmax, log_softmax and log-sum-exp, shared by the CPU kernels
// (cpu_fallback/softmax.cpp, loss.cpp), the CUDA kernels (cuda/kernels/softmax.cu, loss.cu) and
// the logsumexp reducer (core/math/reduce.h); the fused attention op's blocked online softmax
// (core/math/attention.h) builds on softmax_max below.
//
// A row's statistics are its shift m (the row's max, or 0 when every element is -inf) and its
// sum s = sum_i exp(x_i - m); from them lse = m + log s, softmax_i = exp(x_i - m) / s and
// log_softmax_i = x_i - lse. They are found in one of two ways:
//  - two passes (row_stats): the max, then the sum. The CPU kernels' definition, also used by
//    the CUDA cross-entropy, which gives each row one thread.
//  - one pass (OnlineSoftmax, in reduce.h's init/step/combine/finish style): a running
//    (max, sum) with m' = max(m, x), s' = s exp(m - m') + exp(x - m'), whose partial states
//    combine in any fixed order; the CUDA softmax, whose threads each take part of a row, and
//    logsumexp.
// NaN and inf, as PyTorch: a row holding NaN or +inf has NaN for every softmax and log_softmax
// output (the two-pass sum meets NaN or exp(inf - inf)); a row of -inf only sums to 0, so its
// outputs are NaN too (0 / 0, -inf - -inf). logsumexp is +inf for a row with one +inf (and, as
// it always was, NaN for two: combine meets exp(inf - inf); torch.logsumexp gives +inf).
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"

namespace nabla::math {

/// A softmax's view of a contiguous tensor: [outer, n, inner], rows of n elements `inner`
/// apart, one row per (outer, inner) pair.
struct SoftmaxRows {
  int64_t outer = 1, n = 1, inner = 1;

  /// Along dim `dim` of a tensor of `sizes` (host only).
  template <class Sizes>
  static SoftmaxRows along(const Sizes& sizes, int64_t dim) {
    SoftmaxRows g;
    for (int64_t d = 0; d < static_cast<int64_t>(sizes.size()); ++d) {
      if (d < dim)
        g.outer *= sizes[d];
      else if (d == dim)
        g.n = sizes[d];
      else
        g.inner *= sizes[d];
    }
    return g;
  }
  NABLA_HOST_DEVICE int64_t rows() const { return outer * inner; }
  /// Offset of element 0 of row r; element i is at base(r) + i * inner.
  NABLA_HOST_DEVICE int64_t base(int64_t r) const { return (r / inner) * n * inner + r % inner; }
};

/// The statistics of one row: exponentials are taken in A, against the shift, and summed in S.
template <class A, class S = A>
struct SoftmaxRow {
  A shift;
  S sum;

  NABLA_HOST_DEVICE S lse() const { return static_cast<S>(shift) + m::log(sum); }
  /// softmax of element x.
  NABLA_HOST_DEVICE S prob(S x) const { return m::exp(x - static_cast<S>(shift)) / sum; }
  /// 1 / sum in A: the CPU's float and double softmax multiplies the exponentials it kept by it.
  NABLA_HOST_DEVICE A scale() const { return static_cast<A>(S(1) / sum); }
  /// log_softmax of element x, given lse() (computed once per row).
  NABLA_HOST_DEVICE static S log_prob(S x, S lse) { return x - lse; }
};

/// The running max: NaN wins and stays.
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A softmax_max(A mx, A x) {
  return (x > mx || m::isnan(x)) ? x : mx;
}

/// The shift of a row with maximum mx: 0 when every element is -inf (each exp is then 0).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A softmax_shift(A mx) {
  return mx == -static_cast<A>(INFINITY) ? A(0) : mx;
}

/// For row_stats callers that do not keep the exponentials.
struct DropExp {
  template <class A>
  NABLA_HOST_DEVICE void operator()(int64_t, A) const {}
};

/// Two passes over the n elements x(i) (values in A): the max, then the sum in S of
/// exp(x(i) - shift), each of which is also handed to keep(i, e).
template <class A, class S, class X, class Keep = DropExp>
NABLA_HOST_DEVICE SoftmaxRow<A, S> row_stats(int64_t n, const X& x, const Keep& keep = {}) {
  A mx = -static_cast<A>(INFINITY);
  for (int64_t i = 0; i < n; ++i) mx = softmax_max(mx, x(i));
  SoftmaxRow<A, S> r{softmax_shift(mx), S(0)};
  for (int64_t i = 0; i < n; ++i) {
    const A e = m::exp(x(i) - r.shift);
    keep(i, e);
    r.sum += e;
  }
  return r;
}

/// The running (max, sum of exp(x - max)) of the one-pass form; max -inf: no element yet (or
/// only -inf ones, which add nothing).
template <class A>
struct MaxSumExp {
  A max;
  A sum;
};

/// The one-pass form. Each element counts as {x, 1}; combine rescales the smaller side, and a
/// NaN max stays NaN. Partial states of a row may be combined in any fixed order.
template <class A>
struct OnlineSoftmax {
  using acc = MaxSumExp<A>;
  NABLA_HOST_DEVICE static acc init() { return {-static_cast<A>(INFINITY), A(0)}; }
  NABLA_HOST_DEVICE static acc step(acc a, A x) { return combine(a, acc{x, A(1)}); }
  NABLA_HOST_DEVICE static acc combine(acc a, acc b) {
    const A neg_inf = -static_cast<A>(INFINITY);
    if (b.max == neg_inf) return a;
    if (a.max == neg_inf) return b;
    if (m::isnan(a.max) || m::isnan(b.max)) return {a.max + b.max, A(1)};
    if (a.max >= b.max) return {a.max, a.sum + b.sum * m::exp(b.max - a.max)};
    return {b.max, b.sum + a.sum * m::exp(a.max - b.max)};
  }
  /// log-sum-exp: -inf for an empty or all -inf row, +inf for a row with one +inf.
  NABLA_HOST_DEVICE static A lse(acc a) {
    return a.max == -static_cast<A>(INFINITY) ? a.max : a.max + m::log(a.sum);
  }
  /// The softmax statistics. A +inf max leaves the sum NaN, as exp(inf - inf) makes the
  /// two-pass sum: every output of that row is NaN (combine may have counted one +inf as 1).
  NABLA_HOST_DEVICE static SoftmaxRow<A> finish(acc a) {
    const bool pos_inf = a.max == static_cast<A>(INFINITY);
    return {softmax_shift(a.max), pos_inf ? static_cast<A>(NAN) : a.sum};
  }
  /// combine as a functor, for group reductions.
  NABLA_HOST_DEVICE acc operator()(acc a, acc b) const { return combine(a, b); }
};

/// The backward of softmax (kLog false) and log_softmax (kLog true) along a row, given the
/// outputs y and their gradients g: dot = sum_i term(g_i, y_i), then
///   softmax:     dx_i = y_i (g_i - dot),        dot = sum g y
///   log_softmax: dx_i = g_i - exp(y_i) dot,     dot = sum g
template <bool kLog, class A>
NABLA_HOST_DEVICE NABLA_INLINE A softmax_backward_term(A g, A y) {
  return kLog ? g : g * y;
}
template <bool kLog, class A>
NABLA_HOST_DEVICE NABLA_INLINE A softmax_backward(A g, A y, A dot) {
  return kLog ? g - m::exp(y) * dot : y * (g - dot);
}

}  // namespace nabla::math

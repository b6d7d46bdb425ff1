// Reference CPU softmax and log_softmax along one dim, and their backward primitives. Inputs
// are contiguous (the front end makes them so) and seen as [outer, n, inner]; each of the
// outer * inner rows is done in passes (max, then sum of exp(x - max) accumulated in double:
// core/math/softmax.h's two-pass row statistics), so large logits neither overflow nor lose
// the small terms.
//
// float rows along the last dim (inner == 1, the common case) take a fast path with the same
// passes and formulas as SIMD code: contiguous pointers instead of the strided at(i), the max
// and the sums in lanes (cpu_fallback/lanes.h), and math::vec_exp instead of glibc's scalar
// expf (within 2 ULP of it). The forward's sum of exponentials is in float lanes (as PyTorch's;
// eight partial sums of positive terms, each within n/8 roundings), the backward's dot products
// in double lanes and its elementwise step in float. Other rows, and float64 everywhere, keep the reference
// loops.
#include "core/math/softmax.h"

#include <cmath>
#include <type_traits>

#include "core/math/vec_exp.h"
#include "cpu_fallback/lanes.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_softmax.h"

namespace nabla::cpu {
namespace {

// f(at) for each row of the op's input, in parallel; at(i) is the offset of element i.
template <class F>
void for_each_row(const KernelCall& c, const F& f) {
  const auto g = math::SoftmaxRows::along(c.in[0].sizes(), SoftmaxParams::from(c.p).dim);
  parallel_for(g.rows(), std::max<int64_t>(1, kGrain / std::max<int64_t>(g.n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t base = g.base(r);
      f(g.n, [&](int64_t i) { return base + i * g.inner; });
    }
  });
}

// Whether the rows of the op's input lie along its last dim (contiguous rows).
bool rows_contiguous(const KernelCall& c) {
  return math::SoftmaxRows::along(c.in[0].sizes(), SoftmaxParams::from(c.p).dim).inner == 1;
}

// f(r0, r1, n) for the contiguous rows [r0, r1) of n floats each, in parallel pieces.
template <class F>
void for_float_rows(const KernelCall& c, const F& f) {
  const auto g = math::SoftmaxRows::along(c.in[0].sizes(), SoftmaxParams::from(c.p).dim);
  parallel_for(g.rows(), std::max<int64_t>(1, kGrain / std::max<int64_t>(g.n, 1)),
               [&](int64_t b, int64_t e) { f(b, e, g.n); });
}

// The fast float row: max, then exp(x - shift) (kept in y for softmax) summed in float lanes.
template <bool kLog>
NABLA_LANES_INLINE void softmax_row_f32(int64_t n, const float* x, float* y) {
  if constexpr (kLog) {
    const double lse = row_lse_f32(n, x);
    for (int64_t i = 0; i < n; ++i) {
      y[i] = static_cast<float>(math::SoftmaxRow<float, double>::log_prob(static_cast<double>(x[i]), lse));
    }
  } else {
    // row_lse_f32's passes, with the exponentials kept in y and then scaled
    const float shift = math::softmax_shift(lane_max(n, x));
    const float sum = lane_sum8f(
        n,
        [&](int64_t i) {
          const f32x8 e = math::vec_exp(load8(x + i) - shift);
          store8(y + i, e);
          return e;
        },
        [&](int64_t i) {
          const float e = math::vec_exp(x[i] - shift);
          y[i] = e;
          return e;
        });
    const float inv = math::SoftmaxRow<float, double>{shift, sum}.scale();
    for (int64_t i = 0; i < n; ++i) y[i] *= inv;
  }
}

template <bool kLog>
NABLA_LANES_INLINE void softmax_backward_row_f32(int64_t n, const float* gy, const float* y, float* gx) {
  const double dot = lane_sum8(
      n,
      [&](int64_t i) {
        const D8 g = to_double(load8(gy + i)), v = to_double(load8(y + i));
        return D8{math::softmax_backward_term<kLog>(g.lo, v.lo),
                  math::softmax_backward_term<kLog>(g.hi, v.hi)};
      },
      [&](int64_t i) {
        return math::softmax_backward_term<kLog>(static_cast<double>(gy[i]), static_cast<double>(y[i]));
      });
  // the elementwise step in float (as PyTorch's), exp(y) by vec_exp: a few roundings of float.
  // math::softmax_backward's formulas, written out: it cannot take vectors (its m::exp).
  const float d = static_cast<float>(dot);
  const auto step = [d](auto g, auto v) { return kLog ? g - math::vec_exp(v) * d : v * (g - d); };
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) store8(gx + i, step(load8(gy + i), load8(y + i)));
  for (; i < n; ++i) gx[i] = step(gy[i], y[i]);
}

// Rows [r0, r1) of n floats; one function per instruction set (lanes.h's NABLA_LANES_CLONES).
NABLA_LANES_CLONES void softmax_rows_f32(bool log, int64_t r0, int64_t r1, int64_t n, const float* x,
                                         float* y) {
  for (int64_t r = r0; r < r1; ++r) {
    if (log)
      softmax_row_f32<true>(n, x + r * n, y + r * n);
    else
      softmax_row_f32<false>(n, x + r * n, y + r * n);
  }
}

NABLA_LANES_CLONES void softmax_backward_rows_f32(bool log, int64_t r0, int64_t r1, int64_t n,
                                                  const float* gy, const float* y, float* gx) {
  for (int64_t r = r0; r < r1; ++r) {
    if (log)
      softmax_backward_row_f32<true>(n, gy + r * n, y + r * n, gx + r * n);
    else
      softmax_backward_row_f32<false>(n, gy + r * n, y + r * n, gx + r * n);
  }
}

template <bool kLog>
void softmax_forward(const KernelCall& c) {
  if (c.in[0].dtype() == kFloat32 && rows_contiguous(c)) {
    const float* x = c.in[0].data_ptr<float>();
    float* y = c.out[0].data_ptr<float>();
    for_float_rows(c, [&](int64_t r0, int64_t r1, int64_t n) { softmax_rows_f32(kLog, r0, r1, n, x, y); });
    return;
  }
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    // exponentials in the compute type (float for float, double for double: one correctly
    // rounded exp each, as PyTorch), their sum in double; 16-bit types go through double
    using C = std::conditional_t<std::is_same_v<T, float> || std::is_same_v<T, double>, T, double>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_each_row(c, [&](int64_t n, const auto& at) {
      const auto xi = [&](int64_t i) { return cvt<C>(x[at(i)]); };
      if constexpr (!kLog && std::is_same_v<T, C>) {
        // exp once per element, kept in y, then scaled
        const auto row = math::row_stats<C, double>(n, xi, [&](int64_t i, C e) { y[at(i)] = e; });
        const C inv = row.scale();
        for (int64_t i = 0; i < n; ++i) y[at(i)] *= inv;
      } else {
        const auto row = math::row_stats<C, double>(n, xi);
        const double lse = row.lse();
        for (int64_t i = 0; i < n; ++i) {
          const double v = cvt<double>(x[at(i)]);
          y[at(i)] = cvt<T>(kLog ? row.log_prob(v, lse) : row.prob(v));
        }
      }
    });
  });
}

template <bool kLog>
void softmax_backward(const KernelCall& c) {
  if (c.in[0].dtype() == kFloat32 && rows_contiguous(c)) {
    const float* gy = c.in[0].data_ptr<float>();
    const float* y = c.in[1].data_ptr<float>();
    float* gx = c.out[0].data_ptr<float>();
    for_float_rows(
        c, [&](int64_t r0, int64_t r1, int64_t n) { softmax_backward_rows_f32(kLog, r0, r1, n, gy, y, gx); });
    return;
  }
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    const T* gy = c.in[0].data_ptr<T>();
    const T* y = c.in[1].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    for_each_row(c, [&](int64_t n, const auto& at) {
      double dot = 0;
      for (int64_t i = 0; i < n; ++i)
        dot += math::softmax_backward_term<kLog>(cvt<double>(gy[at(i)]), cvt<double>(y[at(i)]));
      for (int64_t i = 0; i < n; ++i) {
        const int64_t j = at(i);
        gx[j] = cvt<T>(math::softmax_backward<kLog>(cvt<double>(gy[j]), cvt<double>(y[j]), dot));
      }
    });
  });
}

}  // namespace

NABLA_DEFINE_SOFTMAX_KERNELS()

}  // namespace nabla::cpu

// Reference CPU softmax and log_softmax along one dim, and their backward primitives. Inputs
// are contiguous (the front end makes them so) and seen as [outer, n, inner]; each of the
// outer * inner rows is done in passes (max, then sum of exp(x - max) accumulated in double),
// so large logits neither overflow nor lose the small terms.
#include <cmath>
#include <type_traits>

#include "core/math/scalar_math.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

struct RowGeometry {
  int64_t outer = 1, n = 1, inner = 1;
};

RowGeometry rows_of(const Tensor& t, int64_t dim) {
  RowGeometry g;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (d < dim) g.outer *= t.size(d);
    else if (d == dim) g.n = t.size(d);
    else g.inner *= t.size(d);
  }
  return g;
}

// f(row_index_base, stride) for each of the outer * inner rows, in parallel.
template <class F>
void for_each_row(const RowGeometry& g, const F& f) {
  parallel_for(g.outer * g.inner, std::max<int64_t>(1, kGrain / std::max<int64_t>(g.n, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f((r / g.inner) * g.n * g.inner + r % g.inner, g.inner);
  });
}

template <bool kLog>
void softmax_forward(const KernelCall& c) {
  const RowGeometry g = rows_of(c.in[0], c.p.dim);
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    // exponentials in the compute type (float for float, double for double: one correctly
    // rounded exp each, as PyTorch), their sum in double; 16-bit types go through double
    using C = std::conditional_t<std::is_same_v<T, float> || std::is_same_v<T, double>, T, double>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_each_row(g, [&](int64_t base, int64_t s) {
      C mx = -INFINITY;
      for (int64_t i = 0; i < g.n; ++i) {
        const C v = cvt<C>(x[base + i * s]);
        if (v > mx || v != v) mx = v;
      }
      if (std::isinf(mx) && mx < 0) mx = 0;  // all -inf: exp(x - 0) = 0 everywhere, sum 0
      double sum = 0;
      if constexpr (!kLog && std::is_same_v<T, C>) {
        // exp once per element, kept in y, then scaled
        for (int64_t i = 0; i < g.n; ++i) {
          const C e = m::exp(x[base + i * s] - mx);
          y[base + i * s] = e;
          sum += e;
        }
        const C inv = static_cast<C>(1.0 / sum);
        for (int64_t i = 0; i < g.n; ++i) y[base + i * s] *= inv;
      } else {
        for (int64_t i = 0; i < g.n; ++i) sum += m::exp(cvt<C>(x[base + i * s]) - mx);
        const double lse = static_cast<double>(mx) + std::log(sum);
        for (int64_t i = 0; i < g.n; ++i) {
          const double v = cvt<double>(x[base + i * s]);
          y[base + i * s] = cvt<T>(kLog ? v - lse : std::exp(v - static_cast<double>(mx)) / sum);
        }
      }
    });
  });
}

// softmax:     dx = y * (g - sum(g * y))
// log_softmax: dx = g - exp(y) * sum(g)
template <bool kLog>
void softmax_backward(const KernelCall& c) {
  const RowGeometry g = rows_of(c.in[0], c.p.dim);
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    const T* gy = c.in[0].data_ptr<T>();
    const T* y = c.in[1].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    for_each_row(g, [&](int64_t base, int64_t s) {
      double dot = 0;
      for (int64_t i = 0; i < g.n; ++i) {
        const int64_t j = base + i * s;
        dot += kLog ? cvt<double>(gy[j]) : cvt<double>(gy[j]) * cvt<double>(y[j]);
      }
      for (int64_t i = 0; i < g.n; ++i) {
        const int64_t j = base + i * s;
        const double gv = cvt<double>(gy[j]), yv = cvt<double>(y[j]);
        gx[j] = cvt<T>(kLog ? gv - std::exp(yv) * dot : yv * (gv - dot));
      }
    });
  });
}

}  // namespace

void softmax_kernel(const KernelCall& c) { softmax_forward<false>(c); }
void log_softmax_kernel(const KernelCall& c) { softmax_forward<true>(c); }
void softmax_backward_kernel(const KernelCall& c) { softmax_backward<false>(c); }
void log_softmax_backward_kernel(const KernelCall& c) { softmax_backward<true>(c); }

}  // namespace nabla::cpu

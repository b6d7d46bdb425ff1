// Reference CPU softmax and log_softmax along one dim, and their backward primitives. Inputs
// are contiguous (the front end makes them so) and seen as [outer, n, inner]; each of the
// outer * inner rows is done in passes (max, then sum of exp(x - max) accumulated in double:
// core/math/softmax.h's two-pass row statistics), so large logits neither overflow nor lose
// the small terms.
#include "core/math/softmax.h"

#include <cmath>
#include <type_traits>

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

template <bool kLog>
void softmax_forward(const KernelCall& c) {
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

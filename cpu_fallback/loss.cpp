// Reference CPU kernels of the fused cross-entropy pair (row formulas in core/math/loss.h):
// rows in parallel, accumulation in double. Inputs are contiguous (the front end makes them so).
// float rows take the softmax kernels' fast path for their log-sum-exp (lanes.h's row_lse_f32)
// and for exp(x - lse) in the backward (math::vec_exp), the rest of the formulas in double.
#include "core/math/loss.h"

#include <cmath>

#include "cpu_fallback/lanes.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_loss.h"

namespace nabla::cpu {
namespace {

// f(i) for each of the n rows of `classes` logits, in parallel.
template <class F>
void for_each_row(int64_t n, int64_t classes, const F& f) {
  parallel_for(n, std::max<int64_t>(1, kGrain / std::max<int64_t>(classes, 1)), [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) f(i);
  });
}

// The log-sum-exp of float rows [r0, r1) of `classes` logits (one copy per instruction set).
NABLA_LANES_CLONES void row_lse_f32_rows(int64_t r0, int64_t r1, int64_t classes, const float* x,
                                         double* lse) {
  for (int64_t r = r0; r < r1; ++r) lse[r - r0] = row_lse_f32(classes, x + r * classes);
}

// One float row of the backward: gx_k = g (total exp(x_k - lse) - a_k), exp in float.
NABLA_LANES_CLONES void ce_backward_row_f32(int64_t classes, int64_t t, const float* row, const float* w,
                                            double gi, double l, double total, double smoothing, float* out) {
  const double wt = w[t];
  for (int64_t k = 0; k < classes; ++k) {
    const double a = math::ce_coefficient(k, t, static_cast<double>(w[k]), wt, smoothing, classes);
    const double e = math::vec_exp(static_cast<float>(static_cast<double>(row[k]) - l));
    out[k] = static_cast<float>(gi * (total * e - a));
  }
}

}  // namespace

void cross_entropy_kernel(const KernelCall& c) {
  // inputs: logits [N, C], target [N], weight [C]; outputs: loss [N], logsumexp [N]
  const CrossEntropyParams p = CrossEntropyParams::from(c.p);
  const int64_t n = c.in[0].size(0), classes = c.in[0].size(1);
  visit_float(c.in[0].dtype(), "cross_entropy", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    const int64_t* target = c.in[1].data_ptr<int64_t>();
    const T* w = c.in[2].data_ptr<T>();
    T* loss = c.out[0].data_ptr<T>();
    T* lse = c.out[1].data_ptr<T>();
    for_each_row(n, classes, [&](int64_t i) {
      const int64_t t = target[i];
      NABLA_CHECK(t == p.ignore_index || math::ce_counts(t, p.ignore_index, classes),
                  "cross_entropy: target {} is out of range for {} classes (and is not ignore_index {})", t,
                  classes, p.ignore_index);
      const T* row = x + i * classes;
      const auto xk = [&](int64_t k) { return cvt<double>(row[k]); };
      const auto wk = [&](int64_t k) { return cvt<double>(w[k]); };
      math::CeRow<double> r;
      if constexpr (std::is_same_v<T, float>) {
        row_lse_f32_rows(i, i + 1, classes, x, &r.lse);
        r.loss = math::ce_row_loss(classes, t, p.ignore_index, p.label_smoothing, r.lse, xk, wk);
      } else {
        r = math::ce_forward_row(classes, t, p.ignore_index, p.label_smoothing, xk, wk);
      }
      lse[i] = cvt<T>(r.lse);
      loss[i] = cvt<T>(r.loss);
    });
  });
}

void cross_entropy_backward_kernel(const KernelCall& c) {
  // inputs: grad [N], logits [N, C], target [N], weight [C], logsumexp [N]
  const CrossEntropyParams p = CrossEntropyParams::from(c.p);
  const int64_t n = c.in[1].size(0), classes = c.in[1].size(1);
  visit_float(c.in[1].dtype(), "cross_entropy_backward", [&]<class T>() {
    const T* g = c.in[0].data_ptr<T>();
    const T* x = c.in[1].data_ptr<T>();
    const int64_t* target = c.in[2].data_ptr<int64_t>();
    const T* w = c.in[3].data_ptr<T>();
    const T* lse = c.in[4].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    double sum_w = 0;
    for (int64_t k = 0; k < classes; ++k) sum_w += cvt<double>(w[k]);
    for_each_row(n, classes, [&](int64_t i) {
      const int64_t t = target[i];
      T* out = gx + i * classes;
      if (!math::ce_counts(t, p.ignore_index, classes)) {
        for (int64_t k = 0; k < classes; ++k) out[k] = cvt<T>(0.0);
        return;
      }
      const T* row = x + i * classes;
      const double gi = cvt<double>(g[i]), l = cvt<double>(lse[i]), wt = cvt<double>(w[t]);
      const double total = math::ce_total(wt, sum_w, p.label_smoothing, classes);
      if constexpr (std::is_same_v<T, float>) {
        ce_backward_row_f32(classes, t, row, w, gi, l, total, p.label_smoothing, out);
        return;
      }
      for (int64_t k = 0; k < classes; ++k) {
        const double a = math::ce_coefficient(k, t, cvt<double>(w[k]), wt, p.label_smoothing, classes);
        out[k] = cvt<T>(math::ce_gradient(gi, cvt<double>(row[k]), l, total, a));
      }
    });
  });
}

}  // namespace nabla::cpu

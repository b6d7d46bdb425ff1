// Reference CPU kernels of the fused cross-entropy pair (row formulas in core/math/loss.h):
// rows in parallel, accumulation in double. Inputs are contiguous (the front end makes them so).
#include "core/math/loss.h"

#include <cmath>

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
      const math::CeRow<double> r = math::ce_forward_row(
          classes, t, p.ignore_index, p.label_smoothing, [&](int64_t k) { return cvt<double>(row[k]); },
          [&](int64_t k) { return cvt<double>(w[k]); });
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
      for (int64_t k = 0; k < classes; ++k) {
        const double a = math::ce_coefficient(k, t, cvt<double>(w[k]), wt, p.label_smoothing, classes);
        out[k] = cvt<T>(math::ce_gradient(gi, cvt<double>(row[k]), l, total, a));
      }
    });
  });
}

}  // namespace nabla::cpu

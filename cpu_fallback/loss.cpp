// Reference CPU kernels of the fused cross-entropy pair (formulas in core/math/loss.h):
// rows in parallel, accumulation in double. Inputs are contiguous (the front end makes them so).
#include <cmath>

#include "core/math/loss.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

struct CeRows {
  int64_t n, classes, ignore;
  double smoothing;
};

CeRows ce_rows(const KernelCall& c) {
  return {c.in[0].size(0), c.in[0].size(1), c.p.i0, c.p.s0.to_double()};
}

inline int64_t checked_target(int64_t t, const CeRows& r) {
  NABLA_CHECK(t == r.ignore || (t >= 0 && t < r.classes),
              "cross_entropy: target {} is out of range for {} classes (and is not ignore_index {})", t, r.classes,
              r.ignore);
  return t;
}

}  // namespace

void cross_entropy_kernel(const KernelCall& c) {
  const CeRows r = ce_rows(c);
  visit_float(c.in[0].dtype(), "cross_entropy", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    const int64_t* target = c.in[1].data_ptr<int64_t>();
    const T* w = c.in[2].data_ptr<T>();
    T* loss = c.out[0].data_ptr<T>();
    T* lse_out = c.out[1].data_ptr<T>();
    parallel_for(r.n, std::max<int64_t>(1, kGrain / std::max<int64_t>(r.classes, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const T* row = x + i * r.classes;
        const int64_t t = checked_target(target[i], r);
        double mx = -INFINITY;
        for (int64_t k = 0; k < r.classes; ++k) mx = std::max(mx, cvt<double>(row[k]));
        if (std::isinf(mx) && mx < 0) mx = 0;
        double s = 0;
        for (int64_t k = 0; k < r.classes; ++k) s += std::exp(cvt<double>(row[k]) - mx);
        const double lse = mx + std::log(s);
        lse_out[i] = cvt<T>(lse);
        if (t == r.ignore) {
          loss[i] = cvt<T>(0.0);
          continue;
        }
        const double wt = cvt<double>(w[t]);
        double l = (1.0 - r.smoothing) * wt * (lse - cvt<double>(row[t]));
        if (r.smoothing != 0.0) {
          double smooth = 0;
          for (int64_t k = 0; k < r.classes; ++k) smooth += cvt<double>(w[k]) * (lse - cvt<double>(row[k]));
          l += r.smoothing / static_cast<double>(r.classes) * smooth;
        }
        loss[i] = cvt<T>(l);
      }
    });
  });
}

void cross_entropy_backward_kernel(const KernelCall& c) {
  // inputs: grad [N], logits [N, C], target [N], weight [C], logsumexp [N]
  const Tensor& logits = c.in[1];
  const CeRows r{logits.size(0), logits.size(1), c.p.i0, c.p.s0.to_double()};
  visit_float(logits.dtype(), "cross_entropy_backward", [&]<class T>() {
    const T* g = c.in[0].data_ptr<T>();
    const T* x = logits.data_ptr<T>();
    const int64_t* target = c.in[2].data_ptr<int64_t>();
    const T* w = c.in[3].data_ptr<T>();
    const T* lse = c.in[4].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    double sum_w = 0;
    for (int64_t k = 0; k < r.classes; ++k) sum_w += cvt<double>(w[k]);
    parallel_for(r.n, std::max<int64_t>(1, kGrain / std::max<int64_t>(r.classes, 1)), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        const int64_t t = target[i];
        T* out = gx + i * r.classes;
        if (t == r.ignore) {
          for (int64_t k = 0; k < r.classes; ++k) out[k] = cvt<T>(0.0);
          continue;
        }
        const T* row = x + i * r.classes;
        const double gi = cvt<double>(g[i]), l = cvt<double>(lse[i]), wt = cvt<double>(w[t]);
        const double total = math::ce_total(wt, sum_w, r.smoothing, r.classes);
        for (int64_t k = 0; k < r.classes; ++k) {
          const double a = math::ce_coefficient(k, t, cvt<double>(w[k]), wt, r.smoothing, r.classes);
          out[k] = cvt<T>(gi * (total * std::exp(cvt<double>(row[k]) - l) - a));
        }
      }
    });
  });
}

}  // namespace nabla::cpu

// Reference CPU batch and layer normalization (formulas in core/math/norm.h). Statistics are
// two-pass (mean, then squared deviations) and accumulate in double; batch norm runs one
// channel per task, layer norm one row per task, and layer norm's weight and bias gradients
// one column per task, so every sum has a fixed order.
//
// float batch norm takes a fast path with the same formulas in double: each (sample, channel)
// run is summed in lanes (cpu_fallback/lanes.h) and the runs' sums added in order, so the
// reductions become SIMD code (built for SSE2 and AVX2); only the order of the double sums
// differs from the reference loop.
#include "core/math/norm.h"

#include <vector>

#include "cpu_fallback/lanes.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_norm.h"

namespace nabla::cpu {
namespace {

// The statistics' element type: float for the 16-bit types, else the input's.
template <class T>
using stat_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Sum over the n runs x + (i ch + k) l of l floats of f8 (lanes) / f1 (one element), in double.
template <class F8, class F1>
NABLA_LANES_INLINE double channel_sum(int64_t n, int64_t ch, int64_t l, int64_t k, const F8& f8,
                                      const F1& f1) {
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t base = (i * ch + k) * l;
    sum += lane_sum8(
        l, [&](int64_t j) { return f8(base + j); }, [&](int64_t j) { return f1(base + j); });
  }
  return sum;
}

struct BnShape {
  int64_t n, ch, l;
};

// Channel k of the float forward: mean, invstd and y, as the reference loop.
NABLA_LANES_CLONES void batch_norm_channel_f32(const BnShape& sh, int64_t k, double eps, const float* x,
                                               float w, float b, float* y, float* mean_out,
                                               float* invstd_out) {
  const int64_t m = sh.n * sh.l;
  const double sum = channel_sum(
      sh.n, sh.ch, sh.l, k, [&](int64_t at) { return to_double(load8(x + at)); },
      [&](int64_t at) { return static_cast<double>(x[at]); });
  const double mean = m > 0 ? sum / static_cast<double>(m) : 0.0;
  const double sq = channel_sum(
      sh.n, sh.ch, sh.l, k,
      [&](int64_t at) {
        const D8 v = to_double(load8(x + at));
        const f64x4 lo = v.lo - mean, hi = v.hi - mean;
        return D8{lo * lo, hi * hi};
      },
      [&](int64_t at) {
        const double d = static_cast<double>(x[at]) - mean;
        return d * d;
      });
  const double invstd = math::norm_invstd(m > 0 ? sq / static_cast<double>(m) : 0.0, eps);
  mean_out[k] = static_cast<float>(mean);
  invstd_out[k] = static_cast<float>(invstd);
  const double scale = static_cast<double>(w) * invstd, shift = static_cast<double>(b) - mean * scale;
  for (int64_t i = 0; i < sh.n; ++i) {
    const float* p = x + (i * sh.ch + k) * sh.l;
    float* q = y + (i * sh.ch + k) * sh.l;
    for (int64_t j = 0; j < sh.l; ++j) q[j] = static_cast<float>(static_cast<double>(p[j]) * scale + shift);
  }
}

// Channel k of the float backward, as the reference loop.
NABLA_LANES_CLONES void batch_norm_backward_channel_f32(const BnShape& sh, int64_t k, const float* g,
                                                        const float* x, float w, float mean_f, float invstd_f,
                                                        float* gx, float* gw, float* gb) {
  const int64_t m = sh.n * sh.l;
  const double mean = static_cast<double>(mean_f), invstd = static_cast<double>(invstd_f);
  const double sum_g = channel_sum(
      sh.n, sh.ch, sh.l, k, [&](int64_t at) { return to_double(load8(g + at)); },
      [&](int64_t at) { return static_cast<double>(g[at]); });
  const double sum_gxhat = channel_sum(
      sh.n, sh.ch, sh.l, k,
      [&](int64_t at) {
        const D8 gv = to_double(load8(g + at)), xv = to_double(load8(x + at));
        return D8{gv.lo * (xv.lo - mean) * invstd, gv.hi * (xv.hi - mean) * invstd};
      },
      [&](int64_t at) { return static_cast<double>(g[at]) * (static_cast<double>(x[at]) - mean) * invstd; });
  gw[k] = static_cast<float>(sum_gxhat);
  gb[k] = static_cast<float>(sum_g);
  if (m == 0) return;
  const double wk = static_cast<double>(w);
  const double mean_h = wk * sum_g / static_cast<double>(m),
               mean_hx = wk * sum_gxhat / static_cast<double>(m);
  for (int64_t i = 0; i < sh.n; ++i) {
    const int64_t base = (i * sh.ch + k) * sh.l;
    for (int64_t j = 0; j < sh.l; ++j) {
      const double xhat = (static_cast<double>(x[base + j]) - mean) * invstd;
      gx[base + j] = static_cast<float>(
          math::norm_grad_input(wk * static_cast<double>(g[base + j]), xhat, invstd, mean_h, mean_hx));
    }
  }
}

}  // namespace

void batch_norm_kernel(const KernelCall& c) {
  // (x [N, C, L], weight [C], bias [C]) -> (y, mean [C], invstd [C])
  const Tensor& x_t = c.in[0];
  const int64_t n = x_t.size(0), ch = x_t.size(1), l = x_t.size(2), m = n * l;
  const double eps = NormParams::from(c.p).eps;
  if (x_t.dtype() == kFloat32) {
    const float* w = c.in[1].data_ptr<float>();
    const float* b = c.in[2].data_ptr<float>();
    parallel_for(ch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        batch_norm_channel_f32({n, ch, l}, k, eps, x_t.data_ptr<float>(), w[k], b[k],
                               c.out[0].data_ptr<float>(), c.out[1].data_ptr<float>(),
                               c.out[2].data_ptr<float>());
      }
    });
    return;
  }
  visit_float(x_t.dtype(), "batch_norm", [&]<class T>() {
    using S = stat_t<T>;
    const T* x = x_t.data_ptr<T>();
    const S* w = c.in[1].data_ptr<S>();
    const S* b = c.in[2].data_ptr<S>();
    T* y = c.out[0].data_ptr<T>();
    S* mean_out = c.out[1].data_ptr<S>();
    S* invstd_out = c.out[2].data_ptr<S>();
    parallel_for(ch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        double sum = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* p = x + (i * ch + k) * l;
          for (int64_t j = 0; j < l; ++j) sum += cvt<double>(p[j]);
        }
        const double mean = m > 0 ? sum / static_cast<double>(m) : 0.0;
        double sq = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* p = x + (i * ch + k) * l;
          for (int64_t j = 0; j < l; ++j) {
            const double d = cvt<double>(p[j]) - mean;
            sq += d * d;
          }
        }
        const double invstd = math::norm_invstd(m > 0 ? sq / static_cast<double>(m) : 0.0, eps);
        mean_out[k] = static_cast<S>(mean);
        invstd_out[k] = static_cast<S>(invstd);
        const double scale = static_cast<double>(w[k]) * invstd,
                     shift = static_cast<double>(b[k]) - mean * scale;
        for (int64_t i = 0; i < n; ++i) {
          const T* p = x + (i * ch + k) * l;
          T* q = y + (i * ch + k) * l;
          for (int64_t j = 0; j < l; ++j) q[j] = cvt<T>(cvt<double>(p[j]) * scale + shift);
        }
      }
    });
  });
}

void batch_norm_backward_kernel(const KernelCall& c) {
  // (grad, x, weight, mean, invstd) -> (grad_x, grad_weight, grad_bias)
  const Tensor& x_t = c.in[1];
  const int64_t n = x_t.size(0), ch = x_t.size(1), l = x_t.size(2), m = n * l;
  if (x_t.dtype() == kFloat32) {
    const float* w = c.in[2].data_ptr<float>();
    const float* mean = c.in[3].data_ptr<float>();
    const float* invstd = c.in[4].data_ptr<float>();
    parallel_for(ch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        batch_norm_backward_channel_f32({n, ch, l}, k, c.in[0].data_ptr<float>(), x_t.data_ptr<float>(), w[k],
                                        mean[k], invstd[k], c.out[0].data_ptr<float>(),
                                        c.out[1].data_ptr<float>(), c.out[2].data_ptr<float>());
      }
    });
    return;
  }
  visit_float(x_t.dtype(), "batch_norm_backward", [&]<class T>() {
    using S = stat_t<T>;
    const T* g = c.in[0].data_ptr<T>();
    const T* x = x_t.data_ptr<T>();
    const S* w = c.in[2].data_ptr<S>();
    const S* mean_in = c.in[3].data_ptr<S>();
    const S* invstd_in = c.in[4].data_ptr<S>();
    T* gx = c.out[0].data_ptr<T>();
    S* gw = c.out[1].data_ptr<S>();
    S* gb = c.out[2].data_ptr<S>();
    parallel_for(ch, 1, [&](int64_t lo, int64_t hi) {
      for (int64_t k = lo; k < hi; ++k) {
        const double mean = static_cast<double>(mean_in[k]), invstd = static_cast<double>(invstd_in[k]);
        double sum_g = 0, sum_gxhat = 0;
        for (int64_t i = 0; i < n; ++i) {
          const T* gp = g + (i * ch + k) * l;
          const T* xp = x + (i * ch + k) * l;
          for (int64_t j = 0; j < l; ++j) {
            const double gv = cvt<double>(gp[j]);
            sum_g += gv;
            sum_gxhat += gv * (cvt<double>(xp[j]) - mean) * invstd;
          }
        }
        gw[k] = static_cast<S>(sum_gxhat);
        gb[k] = static_cast<S>(sum_g);
        if (m == 0) continue;
        // h = g w, so mean(h) = w mean(g) and mean(h xhat) = w mean(g xhat)
        const double wk = static_cast<double>(w[k]);
        const double mean_h = wk * sum_g / static_cast<double>(m),
                     mean_hx = wk * sum_gxhat / static_cast<double>(m);
        for (int64_t i = 0; i < n; ++i) {
          const T* gp = g + (i * ch + k) * l;
          const T* xp = x + (i * ch + k) * l;
          T* out = gx + (i * ch + k) * l;
          for (int64_t j = 0; j < l; ++j) {
            const double xhat = (cvt<double>(xp[j]) - mean) * invstd;
            out[j] = cvt<T>(math::norm_grad_input(wk * cvt<double>(gp[j]), xhat, invstd, mean_h, mean_hx));
          }
        }
      }
    });
  });
}

void layer_norm_kernel(const KernelCall& c) {
  // (x [M, N], weight [N], bias [N]) -> (y, mean [M], rstd [M])
  const Tensor& x_t = c.in[0];
  const int64_t rows = x_t.size(0), cols = x_t.size(1);
  const double eps = NormParams::from(c.p).eps;
  visit_float(x_t.dtype(), "layer_norm", [&]<class T>() {
    using S = stat_t<T>;
    const T* x = x_t.data_ptr<T>();
    const T* w = c.in[1].data_ptr<T>();
    const T* b = c.in[2].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    S* mean_out = c.out[1].data_ptr<S>();
    S* rstd_out = c.out[2].data_ptr<S>();
    parallel_for(
        rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)), [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            const T* p = x + r * cols;
            double sum = 0;
            for (int64_t j = 0; j < cols; ++j) sum += cvt<double>(p[j]);
            const double mean = cols > 0 ? sum / static_cast<double>(cols) : 0.0;
            double sq = 0;
            for (int64_t j = 0; j < cols; ++j) {
              const double d = cvt<double>(p[j]) - mean;
              sq += d * d;
            }
            const double rstd = math::norm_invstd(cols > 0 ? sq / static_cast<double>(cols) : 0.0, eps);
            mean_out[r] = static_cast<S>(mean);
            rstd_out[r] = static_cast<S>(rstd);
            T* q = y + r * cols;
            for (int64_t j = 0; j < cols; ++j) {
              q[j] = cvt<T>((cvt<double>(p[j]) - mean) * rstd * cvt<double>(w[j]) + cvt<double>(b[j]));
            }
          }
        });
  });
}

void layer_norm_backward_kernel(const KernelCall& c) {
  // (grad, x, weight, mean, rstd) -> (grad_x, grad_weight, grad_bias)
  const Tensor& x_t = c.in[1];
  const int64_t rows = x_t.size(0), cols = x_t.size(1);
  visit_float(x_t.dtype(), "layer_norm_backward", [&]<class T>() {
    using S = stat_t<T>;
    const T* g = c.in[0].data_ptr<T>();
    const T* x = x_t.data_ptr<T>();
    const T* w = c.in[2].data_ptr<T>();
    const S* mean_in = c.in[3].data_ptr<S>();
    const S* rstd_in = c.in[4].data_ptr<S>();
    T* gx = c.out[0].data_ptr<T>();
    T* gw = c.out[1].data_ptr<T>();
    T* gb = c.out[2].data_ptr<T>();
    parallel_for(
        rows, std::max<int64_t>(1, kGrain / std::max<int64_t>(cols, 1)), [&](int64_t lo, int64_t hi) {
          for (int64_t r = lo; r < hi; ++r) {
            const T* gp = g + r * cols;
            const T* xp = x + r * cols;
            const double mean = static_cast<double>(mean_in[r]), rstd = static_cast<double>(rstd_in[r]);
            double sum_h = 0, sum_hx = 0;
            for (int64_t j = 0; j < cols; ++j) {
              const double h = cvt<double>(gp[j]) * cvt<double>(w[j]);
              sum_h += h;
              sum_hx += h * (cvt<double>(xp[j]) - mean) * rstd;
            }
            const double mean_h = sum_h / static_cast<double>(cols),
                         mean_hx = sum_hx / static_cast<double>(cols);
            T* out = gx + r * cols;
            for (int64_t j = 0; j < cols; ++j) {
              const double xhat = (cvt<double>(xp[j]) - mean) * rstd;
              out[j] = cvt<T>(
                  math::norm_grad_input(cvt<double>(gp[j]) * cvt<double>(w[j]), xhat, rstd, mean_h, mean_hx));
            }
          }
        });
    parallel_for(cols, std::max<int64_t>(1, kGrain / std::max<int64_t>(rows, 1)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t j = lo; j < hi; ++j) {
                     double sw = 0, sb = 0;
                     for (int64_t r = 0; r < rows; ++r) {
                       const double gv = cvt<double>(g[r * cols + j]);
                       sw += gv * (cvt<double>(x[r * cols + j]) - static_cast<double>(mean_in[r])) *
                             static_cast<double>(rstd_in[r]);
                       sb += gv;
                     }
                     gw[j] = cvt<T>(sw);
                     gb[j] = cvt<T>(sb);
                   }
                 });
  });
}

}  // namespace nabla::cpu

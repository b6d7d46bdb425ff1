// Reference CPU pooling: direct loops over the windows of core/math/pool.h, one (sample,
// channel) plane per task. Backward passes scatter into their own plane only, so planes run
// in parallel without two threads writing one element. Accumulation in double.
//
// Two fast paths give the reference's bits: max pooling with 2x2 windows at stride 2 and no
// padding (the common downsampling; the generic loop's bounds checks and branches cost more
// than the compares), and the backward of max pooling whose windows do not overlap, where each
// input receives at most one gradient (0 + g, exact in any type: no double buffer needed).
#include "core/math/pool.h"

#include <cmath>
#include <limits>
#include <vector>

#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_pool.h"

namespace nabla::cpu {
namespace {

struct Planes {
  int64_t planes, h, w, oh, ow;
};

// x [N, C, H, W] (or its gradient) and y [N, C, OH, OW] (or its gradient).
Planes planes_of(const Tensor& x, const Tensor& y) {
  return {x.size(0) * x.size(1), x.size(2), x.size(3), y.size(2), y.size(3)};
}

template <class F>
void for_planes(const Planes& s, const F& f) {
  parallel_for(s.planes, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.h * s.w, 1)),
               [&](int64_t b, int64_t e) {
                 for (int64_t pl = b; pl < e; ++pl) f(pl);
               });
}

// The reference's rule for a candidate v against the best so far: the first maximum wins; a
// NaN is the maximum and stays (as PyTorch): !(v <= best) holds for v > best and for a NaN v;
// best == best fails once best is NaN.
template <class C>
bool max_pool_takes(C v, C best) {
  return !(v <= best) && best == best;
}

// 2x2 windows, stride 2, no padding, dilation 1, all inside the plane (floor mode).
bool is_2x2_stride_2(const PoolParams& p, const Planes& s) {
  return p.kernel == std::array<int64_t, 2>{2, 2} && p.stride == std::array<int64_t, 2>{2, 2} &&
         p.padding == std::array<int64_t, 2>{0, 0} && p.dilation == std::array<int64_t, 2>{1, 1} &&
         2 * s.oh <= s.h && 2 * s.ow <= s.w;
}

// One plane of the 2x2 case, candidates in the reference's order (row 0 left, right; row 1).
template <class T>
void max_pool_2x2_plane(const Planes& s, const T* in, T* out, int64_t* idx) {
  using C = compute_t<T>;
  for (int64_t oy = 0; oy < s.oh; ++oy) {
    const T* r0 = in + 2 * oy * s.w;
    const T* r1 = r0 + s.w;
    for (int64_t ox = 0; ox < s.ow; ++ox) {
      const int64_t i0 = 2 * oy * s.w + 2 * ox;
      C best = cvt<C>(r0[2 * ox]);
      int64_t at = i0;
      const C b = cvt<C>(r0[2 * ox + 1]), d = cvt<C>(r1[2 * ox]), e = cvt<C>(r1[2 * ox + 1]);
      const bool tb = max_pool_takes(b, best);
      best = tb ? b : best;
      at = tb ? i0 + 1 : at;
      const bool td = max_pool_takes(d, best);
      best = td ? d : best;
      at = td ? i0 + s.w : at;
      const bool te = max_pool_takes(e, best);
      best = te ? e : best;
      at = te ? i0 + s.w + 1 : at;
      out[oy * s.ow + ox] = cvt<T>(best);
      idx[oy * s.ow + ox] = at;
    }
  }
}

}  // namespace

void max_pool2d_kernel(const KernelCall& c) {
  const Planes s = planes_of(c.in[0], c.out[0]);
  const PoolParams p = PoolParams::from(c.p);
  visit_float(c.in[0].dtype(), "max_pool2d", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    int64_t* idx = c.out[1].data_ptr<int64_t>();
    using C = compute_t<T>;
    if (is_2x2_stride_2(p, s)) {
      for_planes(s, [&](int64_t pl) {
        const int64_t o = pl * s.oh * s.ow;
        max_pool_2x2_plane(s, x + pl * s.h * s.w, y + o, idx + o);
      });
      return;
    }
    for_planes(s, [&](int64_t pl) {
      const T* in = x + pl * s.h * s.w;
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const int64_t y0 = oy * p.stride[0] - p.padding[0];
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const int64_t x0 = ox * p.stride[1] - p.padding[1];
          C best = C(0);
          int64_t best_i = -1;
          for (int64_t i = 0; i < p.kernel[0]; ++i) {
            const int64_t iy = y0 + i * p.dilation[0];
            if (iy < 0 || iy >= s.h) continue;
            for (int64_t j = 0; j < p.kernel[1]; ++j) {
              const int64_t ix = x0 + j * p.dilation[1];
              if (ix < 0 || ix >= s.w) continue;
              const C v = cvt<C>(in[iy * s.w + ix]);
              if (best_i < 0 || max_pool_takes(v, best)) {
                best = v;
                best_i = iy * s.w + ix;
              }
            }
          }
          const int64_t o = pl * s.oh * s.ow + oy * s.ow + ox;
          y[o] = best_i < 0 ? cvt<T>(-std::numeric_limits<double>::infinity()) : cvt<T>(best);
          idx[o] = best_i;
        }
      }
    });
  });
}

void max_pool2d_backward_kernel(const KernelCall& c) {
  // inputs (grad [N, C, OH, OW], indices); output grad_x [N, C, H, W]
  const Planes s = planes_of(c.out[0], c.in[0]);
  const PoolParams p = PoolParams::from(c.p);
  bool disjoint = true;  // no input lies in two windows
  for (int d = 0; d < 2; ++d) disjoint = disjoint && p.stride[d] >= (p.kernel[d] - 1) * p.dilation[d] + 1;
  visit_float(c.out[0].dtype(), "max_pool2d_backward", [&]<class T>() {
    const T* g = c.in[0].data_ptr<T>();
    const int64_t* idx = c.in[1].data_ptr<int64_t>();
    T* gx = c.out[0].data_ptr<T>();
    if (disjoint) {
      for_planes(s, [&](int64_t pl) {
        T* out = gx + pl * s.h * s.w;
        for (int64_t i = 0; i < s.h * s.w; ++i) out[i] = cvt<T>(0.0);
        const int64_t base = pl * s.oh * s.ow;
        for (int64_t o = 0; o < s.oh * s.ow; ++o) {
          const int64_t at = idx[base + o];
          if (at >= 0) out[at] = cvt<T>(0.0 + cvt<double>(g[base + o]));
        }
      });
      return;
    }
    for_planes(s, [&](int64_t pl) {
      std::vector<double> acc(static_cast<std::size_t>(s.h * s.w), 0.0);
      const int64_t base = pl * s.oh * s.ow;
      // overlapping windows may pick one input twice: sum in output order (a fixed order)
      for (int64_t o = 0; o < s.oh * s.ow; ++o) {
        const int64_t at = idx[base + o];
        if (at >= 0) acc[at] += cvt<double>(g[base + o]);
      }
      T* out = gx + pl * s.h * s.w;
      for (int64_t i = 0; i < s.h * s.w; ++i) out[i] = cvt<T>(acc[i]);
    });
  });
}

void avg_pool2d_kernel(const KernelCall& c) {
  const Planes s = planes_of(c.in[0], c.out[0]);
  const PoolParams p = PoolParams::from(c.p);
  visit_float(c.in[0].dtype(), "avg_pool2d", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_planes(s, [&](int64_t pl) {
      const T* in = x + pl * s.h * s.w;
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const math::AvgWindow wy = math::avg_window(oy, s.h, p.kernel[0], p.stride[0], p.padding[0]);
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const math::AvgWindow wx = math::avg_window(ox, s.w, p.kernel[1], p.stride[1], p.padding[1]);
          double acc = 0;
          for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
            for (int64_t ix = wx.begin; ix < wx.end; ++ix) acc += cvt<double>(in[iy * s.w + ix]);
          }
          const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
          y[pl * s.oh * s.ow + oy * s.ow + ox] = cvt<T>(div > 0 ? acc / static_cast<double>(div) : 0.0);
        }
      }
    });
  });
}

void avg_pool2d_backward_kernel(const KernelCall& c) {
  const Planes s = planes_of(c.out[0], c.in[0]);
  const PoolParams p = PoolParams::from(c.p);
  visit_float(c.out[0].dtype(), "avg_pool2d_backward", [&]<class T>() {
    const T* g = c.in[0].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    for_planes(s, [&](int64_t pl) {
      std::vector<double> acc(static_cast<std::size_t>(s.h * s.w), 0.0);
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const math::AvgWindow wy = math::avg_window(oy, s.h, p.kernel[0], p.stride[0], p.padding[0]);
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const math::AvgWindow wx = math::avg_window(ox, s.w, p.kernel[1], p.stride[1], p.padding[1]);
          const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
          if (div <= 0) continue;
          const double v = cvt<double>(g[pl * s.oh * s.ow + oy * s.ow + ox]) / static_cast<double>(div);
          for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
            for (int64_t ix = wx.begin; ix < wx.end; ++ix) acc[iy * s.w + ix] += v;
          }
        }
      }
      T* out = gx + pl * s.h * s.w;
      for (int64_t i = 0; i < s.h * s.w; ++i) out[i] = cvt<T>(acc[i]);
    });
  });
}

void adaptive_avg_pool2d_kernel(const KernelCall& c) {
  const Planes s = planes_of(c.in[0], c.out[0]);
  visit_float(c.in[0].dtype(), "adaptive_avg_pool2d", [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    for_planes(s, [&](int64_t pl) {
      const T* in = x + pl * s.h * s.w;
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const int64_t y0 = math::adaptive_begin(oy, s.h, s.oh), y1 = math::adaptive_end(oy, s.h, s.oh);
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const int64_t x0 = math::adaptive_begin(ox, s.w, s.ow), x1 = math::adaptive_end(ox, s.w, s.ow);
          double acc = 0;
          for (int64_t iy = y0; iy < y1; ++iy) {
            for (int64_t ix = x0; ix < x1; ++ix) acc += cvt<double>(in[iy * s.w + ix]);
          }
          y[pl * s.oh * s.ow + oy * s.ow + ox] = cvt<T>(acc / static_cast<double>((y1 - y0) * (x1 - x0)));
        }
      }
    });
  });
}

void adaptive_avg_pool2d_backward_kernel(const KernelCall& c) {
  const Planes s = planes_of(c.out[0], c.in[0]);
  visit_float(c.out[0].dtype(), "adaptive_avg_pool2d_backward", [&]<class T>() {
    const T* g = c.in[0].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    for_planes(s, [&](int64_t pl) {
      std::vector<double> acc(static_cast<std::size_t>(s.h * s.w), 0.0);
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const int64_t y0 = math::adaptive_begin(oy, s.h, s.oh), y1 = math::adaptive_end(oy, s.h, s.oh);
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const int64_t x0 = math::adaptive_begin(ox, s.w, s.ow), x1 = math::adaptive_end(ox, s.w, s.ow);
          const double v =
              cvt<double>(g[pl * s.oh * s.ow + oy * s.ow + ox]) / static_cast<double>((y1 - y0) * (x1 - x0));
          for (int64_t iy = y0; iy < y1; ++iy) {
            for (int64_t ix = x0; ix < x1; ++ix) acc[iy * s.w + ix] += v;
          }
        }
      }
      T* out = gx + pl * s.h * s.w;
      for (int64_t i = 0; i < s.h * s.w; ++i) out[i] = cvt<T>(acc[i]);
    });
  });
}

}  // namespace nabla::cpu

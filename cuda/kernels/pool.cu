// CUDA kernels of max, average and adaptive-average pooling over NCHW planes, forward and
// backward, with the window geometry of core/math/pool.h (the CPU reference's). cuDNN's
// pooling is not used: it has no dilation, no ceil_mode and no int64 indices (PyTorch also
// runs its own kernels here).
//
// Forward kernels take one thread per output element. Backward kernels gather: one thread per
// INPUT element finds the output windows that contain it (the window start o * stride -
// padding inverts to a short range of o) and sums their gradients in output order. No two
// threads write one element and no float atomics are needed, so the results are bitwise
// repeatable. Sums accumulate in float for float32 and the 16-bit floats, in double for
// float64. max_pool2d compares in the compute type; a NaN is the maximum, the first maximum in
// window order wins, and indices are h * W + w within the (n, c) plane, as on the CPU.
#include <algorithm>

#include "core/math/pool.h"
#include "core/math/scalar_math.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {
namespace {

template <class T>
using acc_of = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Window2d in plain fields for the kernels, with the plane sizes: x [.., h, w], y [.., oh, ow].
struct Pool {
  int64_t h, w, oh, ow;
  int64_t kh, kw, sh, sw, ph, pw, dh, dw;
  bool count_include_pad;
};

Pool pool_of(const Tensor& x, const Tensor& y, const Window2d& win) {
  Pool p{};
  p.h = x.size(2), p.w = x.size(3), p.oh = y.size(2), p.ow = y.size(3);
  p.kh = win.kernel[0], p.kw = win.kernel[1], p.sh = win.stride[0], p.sw = win.stride[1];
  p.ph = win.padding[0], p.pw = win.padding[1], p.dh = win.dilation[0], p.dw = win.dilation[1];
  p.count_include_pad = win.count_include_pad;
  return p;
}

#define NABLA_GRID_STRIDE(i, n)                                                                      \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

template <class T>
__global__ void __launch_bounds__(kBlock)
    max_pool_forward(const T* x, T* y, int64_t* indices, int64_t n, Pool p) {
  using C = compute_t<T>;
  NABLA_GRID_STRIDE(o, n) {
    const int64_t ox = o % p.ow, oy = (o / p.ow) % p.oh, plane = o / (p.ow * p.oh);
    const T* in = x + plane * p.h * p.w;
    C best = -static_cast<C>(INFINITY);
    int64_t best_i = -1;
    for (int64_t i = 0; i < p.kh; ++i) {
      const int64_t iy = oy * p.sh - p.ph + i * p.dh;
      if (iy < 0 || iy >= p.h) continue;
      for (int64_t j = 0; j < p.kw; ++j) {
        const int64_t ix = ox * p.sw - p.pw + j * p.dw;
        if (ix < 0 || ix >= p.w) continue;
        const C v = cvt<C>(in[iy * p.w + ix]);
        if (best_i < 0 || v > best || (m::isnan(v) && !m::isnan(best))) {
          best = v;
          best_i = iy * p.w + ix;
        }
      }
    }
    y[o] = cvt<T>(best);
    indices[o] = best_i;
  }
}

// The outputs along one dim whose window has a tap on input position `in`: o * s - pad + t * d
// == in for a tap t in [0, k). Calls f(o) in increasing o.
template <class F>
__device__ inline void for_each_tap_output(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t d, int64_t outs,
                                           const F& f) {
  for (int64_t t = k - 1; t >= 0; --t) {  // o grows as t falls
    const int64_t a = in + pad - t * d;
    if (a < 0 || a % s != 0 || a / s >= outs) continue;
    f(a / s);
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    max_pool_backward(const T* g, const int64_t* indices, T* gx, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(e, n) {
    const int64_t ix = e % p.w, iy = (e / p.w) % p.h, plane = e / (p.w * p.h);
    const int64_t at = iy * p.w + ix, base = plane * p.oh * p.ow;
    A acc = 0;
    for_each_tap_output(iy, p.kh, p.sh, p.ph, p.dh, p.oh, [&](int64_t oy) {
      for_each_tap_output(ix, p.kw, p.sw, p.pw, p.dw, p.ow, [&](int64_t ox) {
        const int64_t o = base + oy * p.ow + ox;
        if (indices[o] == at) acc += cvt<A>(g[o]);
      });
    });
    gx[e] = cvt<T>(acc);
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) avg_pool_forward(const T* x, T* y, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(o, n) {
    const int64_t ox = o % p.ow, oy = (o / p.ow) % p.oh, plane = o / (p.ow * p.oh);
    const T* in = x + plane * p.h * p.w;
    const math::AvgWindow wy = math::avg_window(oy, p.h, p.kh, p.sh, p.ph);
    const math::AvgWindow wx = math::avg_window(ox, p.w, p.kw, p.sw, p.pw);
    A acc = 0;
    for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
      for (int64_t ix = wx.begin; ix < wx.end; ++ix) acc += cvt<A>(in[iy * p.w + ix]);
    }
    const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
    y[o] = cvt<T>(div > 0 ? acc / static_cast<A>(div) : A(0));
  }
}

// The outputs along one dim whose average window [o * s - pad, o * s - pad + k) may contain
// input position `in`: [lo, hi], clipped to the outputs (the windows themselves decide).
__device__ inline void avg_candidates(int64_t in, int64_t k, int64_t s, int64_t pad, int64_t outs, int64_t* lo,
                                      int64_t* hi) {
  const int64_t first = in + pad - k + 1;  // o * s must be >= first
  *lo = first <= 0 ? 0 : (first + s - 1) / s;
  *hi = min((in + pad) / s, outs - 1);
}

template <class T>
__global__ void __launch_bounds__(kBlock) avg_pool_backward(const T* g, T* gx, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(e, n) {
    const int64_t ix = e % p.w, iy = (e / p.w) % p.h, plane = e / (p.w * p.h);
    const T* gp = g + plane * p.oh * p.ow;
    int64_t y0, y1, x0, x1;
    avg_candidates(iy, p.kh, p.sh, p.ph, p.oh, &y0, &y1);
    avg_candidates(ix, p.kw, p.sw, p.pw, p.ow, &x0, &x1);
    A acc = 0;
    for (int64_t oy = y0; oy <= y1; ++oy) {
      const math::AvgWindow wy = math::avg_window(oy, p.h, p.kh, p.sh, p.ph);
      if (iy < wy.begin || iy >= wy.end) continue;
      for (int64_t ox = x0; ox <= x1; ++ox) {
        const math::AvgWindow wx = math::avg_window(ox, p.w, p.kw, p.sw, p.pw);
        if (ix < wx.begin || ix >= wx.end) continue;
        const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
        if (div > 0) acc += cvt<A>(gp[oy * p.ow + ox]) / static_cast<A>(div);
      }
    }
    gx[e] = cvt<T>(acc);
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) adaptive_avg_pool_forward(const T* x, T* y, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(o, n) {
    const int64_t ox = o % p.ow, oy = (o / p.ow) % p.oh, plane = o / (p.ow * p.oh);
    const T* in = x + plane * p.h * p.w;
    const int64_t y0 = math::adaptive_begin(oy, p.h, p.oh), y1 = math::adaptive_end(oy, p.h, p.oh);
    const int64_t x0 = math::adaptive_begin(ox, p.w, p.ow), x1 = math::adaptive_end(ox, p.w, p.ow);
    A acc = 0;
    for (int64_t iy = y0; iy < y1; ++iy) {
      for (int64_t ix = x0; ix < x1; ++ix) acc += cvt<A>(in[iy * p.w + ix]);
    }
    y[o] = cvt<T>(acc / static_cast<A>((y1 - y0) * (x1 - x0)));
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock) adaptive_avg_pool_backward(const T* g, T* gx, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(e, n) {
    const int64_t ix = e % p.w, iy = (e / p.w) % p.h, plane = e / (p.w * p.h);
    const T* gp = g + plane * p.oh * p.ow;
    A acc = 0;
    // The windows containing iy are those of outputs [iy * OH / H, ceil((iy + 1) * OH / H)):
    // the same begin/end formulas with the roles of the two sizes swapped.
    const int64_t oy0 = math::adaptive_begin(iy, p.oh, p.h), oy1 = math::adaptive_end(iy, p.oh, p.h);
    const int64_t ox0 = math::adaptive_begin(ix, p.ow, p.w), ox1 = math::adaptive_end(ix, p.ow, p.w);
    for (int64_t oy = oy0; oy < min(oy1, p.oh); ++oy) {
      const int64_t y0 = math::adaptive_begin(oy, p.h, p.oh), y1 = math::adaptive_end(oy, p.h, p.oh);
      if (iy < y0 || iy >= y1) continue;
      for (int64_t ox = ox0; ox < min(ox1, p.ow); ++ox) {
        const int64_t x0 = math::adaptive_begin(ox, p.w, p.ow), x1 = math::adaptive_end(ox, p.w, p.ow);
        if (ix < x0 || ix >= x1) continue;
        acc += cvt<A>(gp[oy * p.ow + ox]) / static_cast<A>((y1 - y0) * (x1 - x0));
      }
    }
    gx[e] = cvt<T>(acc);
  }
}

#undef NABLA_GRID_STRIDE

// Calls f<T>(blocks, stream) for a launch over n elements on t's device, with T t's element
// type; nothing for n = 0.
template <class Launch>
void launch(const Tensor& t, int64_t n, const char* op, const Launch& f) {
  if (n == 0) return;
  visit_float(t.dtype(), op, [&]<class T>() {
    const int d = t.device().index;
    set_device(d);
    f.template operator()<T>(grid_size(n), stream(d));
  });
}

}  // namespace

void max_pool2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &y = c.out[0];
  const Pool p = pool_of(x, y, c.p.win);
  launch(x, y.numel(), "max_pool2d", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(max_pool_forward<T>, blocks, kBlock, 0, s, x.data_ptr<T>(), y.data_ptr<T>(),
                 c.out[1].data_ptr<int64_t>(), y.numel(), p);
  });
}

void max_pool2d_backward_kernel(const KernelCall& c) {
  // inputs (grad [N, C, OH, OW], indices); output grad_x [N, C, H, W]
  const Tensor &g = c.in[0], &gx = c.out[0];
  const Pool p = pool_of(gx, g, c.p.win);
  launch(gx, gx.numel(), "max_pool2d_backward", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(max_pool_backward<T>, blocks, kBlock, 0, s, g.data_ptr<T>(), c.in[1].data_ptr<int64_t>(),
                 gx.data_ptr<T>(), gx.numel(), p);
  });
}

void avg_pool2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &y = c.out[0];
  const Pool p = pool_of(x, y, c.p.win);
  launch(x, y.numel(), "avg_pool2d", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(avg_pool_forward<T>, blocks, kBlock, 0, s, x.data_ptr<T>(), y.data_ptr<T>(), y.numel(), p);
  });
}

void avg_pool2d_backward_kernel(const KernelCall& c) {
  const Tensor &g = c.in[0], &gx = c.out[0];
  const Pool p = pool_of(gx, g, c.p.win);
  launch(gx, gx.numel(), "avg_pool2d_backward", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(avg_pool_backward<T>, blocks, kBlock, 0, s, g.data_ptr<T>(), gx.data_ptr<T>(), gx.numel(),
                 p);
  });
}

void adaptive_avg_pool2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &y = c.out[0];
  const Pool p = pool_of(x, y, c.p.win);
  launch(x, y.numel(), "adaptive_avg_pool2d", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(adaptive_avg_pool_forward<T>, blocks, kBlock, 0, s, x.data_ptr<T>(), y.data_ptr<T>(),
                 y.numel(), p);
  });
}

void adaptive_avg_pool2d_backward_kernel(const KernelCall& c) {
  const Tensor &g = c.in[0], &gx = c.out[0];
  const Pool p = pool_of(gx, g, c.p.win);
  launch(gx, gx.numel(), "adaptive_avg_pool2d_backward", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(adaptive_avg_pool_backward<T>, blocks, kBlock, 0, s, g.data_ptr<T>(), gx.data_ptr<T>(),
                 gx.numel(), p);
  });
}

}  // namespace nabla::cuda

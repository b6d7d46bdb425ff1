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
// Average and adaptive average pooling share their kernels; only the windows differ
// (AvgWindows, AdaptiveWindows).
#include <algorithm>

#include "core/math/pool.h"
#include "core/math/scalar_math.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_pool.h"

namespace nabla::cuda {
namespace {

template <class T>
using acc_of = std::conditional_t<std::is_same_v<T, double>, double, float>;

// One spatial dim of a pooling: input and output lengths and the window geometry along it
// (PoolParams in plain fields: device code cannot call std::array's operator[]).
struct Axis {
  int64_t in, out;
  int64_t k, s, pad, d;  // kernel, stride, padding, dilation
};

// x [.., h, w] and y [.., oh, ow]: rows along y, columns along x.
struct Pool {
  Axis y, x;
  bool count_include_pad;
};

Pool pool_of(const Tensor& x, const Tensor& y, const PoolParams& p) {
  return {{x.size(2), y.size(2), p.kernel[0], p.stride[0], p.padding[0], p.dilation[0]},
          {x.size(3), y.size(3), p.kernel[1], p.stride[1], p.padding[1], p.dilation[1]},
          p.count_include_pad};
}

// Element i of [planes, rows, cols]: its (n, c) plane, row and column.
struct PlaneAt {
  int64_t plane, row, col;
};
__device__ inline PlaneAt plane_at(int64_t i, int64_t rows, int64_t cols) {
  return {i / (cols * rows), (i / cols) % rows, i % cols};
}

#define NABLA_GRID_STRIDE(i, n)                                                          \
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < (n); \
       i += static_cast<int64_t>(blockDim.x) * gridDim.x)

template <class T>
__global__ void __launch_bounds__(kBlock)
    max_pool_forward(const T* x, T* y, int64_t* indices, int64_t n, Pool p) {
  using C = compute_t<T>;
  NABLA_GRID_STRIDE(o, n) {
    const PlaneAt at = plane_at(o, p.y.out, p.x.out);
    const T* in = x + at.plane * p.y.in * p.x.in;
    C best = -static_cast<C>(INFINITY);
    int64_t best_i = -1;
    for (int64_t i = 0; i < p.y.k; ++i) {
      const int64_t iy = at.row * p.y.s - p.y.pad + i * p.y.d;
      if (iy < 0 || iy >= p.y.in) continue;
      for (int64_t j = 0; j < p.x.k; ++j) {
        const int64_t ix = at.col * p.x.s - p.x.pad + j * p.x.d;
        if (ix < 0 || ix >= p.x.in) continue;
        const C v = cvt<C>(in[iy * p.x.in + ix]);
        if (best_i < 0 || v > best || (m::isnan(v) && !m::isnan(best))) {
          best = v;
          best_i = iy * p.x.in + ix;
        }
      }
    }
    y[o] = cvt<T>(best);
    indices[o] = best_i;
  }
}

// The outputs along axis `a` whose window has a tap on input position `in`: o * s - pad + t * d
// == in for a tap t in [0, k). Calls f(o) in increasing o.
template <class F>
__device__ inline void for_each_tap_output(int64_t in, const Axis& a, const F& f) {
  for (int64_t t = a.k - 1; t >= 0; --t) {  // o grows as t falls
    const int64_t v = in + a.pad - t * a.d;
    if (v < 0 || v % a.s != 0 || v / a.s >= a.out) continue;
    f(v / a.s);
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    max_pool_backward(const T* g, const int64_t* indices, T* gx, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(e, n) {
    const PlaneAt at = plane_at(e, p.y.in, p.x.in);
    const int64_t index = at.row * p.x.in + at.col, base = at.plane * p.y.out * p.x.out;
    A acc = 0;
    for_each_tap_output(at.row, p.y, [&](int64_t oy) {
      for_each_tap_output(at.col, p.x, [&](int64_t ox) {
        const int64_t o = base + oy * p.x.out + ox;
        if (indices[o] == index) acc += cvt<A>(g[o]);
      });
    });
    gx[e] = cvt<T>(acc);
  }
}

// The outputs [begin, end) along one axis whose windows may contain an input position (the
// windows themselves decide).
struct Outputs {
  int64_t begin, end;
};

// The windows of avg_pool2d along one axis (core/math/pool.h): [o * s - pad, o * s - pad + k)
// clipped to the input, with the padded length count_include_pad divides by.
struct AvgWindows {
  __device__ static math::AvgWindow window(const Axis& a, int64_t o) {
    return math::avg_window(o, a.in, a.k, a.s, a.pad);
  }
  __device__ static Outputs outputs(const Axis& a, int64_t in) {
    const int64_t first = in + a.pad - a.k + 1;  // o * s must be >= first
    return {first <= 0 ? 0 : (first + a.s - 1) / a.s, min((in + a.pad) / a.s, a.out - 1) + 1};
  }
};

// The windows of adaptive_avg_pool2d along one axis: [floor(o * in / out), ceil((o + 1) * in /
// out)), never padded (so count_include_pad does not change the divisor); they follow from the
// sizes alone.
struct AdaptiveWindows {
  __device__ static math::AvgWindow window(const Axis& a, int64_t o) {
    const int64_t b = math::adaptive_begin(o, a.in, a.out), e = math::adaptive_end(o, a.in, a.out);
    return {b, e, e - b};
  }
  // The windows containing `in` are those of outputs [in * out / in_len, ceil((in + 1) * out /
  // in_len)): the same begin/end formulas with the roles of the two sizes swapped.
  __device__ static Outputs outputs(const Axis& a, int64_t in) {
    return {math::adaptive_begin(in, a.out, a.in), min(math::adaptive_end(in, a.out, a.in), a.out)};
  }
};

// Average pooling with the windows of W (AvgWindows or AdaptiveWindows).
template <class T, class W>
__global__ void __launch_bounds__(kBlock) avg_pool_forward(const T* x, T* y, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(o, n) {
    const PlaneAt at = plane_at(o, p.y.out, p.x.out);
    const T* in = x + at.plane * p.y.in * p.x.in;
    const math::AvgWindow wy = W::window(p.y, at.row), wx = W::window(p.x, at.col);
    A acc = 0;
    for (int64_t iy = wy.begin; iy < wy.end; ++iy) {
      for (int64_t ix = wx.begin; ix < wx.end; ++ix) acc += cvt<A>(in[iy * p.x.in + ix]);
    }
    const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
    y[o] = cvt<T>(div > 0 ? acc / static_cast<A>(div) : A(0));
  }
}

template <class T, class W>
__global__ void __launch_bounds__(kBlock) avg_pool_backward(const T* g, T* gx, int64_t n, Pool p) {
  using A = acc_of<T>;
  NABLA_GRID_STRIDE(e, n) {
    const PlaneAt at = plane_at(e, p.y.in, p.x.in);
    const int64_t iy = at.row, ix = at.col;
    const T* gp = g + at.plane * p.y.out * p.x.out;
    const Outputs ry = W::outputs(p.y, iy), rx = W::outputs(p.x, ix);
    A acc = 0;
    for (int64_t oy = ry.begin; oy < ry.end; ++oy) {
      const math::AvgWindow wy = W::window(p.y, oy);
      if (iy < wy.begin || iy >= wy.end) continue;
      for (int64_t ox = rx.begin; ox < rx.end; ++ox) {
        const math::AvgWindow wx = W::window(p.x, ox);
        if (ix < wx.begin || ix >= wx.end) continue;
        const int64_t div = math::avg_divisor(wy, wx, p.count_include_pad);
        if (div > 0) acc += cvt<A>(gp[oy * p.x.out + ox]) / static_cast<A>(div);
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

// Average pooling with the windows of W: the forward (x) -> y or the backward (grad) -> grad_x,
// each one thread per element of its output.
template <class W, bool backward>
void avg_pool_cuda(const KernelCall& c, const char* op) {
  const Tensor &in = c.in[0], &out = c.out[0];
  // the geometry is x [.., h, w] -> y [.., oh, ow]; a backward reads y's gradient, writes x's
  const PoolParams params = PoolParams::from(c.p);
  const Pool p = backward ? pool_of(out, in, params) : pool_of(in, out, params);
  launch(out, out.numel(), op, [&]<class T>(unsigned blocks, cudaStream_t s) {
    const auto kernel = backward ? &avg_pool_backward<T, W> : &avg_pool_forward<T, W>;
    NABLA_LAUNCH(kernel, blocks, kBlock, 0, s, in.data_ptr<T>(), out.data_ptr<T>(), out.numel(), p);
  });
}

}  // namespace

void max_pool2d_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &y = c.out[0];
  const Pool p = pool_of(x, y, PoolParams::from(c.p));
  launch(x, y.numel(), "max_pool2d", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(max_pool_forward<T>, blocks, kBlock, 0, s, x.data_ptr<T>(), y.data_ptr<T>(),
                 c.out[1].data_ptr<int64_t>(), y.numel(), p);
  });
}

void max_pool2d_backward_kernel(const KernelCall& c) {
  // inputs (grad [N, C, OH, OW], indices); output grad_x [N, C, H, W]
  const Tensor &g = c.in[0], &gx = c.out[0];
  const Pool p = pool_of(gx, g, PoolParams::from(c.p));
  launch(gx, gx.numel(), "max_pool2d_backward", [&]<class T>(unsigned blocks, cudaStream_t s) {
    NABLA_LAUNCH(max_pool_backward<T>, blocks, kBlock, 0, s, g.data_ptr<T>(), c.in[1].data_ptr<int64_t>(),
                 gx.data_ptr<T>(), gx.numel(), p);
  });
}

void avg_pool2d_kernel(const KernelCall& c) {
  avg_pool_cuda<AvgWindows, /*backward=*/false>(c, "avg_pool2d");
}
void avg_pool2d_backward_kernel(const KernelCall& c) {
  avg_pool_cuda<AvgWindows, /*backward=*/true>(c, "avg_pool2d_backward");
}
// adaptive pooling carries no parameters: the default PoolParams fill fields its windows never read
void adaptive_avg_pool2d_kernel(const KernelCall& c) {
  avg_pool_cuda<AdaptiveWindows, /*backward=*/false>(c, "adaptive_avg_pool2d");
}
void adaptive_avg_pool2d_backward_kernel(const KernelCall& c) {
  avg_pool_cuda<AdaptiveWindows, /*backward=*/true>(c, "adaptive_avg_pool2d_backward");
}

}  // namespace nabla::cuda

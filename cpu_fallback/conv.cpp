// Reference CPU convolution: im2col lowering to OpenBLAS GEMM. For sample n and group g, the
// columns matrix holds, for every (input channel, kernel row, kernel col) of the group, the
// input values under that kernel tap at every output position:
//   cols [K = Cg*kh*kw, L = OH*OW],   y[n, group] = W_g [Og, K] @ cols.
// The input gradient is W_g^T @ gy followed by col2im (a scatter-add into sample n only);
// the weight gradient is the sum over samples of gy_n @ cols_n^T. Samples run in parallel.
// float16/bfloat16 compute in float32 (converted while building the columns).
#include <algorithm>
#include <vector>

#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_conv.h"

namespace nabla::cpu {
namespace {

// Weight-gradient partial sums: at most this many, over fixed slices of the batch (the slices
// do not depend on the thread count, so the sum has one order and results repeat bitwise).
constexpr int64_t kMaxPartials = 16;
constexpr int64_t kPartialsBudget = int64_t{1} << 24;  // elements of all partials together

template <class T>
using gemm_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct ConvShape {
  int64_t n, c, h, w;      // input
  int64_t o, oh, ow;       // output channels and size
  int64_t kh, kw, groups;  // kernel
  int64_t cg, og, k, l;    // per group: in channels, out channels, K = cg*kh*kw; L = oh*ow
  ConvParams p;
};

ConvShape conv_shape(const Tensor& x, const Tensor& weight, const Tensor& y, const ConvParams& p) {
  ConvShape s{};
  s.n = x.size(0), s.c = x.size(1), s.h = x.size(2), s.w = x.size(3);
  s.o = y.size(1), s.oh = y.size(2), s.ow = y.size(3);
  s.kh = weight.size(2), s.kw = weight.size(3), s.groups = p.groups;
  s.cg = s.c / s.groups, s.og = s.o / s.groups;
  s.k = s.cg * s.kh * s.kw, s.l = s.oh * s.ow;
  s.p = p;
  return s;
}

// cols [K, L] of sample n, group g (row = (c*kh + i)*kw + j).
template <class T, class A>
void im2col(const T* x, const ConvShape& s, int64_t n, int64_t g, A* cols) {
  for (int64_t row = 0; row < s.k; ++row) {
    const int64_t jj = row % s.kw, i = (row / s.kw) % s.kh, c = row / (s.kw * s.kh);
    const T* plane = x + (n * s.c + g * s.cg + c) * s.h * s.w;
    A* out = cols + row * s.l;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const int64_t iy = oy * s.p.stride[0] - s.p.padding[0] + i * s.p.dilation[0];
      A* orow = out + oy * s.ow;
      if (iy < 0 || iy >= s.h) {
        std::fill(orow, orow + s.ow, A(0));
        continue;
      }
      const T* irow = plane + iy * s.w;
      const int64_t x0 = jj * s.p.dilation[1] - s.p.padding[1];
      if (s.p.stride[1] == 1 && x0 >= 0 && x0 + s.ow <= s.w) {  // the common case: one run
        for (int64_t ox = 0; ox < s.ow; ++ox) orow[ox] = cvt<A>(irow[x0 + ox]);
        continue;
      }
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        const int64_t ix = x0 + ox * s.p.stride[1];
        orow[ox] = (ix >= 0 && ix < s.w) ? cvt<A>(irow[ix]) : A(0);
      }
    }
  }
}

// gx[n, g*cg ..] += the taps of cols [K, L] of sample n, group g.
template <class A>
void col2im(const A* cols, const ConvShape& s, int64_t n, int64_t g, A* gx) {
  for (int64_t row = 0; row < s.k; ++row) {
    const int64_t jj = row % s.kw, i = (row / s.kw) % s.kh, c = row / (s.kw * s.kh);
    A* plane = gx + (n * s.c + g * s.cg + c) * s.h * s.w;
    const A* in = cols + row * s.l;
    for (int64_t oy = 0; oy < s.oh; ++oy) {
      const int64_t iy = oy * s.p.stride[0] - s.p.padding[0] + i * s.p.dilation[0];
      if (iy < 0 || iy >= s.h) continue;
      A* prow = plane + iy * s.w;
      const A* irow = in + oy * s.ow;
      const int64_t x0 = jj * s.p.dilation[1] - s.p.padding[1];
      for (int64_t ox = 0; ox < s.ow; ++ox) {
        const int64_t ix = x0 + ox * s.p.stride[1];
        if (ix >= 0 && ix < s.w) prow[ix] += irow[ox];
      }
    }
  }
}

// Runs f(n, cols) for every sample n, samples in parallel, each thread with its own [K, L]
// column buffer. BLAS calls inside run single-threaded (OpenBLAS's OpenMP build does so
// inside a parallel region): many small GEMMs side by side beat each split across threads.
template <class A, class F>
void for_samples(const ConvShape& s, const F& f) {
  parallel_for(s.n, 1, [&](int64_t b, int64_t e) {
    std::vector<A> cols(static_cast<std::size_t>(s.k * s.l));
    for (int64_t n = b; n < e; ++n) f(n, cols.data());
  });
}

// A contiguous copy of t's elements as A (no copy when T already is A).
template <class T, class A>
const A* as_gemm_type(const T* p, int64_t n, std::vector<A>& buf) {
  if constexpr (std::is_same_v<T, A>) {
    return p;
  } else {
    buf.resize(static_cast<std::size_t>(n));
    for (int64_t i = 0; i < n; ++i) buf[i] = cvt<A>(p[i]);
    return buf.data();
  }
}

template <class A, class T>
void store(const A* src, int64_t n, T* dst) {
  for (int64_t i = 0; i < n; ++i) dst[i] = cvt<T>(src[i]);
}

}  // namespace

void conv2d_kernel(const KernelCall& c) {
  const ConvShape s = conv_shape(c.in[0], c.in[1], c.out[0], ConvParams::from(c.p));
  if (c.out[0].numel() == 0) return;
  visit_float(c.in[0].dtype(), "conv2d", [&]<class T>() {
    using A = gemm_t<T>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    std::vector<A> wbuf;
    const A* w = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), wbuf);
    for_samples<A>(s, [&](int64_t n, A* cols) {
      std::vector<A> ybuf;
      for (int64_t g = 0; g < s.groups; ++g) {
        T* yg = y + (n * s.o + g * s.og) * s.l;
        if (s.k == 0) {  // no input channels: the sums are empty
          for (int64_t i = 0; i < s.og * s.l; ++i) yg[i] = cvt<T>(0.0);
          continue;
        }
        im2col(x, s, n, g, cols);
        A* dst = nullptr;
        if constexpr (std::is_same_v<T, A>) {
          dst = yg;
        } else {
          ybuf.resize(static_cast<std::size_t>(s.og * s.l));
          dst = ybuf.data();
        }
        gemm<A>(CblasNoTrans, CblasNoTrans, s.og, s.l, s.k, 1.0, w + g * s.og * s.k, s.k, cols, s.l, 0.0, dst,
                s.l);
        if constexpr (!std::is_same_v<T, A>) store(dst, s.og * s.l, yg);
      }
    });
  });
}

void conv2d_backward_input_kernel(const KernelCall& c) {
  // inputs (grad [N, O, OH, OW], w); output grad_x [N, C, H, W]
  const Tensor& gx_t = c.out[0];
  const ConvShape s = conv_shape(gx_t, c.in[1], c.in[0], ConvParams::from(c.p));
  if (gx_t.numel() == 0) return;
  visit_float(gx_t.dtype(), "conv2d_backward_input", [&]<class T>() {
    using A = gemm_t<T>;
    std::vector<A> wbuf, gbuf, xbuf;
    const A* w = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), wbuf);
    const A* gy = as_gemm_type<T, A>(c.in[0].data_ptr<T>(), c.in[0].numel(), gbuf);
    A* gx = nullptr;
    if constexpr (std::is_same_v<T, A>) {
      gx = gx_t.data_ptr<T>();
    } else {
      xbuf.resize(static_cast<std::size_t>(gx_t.numel()));
      gx = xbuf.data();
    }
    for_samples<A>(s, [&](int64_t n, A* cols) {
      std::fill(gx + n * s.c * s.h * s.w, gx + (n + 1) * s.c * s.h * s.w, A(0));
      if (s.k == 0 || s.l == 0 || s.og == 0) return;
      for (int64_t g = 0; g < s.groups; ++g) {
        gemm<A>(CblasTrans, CblasNoTrans, s.k, s.l, s.og, 1.0, w + g * s.og * s.k, s.k,
                gy + (n * s.o + g * s.og) * s.l, s.l, 0.0, cols, s.l);
        col2im(cols, s, n, g, gx);
      }
    });
    if constexpr (!std::is_same_v<T, A>) store(gx, gx_t.numel(), gx_t.data_ptr<T>());
  });
}

void conv2d_backward_weight_kernel(const KernelCall& c) {
  // inputs (x, grad [N, O, OH, OW]); output grad_w [O, C/g, kh, kw]
  const Tensor& gw_t = c.out[0];
  const ConvShape s = conv_shape(c.in[0], gw_t, c.in[1], ConvParams::from(c.p));
  if (gw_t.numel() == 0) return;
  visit_float(gw_t.dtype(), "conv2d_backward_weight", [&]<class T>() {
    using A = gemm_t<T>;
    const int64_t wsize = gw_t.numel();
    std::vector<A> gbuf;
    const A* gy = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), gbuf);
    const T* x = c.in[0].data_ptr<T>();
    // fixed slices of the batch, one partial sum each, added in slice order
    const int64_t slices =
        std::max<int64_t>(1, std::min({s.n, kMaxPartials, kPartialsBudget / std::max<int64_t>(wsize, 1)}));
    std::vector<A> partial(static_cast<std::size_t>(slices * wsize), A(0));
    if (s.l > 0) {
      parallel_for(slices, 1, [&](int64_t b, int64_t e) {
        std::vector<A> cols(static_cast<std::size_t>(s.k * s.l));
        for (int64_t sl = b; sl < e; ++sl) {
          A* gw = partial.data() + sl * wsize;
          for (int64_t n = sl * s.n / slices; n < (sl + 1) * s.n / slices; ++n) {
            for (int64_t g = 0; g < s.groups; ++g) {
              im2col(x, s, n, g, cols.data());
              gemm<A>(CblasNoTrans, CblasTrans, s.og, s.k, s.l, 1.0, gy + (n * s.o + g * s.og) * s.l, s.l,
                      cols.data(), s.l, 1.0, gw + g * s.og * s.k, s.k);
            }
          }
        }
      });
    }
    T* out = gw_t.data_ptr<T>();
    parallel_for(wsize, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        A acc = partial[i];
        for (int64_t sl = 1; sl < slices; ++sl) acc += partial[sl * wsize + i];
        out[i] = cvt<T>(acc);
      }
    });
  });
}

}  // namespace nabla::cpu

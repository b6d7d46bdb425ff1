// Reference CPU convolution: im2col lowering to OpenBLAS GEMM. For a group g of a chunk of
// samples, the columns matrix holds, for every (input channel, kernel row, kernel col) of the
// group, the input values under that kernel tap for every output position:
//   cols [Cg*kh*kw, nb*L],  L = OH*OW,
// so that y[n, group] = W_g [Og, K] @ cols[:, n*L : (n+1)*L]. The backward of the input is
// the transposed product followed by col2im (a scatter-add, run per (sample, channel) plane so
// no two threads write one element); the backward of the weight is gy @ cols^T summed over
// samples. float16/bfloat16 compute in float32 (converted while building the columns).
#include <algorithm>
#include <vector>

#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

// Column buffers are built for chunks of samples of at most this many elements.
constexpr int64_t kColsBudget = int64_t{1} << 23;

template <class T>
using gemm_t = std::conditional_t<std::is_same_v<T, double>, double, float>;

struct ConvShape {
  int64_t n, c, h, w;      // input
  int64_t o, oh, ow;       // output channels and size
  int64_t kh, kw, groups;  // kernel
  int64_t cg, og, k, l;    // per group: in channels, out channels, K = cg*kh*kw; L = oh*ow
  Window2d win;
};

ConvShape conv_shape(const Tensor& x, const Tensor& weight, const Tensor& y, const Window2d& win) {
  ConvShape s{};
  s.n = x.size(0), s.c = x.size(1), s.h = x.size(2), s.w = x.size(3);
  s.o = y.size(1), s.oh = y.size(2), s.ow = y.size(3);
  s.kh = weight.size(2), s.kw = weight.size(3), s.groups = win.groups;
  s.cg = s.c / s.groups, s.og = s.o / s.groups;
  s.k = s.cg * s.kh * s.kw, s.l = s.oh * s.ow;
  s.win = win;
  return s;
}

int64_t chunk_samples(const ConvShape& s) {
  return std::clamp<int64_t>(kColsBudget / std::max<int64_t>(s.k * s.l, 1), 1, std::max<int64_t>(s.n, 1));
}

// cols[row][j * L + p] for samples n0 .. n0+nb of group g (row = (c*kh + i)*kw + jj).
template <class T, class A>
void im2col(const T* x, const ConvShape& s, int64_t n0, int64_t nb, int64_t g, A* cols) {
  const int64_t ld = nb * s.l;
  parallel_for(s.k * nb, std::max<int64_t>(1, kGrain / std::max<int64_t>(s.l, 1)), [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t row = task / nb, j = task % nb;
      const int64_t jj = row % s.kw, i = (row / s.kw) % s.kh, c = row / (s.kw * s.kh);
      const T* plane = x + ((n0 + j) * s.c + g * s.cg + c) * s.h * s.w;
      A* out = cols + row * ld + j * s.l;
      for (int64_t oy = 0; oy < s.oh; ++oy) {
        const int64_t iy = oy * s.win.stride[0] - s.win.padding[0] + i * s.win.dilation[0];
        A* orow = out + oy * s.ow;
        if (iy < 0 || iy >= s.h) {
          std::fill(orow, orow + s.ow, A(0));
          continue;
        }
        const T* irow = plane + iy * s.w;
        for (int64_t ox = 0; ox < s.ow; ++ox) {
          const int64_t ix = ox * s.win.stride[1] - s.win.padding[1] + jj * s.win.dilation[1];
          orow[ox] = (ix >= 0 && ix < s.w) ? cvt<A>(irow[ix]) : A(0);
        }
      }
    }
  });
}

// gx[n0 + j, g*cg + c] += the taps of cols that read it; one thread per (sample, channel).
template <class A>
void col2im(const A* cols, const ConvShape& s, int64_t n0, int64_t nb, int64_t g, A* gx) {
  const int64_t ld = nb * s.l;
  parallel_for(nb * s.cg, 1, [&](int64_t b, int64_t e) {
    for (int64_t task = b; task < e; ++task) {
      const int64_t j = task / s.cg, c = task % s.cg;
      A* plane = gx + ((n0 + j) * s.c + g * s.cg + c) * s.h * s.w;
      for (int64_t i = 0; i < s.kh; ++i) {
        for (int64_t jj = 0; jj < s.kw; ++jj) {
          const A* in = cols + ((c * s.kh + i) * s.kw + jj) * ld + j * s.l;
          for (int64_t oy = 0; oy < s.oh; ++oy) {
            const int64_t iy = oy * s.win.stride[0] - s.win.padding[0] + i * s.win.dilation[0];
            if (iy < 0 || iy >= s.h) continue;
            for (int64_t ox = 0; ox < s.ow; ++ox) {
              const int64_t ix = ox * s.win.stride[1] - s.win.padding[1] + jj * s.win.dilation[1];
              if (ix >= 0 && ix < s.w) plane[iy * s.w + ix] += in[oy * s.ow + ox];
            }
          }
        }
      }
    }
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
  const ConvShape s = conv_shape(c.in[0], c.in[1], c.out[0], c.p.win);
  if (c.out[0].numel() == 0) return;
  visit_float(c.in[0].dtype(), "conv2d", [&]<class T>() {
    using A = gemm_t<T>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    std::vector<A> wbuf, ybuf;
    const A* w = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), wbuf);
    if (s.k == 0) {  // no input channels: the sums are empty
      for (int64_t i = 0; i < c.out[0].numel(); ++i) y[i] = cvt<T>(0.0);
      return;
    }
    const int64_t nb_max = chunk_samples(s);
    std::vector<A> cols(static_cast<std::size_t>(s.k * nb_max * s.l));
    if constexpr (!std::is_same_v<T, A>) ybuf.resize(static_cast<std::size_t>(s.og * s.l));
    for (int64_t n0 = 0; n0 < s.n; n0 += nb_max) {
      const int64_t nb = std::min(nb_max, s.n - n0);
      for (int64_t g = 0; g < s.groups; ++g) {
        im2col(x, s, n0, nb, g, cols.data());
        for (int64_t j = 0; j < nb; ++j) {
          T* yg = y + ((n0 + j) * s.o + g * s.og) * s.l;
          A* dst = nullptr;
          if constexpr (std::is_same_v<T, A>) dst = yg;
          else dst = ybuf.data();
          gemm<A>(CblasNoTrans, CblasNoTrans, s.og, s.l, s.k, 1.0, w + g * s.og * s.k, s.k, cols.data() + j * s.l,
                  nb * s.l, 0.0, dst, s.l);
          if constexpr (!std::is_same_v<T, A>) store(dst, s.og * s.l, yg);
        }
      }
    }
  });
}

void conv2d_backward_input_kernel(const KernelCall& c) {
  // inputs (grad [N, O, OH, OW], w); output grad_x [N, C, H, W]
  const Tensor& gx_t = c.out[0];
  const ConvShape s = conv_shape(gx_t, c.in[1], c.in[0], c.p.win);
  if (gx_t.numel() == 0) return;
  visit_float(gx_t.dtype(), "conv2d_backward_input", [&]<class T>() {
    using A = gemm_t<T>;
    std::vector<A> wbuf, gbuf, xbuf;
    const A* w = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), wbuf);
    const A* gy = as_gemm_type<T, A>(c.in[0].data_ptr<T>(), c.in[0].numel(), gbuf);
    A* gx = nullptr;
    if constexpr (std::is_same_v<T, A>) gx = gx_t.data_ptr<T>();
    else {
      xbuf.resize(static_cast<std::size_t>(gx_t.numel()));
      gx = xbuf.data();
    }
    std::fill(gx, gx + gx_t.numel(), A(0));
    if (s.k > 0 && s.l > 0 && s.og > 0) {
      const int64_t nb_max = chunk_samples(s);
      std::vector<A> cols(static_cast<std::size_t>(s.k * nb_max * s.l));
      for (int64_t n0 = 0; n0 < s.n; n0 += nb_max) {
        const int64_t nb = std::min(nb_max, s.n - n0);
        for (int64_t g = 0; g < s.groups; ++g) {
          for (int64_t j = 0; j < nb; ++j) {
            gemm<A>(CblasTrans, CblasNoTrans, s.k, s.l, s.og, 1.0, w + g * s.og * s.k, s.k,
                    gy + ((n0 + j) * s.o + g * s.og) * s.l, s.l, 0.0, cols.data() + j * s.l, nb * s.l);
          }
          col2im(cols.data(), s, n0, nb, g, gx);
        }
      }
    }
    if constexpr (!std::is_same_v<T, A>) store(gx, gx_t.numel(), gx_t.data_ptr<T>());
  });
}

void conv2d_backward_weight_kernel(const KernelCall& c) {
  // inputs (x, grad [N, O, OH, OW]); output grad_w [O, C/g, kh, kw]
  const Tensor& gw_t = c.out[0];
  const ConvShape s = conv_shape(c.in[0], gw_t, c.in[1], c.p.win);
  if (gw_t.numel() == 0) return;
  visit_float(gw_t.dtype(), "conv2d_backward_weight", [&]<class T>() {
    using A = gemm_t<T>;
    std::vector<A> gbuf, wbuf;
    const A* gy = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), gbuf);
    A* gw = nullptr;
    if constexpr (std::is_same_v<T, A>) gw = gw_t.data_ptr<T>();
    else {
      wbuf.resize(static_cast<std::size_t>(gw_t.numel()));
      gw = wbuf.data();
    }
    std::fill(gw, gw + gw_t.numel(), A(0));
    if (s.l > 0 && s.n > 0) {
      const T* x = c.in[0].data_ptr<T>();
      const int64_t nb_max = chunk_samples(s);
      std::vector<A> cols(static_cast<std::size_t>(s.k * nb_max * s.l));
      for (int64_t n0 = 0; n0 < s.n; n0 += nb_max) {
        const int64_t nb = std::min(nb_max, s.n - n0);
        for (int64_t g = 0; g < s.groups; ++g) {
          im2col(x, s, n0, nb, g, cols.data());
          for (int64_t j = 0; j < nb; ++j) {
            gemm<A>(CblasNoTrans, CblasTrans, s.og, s.k, s.l, 1.0, gy + ((n0 + j) * s.o + g * s.og) * s.l, s.l,
                    cols.data() + j * s.l, nb * s.l, 1.0, gw + g * s.og * s.k, s.k);
          }
        }
      }
    }
    if constexpr (!std::is_same_v<T, A>) store(gw, gw_t.numel(), gw_t.data_ptr<T>());
  });
}

}  // namespace nabla::cpu

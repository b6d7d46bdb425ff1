// Reference CPU convolution: im2col lowering to OpenBLAS GEMM. For a group of consecutive
// samples n0 .. n0+G-1 and conv group g, the columns matrix holds, for every (input channel,
// kernel row, kernel col) of the group, the input values under that kernel tap at every output
// position of every sample of the group (sample j's positions in columns j*L .. j*L+L-1):
//   cols [K = Cg*kh*kw, G*L],   L = OH*OW,   y[n0.., group] = W_g [Og, K] @ cols.
// The input gradient is W_g^T @ gy followed by col2im (a scatter-add into each sample's own
// planes); the weight gradient is the sum over sample groups of gy_group @ cols^T.
//
// Why groups of samples: one GEMM per sample is far too small where L is small (the 4x4 and
// 8x8 maps of a DCGAN, a 1x1 input of a transposed conv: L = 1..64), and the weight gradient
// then became one rank-L update of all of grad_w per sample. float32 lowers as many samples at
// once as fit the column budget; the group size depends on the shape only, never on the thread
// count, so results repeat bitwise. Threads split the im2col/col2im rows and the GEMM itself.
// float64 keeps the reference order (one sample per GEMM; the weight gradient summed in fixed
// slices of the batch), so its results are bitwise those of the per-sample lowering.
// float16/bfloat16 compute in float32 (converted while building the columns).
#include <algorithm>
#include <vector>

#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_conv.h"

namespace nabla::cpu {
namespace {

// Samples per GEMM (float32): enough for kMinCols columns, as long as the column buffer stays
// within kColsBudget elements (16 MiB of float32; one buffer per thread at most).
constexpr int64_t kMinCols = 256;
constexpr int64_t kColsBudget = int64_t{1} << 22;

// Weight-gradient partial sums: at most this many, over fixed slices of the batch made of whole
// sample groups (the slices do not depend on the thread count, so the sum has one order and
// results repeat bitwise).
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

// Samples lowered by one GEMM (see the file comment).
template <class A>
int64_t samples_per_gemm(const ConvShape& s) {
  if constexpr (std::is_same_v<A, double>) {
    return 1;
  } else {
    const int64_t l = std::max<int64_t>(s.l, 1);
    const int64_t want = (kMinCols + l - 1) / l, fit = kColsBudget / std::max<int64_t>(s.k * l, 1);
    return std::clamp<int64_t>(std::min(want, fit), 1, std::max<int64_t>(s.n, 1));
  }
}

// Rows of work of about kGrain elements each, for parallel_for over rows of `len` elements.
int64_t row_grain(int64_t len) { return std::max<int64_t>(1, kGrain / std::max<int64_t>(len, 1)); }

// The outputs o in [lo, hi) of [0, out) whose input index first + o*stride lies in [0, size):
// the loops over a row then need no bounds test per element.
struct Span {
  int64_t lo, hi;
};
Span inside(int64_t first, int64_t stride, int64_t size, int64_t out) {
  const int64_t lo = first >= 0 ? 0 : (-first + stride - 1) / stride;
  const int64_t hi = first >= size ? 0 : std::min(out, (size - 1 - first) / stride + 1);
  return {std::min(lo, hi), hi};
}

// Kernel tap (i, j): the input row/col under output (0, 0) and the outputs whose input is
// inside the image (the others read padding).
struct Tap {
  int64_t y0, x0;
  Span sy, sx;
};
std::vector<Tap> taps_of(const ConvShape& s) {
  std::vector<Tap> taps;
  for (int64_t i = 0; i < s.kh; ++i) {
    for (int64_t j = 0; j < s.kw; ++j) {
      const int64_t y0 = i * s.p.dilation[0] - s.p.padding[0], x0 = j * s.p.dilation[1] - s.p.padding[1];
      taps.push_back({y0, x0, inside(y0, s.p.stride[0], s.h, s.oh), inside(x0, s.p.stride[1], s.w, s.ow)});
    }
  }
  return taps;
}

// cols [K, gs*L] of samples n0 .. n0+gs-1, group g (row = (c*kh + i)*kw + j). One task per
// input plane (sample, channel): its kh*kw rows.
template <class T, class A>
void im2col(const T* x, const ConvShape& s, int64_t n0, int64_t gs, int64_t g, A* cols) {
  const std::vector<Tap> taps = taps_of(s);
  const int64_t nt = s.kh * s.kw, ld = gs * s.l, sy = s.p.stride[0], sx = s.p.stride[1];
  parallel_for(gs * s.cg, row_grain(nt * s.l), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t j = t / s.cg, c = t % s.cg;
      const T* plane = x + ((n0 + j) * s.c + g * s.cg + c) * s.h * s.w;
      for (int64_t k = 0; k < nt; ++k) {
        const Tap& tp = taps[k];
        A* out = cols + (c * nt + k) * ld + j * s.l;
        std::fill(out, out + tp.sy.lo * s.ow, A(0));
        for (int64_t oy = tp.sy.lo; oy < tp.sy.hi; ++oy) {
          const T* irow = plane + (tp.y0 + oy * sy) * s.w + tp.x0;
          A* orow = out + oy * s.ow;
          std::fill(orow, orow + tp.sx.lo, A(0));
          if (sx == 1) {
            for (int64_t ox = tp.sx.lo; ox < tp.sx.hi; ++ox) orow[ox] = cvt<A>(irow[ox]);
          } else {
            for (int64_t ox = tp.sx.lo; ox < tp.sx.hi; ++ox) orow[ox] = cvt<A>(irow[ox * sx]);
          }
          std::fill(orow + tp.sx.hi, orow + s.ow, A(0));
        }
        std::fill(out + tp.sy.hi * s.ow, out + s.l, A(0));
      }
    }
  });
}

// Every plane (n, g*cg + c) of samples n0 .. n0+gs-1 = the sum of its taps in cols [K, gs*L].
// One plane per task, its rows added in row order: the same sums whatever the thread count.
template <class A>
void col2im(const A* cols, const ConvShape& s, int64_t n0, int64_t gs, int64_t g, A* gx) {
  const std::vector<Tap> taps = taps_of(s);
  const int64_t nt = s.kh * s.kw, ld = gs * s.l, sy = s.p.stride[0], sx = s.p.stride[1];
  parallel_for(gs * s.cg, row_grain(nt * s.l), [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      const int64_t j = t / s.cg, c = t % s.cg;
      A* plane = gx + ((n0 + j) * s.c + g * s.cg + c) * s.h * s.w;
      std::fill(plane, plane + s.h * s.w, A(0));
      for (int64_t k = 0; k < nt; ++k) {
        const Tap& tp = taps[k];
        const A* in = cols + (c * nt + k) * ld + j * s.l;
        for (int64_t oy = tp.sy.lo; oy < tp.sy.hi; ++oy) {
          A* prow = plane + (tp.y0 + oy * sy) * s.w + tp.x0;
          const A* irow = in + oy * s.ow;
          for (int64_t ox = tp.sx.lo; ox < tp.sx.hi; ++ox) prow[ox * sx] += irow[ox];
        }
      }
    }
  });
}

// The rows [og, L] of an output-shaped t [N, O, L] for samples n0 .. n0+gs-1, group g, side by
// side as one GEMM operand [og, gs*L] (gather_group), and such an operand back into t
// (scatter_group).
template <class A, class T>
void gather_group(const T* t, const ConvShape& s, int64_t n0, int64_t gs, int64_t g, A* dst) {
  parallel_for(s.og * gs, row_grain(s.l), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / gs, j = r % gs;
      const T* src = t + ((n0 + j) * s.o + g * s.og + o) * s.l;
      A* out = dst + o * gs * s.l + j * s.l;
      for (int64_t i = 0; i < s.l; ++i) out[i] = cvt<A>(src[i]);
    }
  });
}

template <class A, class T>
void scatter_group(const A* src, const ConvShape& s, int64_t n0, int64_t gs, int64_t g, T* t) {
  parallel_for(s.og * gs, row_grain(s.l), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) {
      const int64_t o = r / gs, j = r % gs;
      const A* in = src + o * gs * s.l + j * s.l;
      T* out = t + ((n0 + j) * s.o + g * s.og + o) * s.l;
      for (int64_t i = 0; i < s.l; ++i) out[i] = cvt<T>(in[i]);
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
    parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) buf[i] = cvt<A>(p[i]);
    });
    return buf.data();
  }
}

template <class A, class T>
void store(const A* src, int64_t n, T* dst) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) dst[i] = cvt<T>(src[i]);
  });
}

// Runs f(n0, gs, cols) for every group of G consecutive samples (the last may be shorter),
// groups in parallel, each thread with its own column buffer [K, G*L]. Inside a group the
// im2col/col2im and the GEMM run on the calling thread then; a single group gets them all.
template <class A, class F>
void for_groups(const ConvShape& s, int64_t G, const F& f) {
  parallel_for((s.n + G - 1) / G, 1, [&](int64_t b, int64_t e) {
    std::vector<A> cols(static_cast<std::size_t>(s.k * std::min(G, s.n) * s.l));
    for (int64_t grp = b; grp < e; ++grp) f(grp * G, std::min(G, s.n - grp * G), cols.data());
  });
}

}  // namespace

void conv2d_kernel(const KernelCall& c) {
  const ConvShape s = conv_shape(c.in[0], c.in[1], c.out[0], ConvParams::from(c.p));
  if (c.out[0].numel() == 0) return;
  visit_float(c.in[0].dtype(), "conv2d", [&]<class T>() {
    using A = gemm_t<T>;
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    if (s.k == 0) {  // no input channels: the sums are empty
      std::fill(y, y + c.out[0].numel(), cvt<T>(0.0));
      return;
    }
    std::vector<A> wbuf;
    const A* w = as_gemm_type<T, A>(c.in[1].data_ptr<T>(), c.in[1].numel(), wbuf);
    for_groups<A>(s, samples_per_gemm<A>(s), [&](int64_t n0, int64_t gs, A* cols) {
      std::vector<A> ybuf;
      for (int64_t g = 0; g < s.groups; ++g) {
        im2col(x, s, n0, gs, g, cols);
        A* dst = nullptr;
        if constexpr (std::is_same_v<T, A>) {
          if (gs == 1) dst = y + (n0 * s.o + g * s.og) * s.l;  // a single sample's rows are y's own
        }
        if (dst == nullptr) {
          ybuf.resize(static_cast<std::size_t>(s.og * gs * s.l));
          dst = ybuf.data();
        }
        gemm<A>(CblasNoTrans, CblasNoTrans, s.og, gs * s.l, s.k, 1.0, w + g * s.og * s.k, s.k, cols, gs * s.l,
                0.0, dst, gs * s.l);
        if (dst == ybuf.data()) scatter_group(dst, s, n0, gs, g, y);
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
    if (s.k == 0 || s.l == 0 || s.og == 0) {  // no taps: the gradient is zero
      T* gx = gx_t.data_ptr<T>();
      std::fill(gx, gx + gx_t.numel(), cvt<T>(0.0));
      return;
    }
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
    for_groups<A>(s, samples_per_gemm<A>(s), [&](int64_t n0, int64_t gs, A* cols) {
      std::vector<A> gybuf;
      for (int64_t g = 0; g < s.groups; ++g) {
        const A* gyg = gy + (n0 * s.o + g * s.og) * s.l;  // a single sample's rows are gy's own
        if (gs > 1) {
          gybuf.resize(static_cast<std::size_t>(s.og * gs * s.l));
          gather_group(gy, s, n0, gs, g, gybuf.data());
          gyg = gybuf.data();
        }
        gemm<A>(CblasTrans, CblasNoTrans, s.k, gs * s.l, s.og, 1.0, w + g * s.og * s.k, s.k, gyg, gs * s.l,
                0.0, cols, gs * s.l);
        col2im(cols, s, n0, gs, g, gx);
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
    T* out = gw_t.data_ptr<T>();
    const int64_t G = samples_per_gemm<A>(s);
    // fixed slices of the batch (whole sample groups), one partial sum each, added in slice
    // order; a single slice sums straight into grad_w when it is float32
    const int64_t ngroups = (s.n + G - 1) / G;
    const int64_t slices = std::max<int64_t>(
        1, std::min({ngroups, kMaxPartials, kPartialsBudget / std::max<int64_t>(wsize, 1)}));
    std::vector<A> partial;
    A* acc = nullptr;
    if constexpr (std::is_same_v<T, A>) {
      if (slices == 1) acc = out;
    }
    if (acc == nullptr) {
      partial.resize(static_cast<std::size_t>(slices * wsize));
      acc = partial.data();
    }
    std::fill(acc, acc + slices * wsize, A(0));
    if (s.l > 0) {
      parallel_for(slices, 1, [&](int64_t b, int64_t e) {
        std::vector<A> cols(static_cast<std::size_t>(s.k * std::min(G, s.n) * s.l)), gybuf;
        for (int64_t sl = b; sl < e; ++sl) {
          A* gw = acc + sl * wsize;
          for (int64_t grp = sl * ngroups / slices; grp < (sl + 1) * ngroups / slices; ++grp) {
            const int64_t n0 = grp * G, gs = std::min(G, s.n - n0);
            for (int64_t g = 0; g < s.groups; ++g) {
              im2col(x, s, n0, gs, g, cols.data());
              const A* gyg = gy + (n0 * s.o + g * s.og) * s.l;  // a single sample's rows are gy's own
              if (gs > 1) {
                gybuf.resize(static_cast<std::size_t>(s.og * gs * s.l));
                gather_group(gy, s, n0, gs, g, gybuf.data());
                gyg = gybuf.data();
              }
              gemm<A>(CblasNoTrans, CblasTrans, s.og, s.k, gs * s.l, 1.0, gyg, gs * s.l, cols.data(),
                      gs * s.l, 1.0, gw + g * s.og * s.k, s.k);
            }
          }
        }
      });
    }
    if (partial.empty()) return;  // summed straight into grad_w
    parallel_for(wsize, kGrain, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        A sum = partial[i];
        for (int64_t sl = 1; sl < slices; ++sl) sum += partial[sl * wsize + i];
        out[i] = cvt<T>(sum);
      }
    });
  });
}

}  // namespace nabla::cpu

// CUDA softmax and log_softmax along one dim, and their backward primitives, with the contract
// of cpu_fallback/softmax.cpp: contiguous inputs seen as [outer, n, inner], one row per
// (outer, inner) pair, elements n apart by `inner`.
//
// The forward pass reads a row twice: once for the online (max, sum of exp(x - max)) state,
// m' = max(m, x), s' = s * exp(m - m') + exp(x - m'), once to write the outputs. Each row
// belongs to one group of G threads: a warp (G = 32) for short dense rows, the block (G = 256)
// for long dense rows, one thread (G = 1) when inner > 1, where neighbouring threads then read
// neighbouring addresses, or a warp when inner > 1 leaves too few rows to fill the device
// (launch_rows). Lane j of a group takes elements j, j + G, ... in order; lanes
// combine in a shuffle tree, warps left to right in thread 0: a fixed order, no atomics, so
// results are bitwise repeatable. Accumulation is in float for float32 and the 16-bit floats
// and in double for float64.
#include <algorithm>
#include <cmath>

#include "core/math/scalar_math.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/kernels/group_reduce.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {
namespace {

template <class A>
struct MaxSum {
  A max;  // -inf: no element yet (or only -inf elements, which add exp(-inf) = 0)
  A sum;
};

// The online-softmax recurrence as an associative combine. A lone element x is {x, 1 + (x - x)}:
// 1 for finite x and NaN for +inf or NaN, which is exp(x - x) as the CPU's two-pass sum has it.
template <class A>
struct MaxSumCombine {
  __device__ MaxSum<A> operator()(MaxSum<A> a, MaxSum<A> b) const {
    const A neg_inf = -static_cast<A>(INFINITY);
    if (b.max == neg_inf) return a;
    if (a.max == neg_inf) return b;
    const A mx = (m::isnan(a.max) || m::isnan(b.max)) ? a.max + b.max : (a.max >= b.max ? a.max : b.max);
    return {mx, a.sum * m::exp(a.max - mx) + b.sum * m::exp(b.max - mx)};
  }
};

// Rows of one group: row r of the [outer, n, inner] view starts at (r / inner) * n * inner +
// r % inner. Loop bounds are uniform over a group, as group_combine needs.
#define NABLA_FOR_EACH_ROW(rows, n, inner)                                      \
  const int64_t groups_per_block = blockDim.x / G;                              \
  const int64_t lane = threadIdx.x % G;                                         \
  for (int64_t r = blockIdx.x * groups_per_block + threadIdx.x / G; r < (rows); \
       r += static_cast<int64_t>(gridDim.x) * groups_per_block)                 \
    if (const int64_t base = (r / (inner)) * (n) * (inner) + r % (inner); true)

template <class T, class A, int G, bool kLog>
__global__ void __launch_bounds__(kBlock)
    softmax_forward_kernel(const T* x, T* y, int64_t rows, int64_t n, int64_t inner) {
  const MaxSumCombine<A> combine;
  NABLA_FOR_EACH_ROW(rows, n, inner) {
    MaxSum<A> st{-static_cast<A>(INFINITY), A(0)};
    for (int64_t i = lane; i < n; i += G) {
      const A v = cvt<A>(x[base + i * inner]);
      st = combine(st, MaxSum<A>{v, A(1) + (v - v)});
    }
    st = group_combine<G>(st, combine);
    const A mx = st.max == -static_cast<A>(INFINITY) ? A(0) : st.max;  // all -inf: sum 0, as the CPU
    const A lse = mx + m::log(st.sum);
    for (int64_t i = lane; i < n; i += G) {
      const int64_t j = base + i * inner;
      const A v = cvt<A>(x[j]);
      y[j] = cvt<T>(kLog ? v - lse : m::exp(v - mx) / st.sum);
    }
  }
}

// softmax:     dx = y * (g - sum(g * y))
// log_softmax: dx = g - exp(y) * sum(g)
template <class T, class A, int G, bool kLog>
__global__ void __launch_bounds__(kBlock)
    softmax_backward_kernel_impl(const T* gy, const T* y, T* gx, int64_t rows, int64_t n, int64_t inner) {
  NABLA_FOR_EACH_ROW(rows, n, inner) {
    A dot = 0;
    for (int64_t i = lane; i < n; i += G) {
      const int64_t j = base + i * inner;
      dot += kLog ? cvt<A>(gy[j]) : cvt<A>(gy[j]) * cvt<A>(y[j]);
    }
    dot = group_combine<G>(dot, AddCombine<A>{});
    for (int64_t i = lane; i < n; i += G) {
      const int64_t j = base + i * inner;
      const A gv = cvt<A>(gy[j]), yv = cvt<A>(y[j]);
      gx[j] = cvt<T>(kLog ? gv - m::exp(yv) * dot : yv * (gv - dot));
    }
  }
}

#undef NABLA_FOR_EACH_ROW

struct RowGeometry {
  int64_t outer = 1, n = 1, inner = 1;
};

RowGeometry rows_of(const Tensor& t, int64_t dim) {
  RowGeometry g;
  for (int64_t d = 0; d < t.dim(); ++d) {
    if (d < dim)
      g.outer *= t.size(d);
    else if (d == dim)
      g.n = t.size(d);
    else
      g.inner *= t.size(d);
  }
  return g;
}

constexpr int kThreads = kBlock;  // the kernels' __launch_bounds__
constexpr int64_t kMaxGrid = 65535LL * 16;

// Below this many rows a strided (inner > 1) softmax cannot fill an H100/H200 (132 SMs x
// 2048 threads) with one thread per row, and each thread walks its whole row alone.
constexpr int64_t kFewStridedRows = 132 * 2048;

// Calls launch.template operator()<G>(blocks, threads) with the group size for the geometry
// (a function of the shape only, so the reduction order, and the result, is too).
template <class L>
void launch_rows(const RowGeometry& g, const L& launch) {
  const int64_t rows = g.outer * g.inner;
  constexpr int64_t kRowsPerBlock = kThreads / 32;
  if (g.inner > 1 && (rows >= kFewStridedRows || g.n < 64)) {
    // one thread per row: consecutive threads take consecutive inner indices, so each load
    // of a warp is one contiguous stretch of a line of the [outer, n, inner] view
    launch.template operator()<1>(std::min((rows + kThreads - 1) / kThreads, kMaxGrid));
  } else if (g.inner > 1) {
    // few long strided rows: a warp per row splits n 32 ways; the block's 8 warps take 8
    // consecutive inner indices, so their loads share sectors in L1
    launch.template operator()<32>(std::min((rows + kRowsPerBlock - 1) / kRowsPerBlock, kMaxGrid));
  } else if (g.n <= 1024) {
    launch.template operator()<32>(std::min((rows + kRowsPerBlock - 1) / kRowsPerBlock, kMaxGrid));
  } else {
    launch.template operator()<kThreads>(std::min(rows, kMaxGrid));
  }
}

template <class T>
using acc_of = compute_t<T>;  // float for float32 and the 16-bit floats, double for float64

template <bool kLog>
void softmax_forward(const KernelCall& c) {
  const RowGeometry g = rows_of(c.in[0], c.p.dim);
  if (c.out[0].numel() == 0) return;
  const int device = c.out[0].device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    const T* x = c.in[0].data_ptr<T>();
    T* y = c.out[0].data_ptr<T>();
    launch_rows(g, [&]<int G>(int64_t blocks) {
      NABLA_LAUNCH(softmax_forward_kernel<T, acc_of<T>, G, kLog>, static_cast<unsigned>(blocks), kThreads, 0,
                   st, x, y, g.outer * g.inner, g.n, g.inner);
    });
  });
}

template <bool kLog>
void softmax_backward(const KernelCall& c) {
  const RowGeometry g = rows_of(c.in[0], c.p.dim);
  if (c.out[0].numel() == 0) return;
  const int device = c.out[0].device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    const T* gy = c.in[0].data_ptr<T>();
    const T* y = c.in[1].data_ptr<T>();
    T* gx = c.out[0].data_ptr<T>();
    launch_rows(g, [&]<int G>(int64_t blocks) {
      NABLA_LAUNCH(softmax_backward_kernel_impl<T, acc_of<T>, G, kLog>, static_cast<unsigned>(blocks),
                   kThreads, 0, st, gy, y, gx, g.outer * g.inner, g.n, g.inner);
    });
  });
}

}  // namespace

void softmax_kernel(const KernelCall& c) { softmax_forward<false>(c); }
void log_softmax_kernel(const KernelCall& c) { softmax_forward<true>(c); }
void softmax_backward_kernel(const KernelCall& c) { softmax_backward<false>(c); }
void log_softmax_backward_kernel(const KernelCall& c) { softmax_backward<true>(c); }

}  // namespace nabla::cuda

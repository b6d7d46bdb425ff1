// CUDA softmax and log_softmax along one dim, and their backward primitives, with the contract
// of cpu_fallback/softmax.cpp: contiguous inputs seen as [outer, n, inner], one row per
// (outer, inner) pair, elements n apart by `inner`.
//
// The forward pass reads a row twice: once for the online (max, sum of exp(x - max)) state of
// core/math/softmax.h, once to write the outputs with the row formulas the CPU uses. Each row
// belongs to one group of G threads: a warp (G = 32) for short dense rows, the block (G = 256)
// for long dense rows, one thread (G = 1) when inner > 1, where neighbouring threads then read
// neighbouring addresses, or a warp when inner > 1 leaves too few rows to fill the device
// (launch_rows). Lane j of a group takes elements j, j + G, ... in order; lanes
// combine in a shuffle tree, warps left to right in thread 0: a fixed order, no atomics, so
// results are bitwise repeatable. Accumulation is in float for float32 and the 16-bit floats
// and in double for float64.
#include <algorithm>
#include <cmath>

#include "core/math/softmax.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/kernels/group_reduce.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_softmax.h"

namespace nabla::cuda {
namespace {

// Rows of one group, with `base` the offset of the row's element 0. Loop bounds are uniform
// over a group, as group_combine needs.
#define NABLA_FOR_EACH_ROW(g)                                                       \
  const int64_t groups_per_block = blockDim.x / G;                                  \
  const int64_t lane = threadIdx.x % G;                                             \
  for (int64_t r = blockIdx.x * groups_per_block + threadIdx.x / G; r < (g).rows(); \
       r += static_cast<int64_t>(gridDim.x) * groups_per_block)                     \
    if (const int64_t base = (g).base(r); true)

template <class T, class A, int G, bool kLog>
__global__ void __launch_bounds__(kBlock) softmax_forward_kernel(const T* x, T* y, math::SoftmaxRows g) {
  using Online = math::OnlineSoftmax<A>;
  NABLA_FOR_EACH_ROW(g) {
    typename Online::acc st = Online::init();
    for (int64_t i = lane; i < g.n; i += G) st = Online::step(st, cvt<A>(x[base + i * g.inner]));
    const math::SoftmaxRow<A> row = Online::finish(group_combine<G>(st, Online{}));
    const A lse = row.lse();
    for (int64_t i = lane; i < g.n; i += G) {
      const int64_t j = base + i * g.inner;
      const A v = cvt<A>(x[j]);
      y[j] = cvt<T>(kLog ? row.log_prob(v, lse) : row.prob(v));
    }
  }
}

template <class T, class A, int G, bool kLog>
__global__ void __launch_bounds__(kBlock)
    softmax_backward_kernel_impl(const T* gy, const T* y, T* gx, math::SoftmaxRows g) {
  NABLA_FOR_EACH_ROW(g) {
    A dot = 0;
    for (int64_t i = lane; i < g.n; i += G) {
      const int64_t j = base + i * g.inner;
      dot += math::softmax_backward_term<kLog>(cvt<A>(gy[j]), cvt<A>(y[j]));
    }
    dot = group_combine<G>(dot, AddCombine<A>{});
    for (int64_t i = lane; i < g.n; i += G) {
      const int64_t j = base + i * g.inner;
      gx[j] = cvt<T>(math::softmax_backward<kLog>(cvt<A>(gy[j]), cvt<A>(y[j]), dot));
    }
  }
}

#undef NABLA_FOR_EACH_ROW

constexpr int kThreads = kBlock;  // the kernels' __launch_bounds__
constexpr int64_t kMaxGrid = 65535LL * 16;

// Below this many rows a strided (inner > 1) softmax cannot fill an H100/H200 (132 SMs x
// 2048 threads) with one thread per row, and each thread walks its whole row alone.
constexpr int64_t kFewStridedRows = 132 * 2048;

// Calls launch.template operator()<G>(blocks) with the group size for the geometry (a
// function of the shape only, so the reduction order, and the result, is too).
template <class L>
void launch_rows(const math::SoftmaxRows& g, const L& launch) {
  const int64_t rows = g.rows();
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

// Calls kernel.template operator()<T, G>(blocks, stream, geometry) for the call's dtype and
// geometry; the forward and backward kernels differ only in what that launches.
template <class K>
void launch_softmax(const KernelCall& c, const K& kernel) {
  const auto g = math::SoftmaxRows::along(c.in[0].sizes(), SoftmaxParams::from(c.p).dim);
  if (c.out[0].numel() == 0) return;
  const int device = c.out[0].device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  visit_float(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    launch_rows(g, [&]<int G>(int64_t blocks) {
      kernel.template operator()<T, G>(static_cast<unsigned>(blocks), st, g);
    });
  });
}

template <class T>
using acc_of = compute_t<T>;  // float for float32 and the 16-bit floats, double for float64

template <bool kLog>
void softmax_forward(const KernelCall& c) {
  launch_softmax(c, [&]<class T, int G>(unsigned blocks, cudaStream_t st, const math::SoftmaxRows& g) {
    NABLA_LAUNCH(softmax_forward_kernel<T, acc_of<T>, G, kLog>, blocks, kThreads, 0, st,
                 c.in[0].data_ptr<T>(), c.out[0].data_ptr<T>(), g);
  });
}

template <bool kLog>
void softmax_backward(const KernelCall& c) {
  launch_softmax(c, [&]<class T, int G>(unsigned blocks, cudaStream_t st, const math::SoftmaxRows& g) {
    NABLA_LAUNCH(softmax_backward_kernel_impl<T, acc_of<T>, G, kLog>, blocks, kThreads, 0, st,
                 c.in[0].data_ptr<T>(), c.in[1].data_ptr<T>(), c.out[0].data_ptr<T>(), g);
  });
}

}  // namespace

NABLA_DEFINE_SOFTMAX_KERNELS()

}  // namespace nabla::cuda

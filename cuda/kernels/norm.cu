// CUDA kernels of layer norm (forward and backward) and nabla's own batch norm kernels (used
// where cuDNN's are not: see norm.h). Formulas are core/math/norm.h's, as the CPU reference.
//
// Every sum has a fixed order (group_reduce.cuh: lanes in a shuffle tree, warps left to right)
// that depends only on the shapes, so results are bitwise repeatable without atomics.
// Accumulation is in float for float32 and the 16-bit floats, in double for float64; the
// statistics are two-pass (mean first, then squared deviations from it), as on the CPU.
//   - layer norm: one row per warp (rows up to kWarpCols long) or per block; the weight and
//     bias gradients are column sums over rows: blocks of 32 columns x a fixed number of row
//     chunks write partial sums, and a second kernel adds each column's chunks in order;
//   - batch norm: one block per channel, its threads stepping over the channel's N * L values.
#include <algorithm>

#include "core/math/norm.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/kernels/group_reduce.cuh"
#include "cuda/kernels/norm.h"
#include "cuda/launch.cuh"
#include "ops/params_norm.h"

namespace nabla::cuda {
namespace {

// The accumulation type, which is also the statistics' element type (ops.def).
template <class T>
using acc_of = std::conditional_t<std::is_same_v<T, double>, double, float>;

template <class A>
struct Pair {
  A a, b;
};
template <class A>
struct PairAdd {
  __device__ Pair<A> operator()(Pair<A> x, Pair<A> y) const { return {x.a + y.a, x.b + y.b}; }
};

constexpr int kThreads = kBlock;     // the kernels' __launch_bounds__
constexpr int64_t kWarpCols = 1024;  // longer layer-norm rows take a whole block
constexpr int64_t kMaxGrid = 65535LL * 8;

// Rows of a [rows, cols] matrix, one per group of G lanes; the loop bounds are uniform over a
// group, as group_combine needs.
#define NABLA_FOR_EACH_ROW(rows)                                                                    \
  const int64_t lane = threadIdx.x % G;                                                             \
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x / G) + threadIdx.x / G; r < (rows); \
       r += static_cast<int64_t>(gridDim.x) * (blockDim.x / G))

template <class T, int G>
__global__ void __launch_bounds__(kBlock)
    layer_norm_forward(const T* x, const T* w, const T* b, T* y, acc_of<T>* mean_out, acc_of<T>* rstd_out,
                       int64_t rows, int64_t cols, acc_of<T> eps) {
  using A = acc_of<T>;
  NABLA_FOR_EACH_ROW(rows) {
    const T* p = x + r * cols;
    A s = 0;
    for (int64_t j = lane; j < cols; j += G) s += cvt<A>(p[j]);
    const A mean = group_combine<G>(s, AddCombine<A>{}) / static_cast<A>(cols);
    A sq = 0;
    for (int64_t j = lane; j < cols; j += G) {
      const A d = cvt<A>(p[j]) - mean;
      sq += d * d;
    }
    const A rstd = math::norm_invstd(group_combine<G>(sq, AddCombine<A>{}) / static_cast<A>(cols), eps);
    if (lane == 0) {
      mean_out[r] = mean;
      rstd_out[r] = rstd;
    }
    T* q = y + r * cols;
    for (int64_t j = lane; j < cols; j += G)
      q[j] = cvt<T>((cvt<A>(p[j]) - mean) * rstd * cvt<A>(w[j]) + cvt<A>(b[j]));
  }
}

template <class T, int G>
__global__ void __launch_bounds__(kBlock)
    layer_norm_backward_input(const T* g, const T* x, const T* w, const acc_of<T>* mean_in,
                              const acc_of<T>* rstd_in, T* gx, int64_t rows, int64_t cols) {
  using A = acc_of<T>;
  NABLA_FOR_EACH_ROW(rows) {
    const T* gp = g + r * cols;
    const T* xp = x + r * cols;
    const A mean = mean_in[r], rstd = rstd_in[r];
    Pair<A> s{0, 0};  // sum h, sum h xhat, with h = g w
    for (int64_t j = lane; j < cols; j += G) {
      const A h = cvt<A>(gp[j]) * cvt<A>(w[j]);
      s.a += h;
      s.b += h * (cvt<A>(xp[j]) - mean) * rstd;
    }
    s = group_combine<G>(s, PairAdd<A>{});
    const A mean_h = s.a / static_cast<A>(cols), mean_hx = s.b / static_cast<A>(cols);
    T* out = gx + r * cols;
    for (int64_t j = lane; j < cols; j += G) {
      const A xhat = (cvt<A>(xp[j]) - mean) * rstd;
      out[j] = cvt<T>(math::norm_grad_input(cvt<A>(gp[j]) * cvt<A>(w[j]), xhat, rstd, mean_h, mean_hx));
    }
  }
}

#undef NABLA_FOR_EACH_ROW

// First pass of the weight and bias gradients: block (32, kChunkLanes) sums the rows of chunk
// blockIdx.y for 32 columns; partial[0 | 1][chunk][col] = sum g xhat | sum g.
constexpr int kChunkLanes = 8;
static_assert(32 * kChunkLanes <= kBlock, "layer_norm_param_partials' block exceeds its launch bound");

template <class T>
__global__ void __launch_bounds__(kBlock)
    layer_norm_param_partials(const T* g, const T* x, const acc_of<T>* mean_in, const acc_of<T>* rstd_in,
                              acc_of<T>* partial, int64_t rows, int64_t cols, int64_t rows_per_chunk) {
  using A = acc_of<T>;
  __shared__ Pair<A> part[kChunkLanes][33];
  const int64_t col = blockIdx.x * 32LL + threadIdx.x;
  const int64_t begin = blockIdx.y * rows_per_chunk, end = min(begin + rows_per_chunk, rows);
  Pair<A> s{0, 0};
  if (col < cols) {
    for (int64_t r = begin + threadIdx.y; r < end; r += kChunkLanes) {
      const A gv = cvt<A>(g[r * cols + col]);
      s.a += gv * (cvt<A>(x[r * cols + col]) - mean_in[r]) * rstd_in[r];
      s.b += gv;
    }
  }
  part[threadIdx.y][threadIdx.x] = s;
  __syncthreads();
  if (threadIdx.y == 0 && col < cols) {
    for (int k = 1; k < kChunkLanes; ++k) s = PairAdd<A>{}(s, part[k][threadIdx.x]);
    const int64_t chunks = gridDim.y;
    partial[blockIdx.y * cols + col] = s.a;
    partial[(chunks + blockIdx.y) * cols + col] = s.b;
  }
}

// Second pass: each column's chunks in chunk order.
template <class T>
__global__ void __launch_bounds__(kBlock)
    layer_norm_param_finish(const acc_of<T>* partial, T* gw, T* gb, int64_t chunks, int64_t cols) {
  using A = acc_of<T>;
  for (int64_t col = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; col < cols;
       col += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    A sw = 0, sb = 0;
    for (int64_t k = 0; k < chunks; ++k) {
      sw += partial[k * cols + col];
      sb += partial[(chunks + k) * cols + col];
    }
    gw[col] = cvt<T>(sw);
    gb[col] = cvt<T>(sb);
  }
}

unsigned grid_for(int64_t groups, int64_t per_block) {
  return static_cast<unsigned>(std::clamp<int64_t>((groups + per_block - 1) / per_block, 1, kMaxGrid));
}

// Runs launch.template operator()<G>(blocks) with the lanes per row for `cols`.
template <class L>
void by_row_width(int64_t rows, int64_t cols, const L& launch) {
  if (cols <= kWarpCols)
    launch.template operator()<32>(grid_for(rows, kThreads / 32));
  else
    launch.template operator()<kThreads>(grid_for(rows, 1));
}

// ---- batch norm: x [N, C, L]; the values of channel k are x[(i * C + k) * L + j] ----

__device__ inline int64_t bn_at(int64_t v, int64_t k, int64_t ch, int64_t l) {
  return ((v / l) * ch + k) * l + v % l;
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    batch_norm_forward(const T* x, const acc_of<T>* w, const acc_of<T>* b, T* y, acc_of<T>* mean_out,
                       acc_of<T>* invstd_out, int64_t n, int64_t ch, int64_t l, acc_of<T> eps) {
  using A = acc_of<T>;
  const int64_t m = n * l;
  for (int64_t k = blockIdx.x; k < ch; k += gridDim.x) {
    A s = 0;
    for (int64_t v = threadIdx.x; v < m; v += blockDim.x) s += cvt<A>(x[bn_at(v, k, ch, l)]);
    const A mean = group_combine<kThreads>(s, AddCombine<A>{}) / static_cast<A>(m);
    A sq = 0;
    for (int64_t v = threadIdx.x; v < m; v += blockDim.x) {
      const A d = cvt<A>(x[bn_at(v, k, ch, l)]) - mean;
      sq += d * d;
    }
    const A invstd = math::norm_invstd(group_combine<kThreads>(sq, AddCombine<A>{}) / static_cast<A>(m), eps);
    if (threadIdx.x == 0) {
      mean_out[k] = mean;
      invstd_out[k] = invstd;
    }
    const A scale = w[k] * invstd, shift = b[k] - mean * scale;
    for (int64_t v = threadIdx.x; v < m; v += blockDim.x) {
      const int64_t at = bn_at(v, k, ch, l);
      y[at] = cvt<T>(cvt<A>(x[at]) * scale + shift);
    }
  }
}

template <class T>
__global__ void __launch_bounds__(kBlock)
    batch_norm_backward(const T* g, const T* x, const acc_of<T>* w, const acc_of<T>* mean_in,
                        const acc_of<T>* invstd_in, T* gx, acc_of<T>* gw, acc_of<T>* gb, int64_t n,
                        int64_t ch, int64_t l) {
  using A = acc_of<T>;
  const int64_t m = n * l;
  for (int64_t k = blockIdx.x; k < ch; k += gridDim.x) {
    const A mean = mean_in[k], invstd = invstd_in[k];
    Pair<A> s{0, 0};  // sum g xhat, sum g
    for (int64_t v = threadIdx.x; v < m; v += blockDim.x) {
      const int64_t at = bn_at(v, k, ch, l);
      const A gv = cvt<A>(g[at]);
      s.a += gv * (cvt<A>(x[at]) - mean) * invstd;
      s.b += gv;
    }
    s = group_combine<kThreads>(s, PairAdd<A>{});
    if (threadIdx.x == 0) {
      gw[k] = s.a;
      gb[k] = s.b;
    }
    // h = g w, so mean(h) = w mean(g) and mean(h xhat) = w mean(g xhat)
    const A wk = w[k];
    const A mean_h = wk * s.b / static_cast<A>(m), mean_hx = wk * s.a / static_cast<A>(m);
    for (int64_t v = threadIdx.x; v < m; v += blockDim.x) {
      const int64_t at = bn_at(v, k, ch, l);
      const A xhat = (cvt<A>(x[at]) - mean) * invstd;
      gx[at] = cvt<T>(math::norm_grad_input(wk * cvt<A>(g[at]), xhat, invstd, mean_h, mean_hx));
    }
  }
}

// Calls f.template operator()<T>(stream) on x's device, with T x's element type.
template <class F>
void on_device(const Tensor& x, const char* op, const F& f) {
  visit_float(x.dtype(), op, [&]<class T>() {
    const int d = x.device().index;
    set_device(d);
    f.template operator()<T>(stream(d));
  });
}

// Batch norm's launch over x [N, C, L], one block per channel: f.template operator()<T>(blocks,
// stream); nothing for an empty x.
template <class F>
void per_channel(const Tensor& x, const char* op, const F& f) {
  if (x.numel() == 0) return;
  on_device(x, op, [&]<class T>(cudaStream_t s) { f.template operator()<T>(grid_for(x.size(1), 1), s); });
}

}  // namespace

void layer_norm_kernel(const KernelCall& c) {
  // (x [M, N], weight [N], bias [N]) -> (y, mean [M], rstd [M])
  const Tensor& x = c.in[0];
  const int64_t rows = x.size(0), cols = x.size(1);
  if (rows == 0) return;
  const double eps = NormParams::from(c.p).eps;
  on_device(x, "layer_norm", [&]<class T>(cudaStream_t s) {
    using A = acc_of<T>;
    by_row_width(rows, cols, [&]<int G>(unsigned blocks) {
      NABLA_LAUNCH(layer_norm_forward<T, G>, blocks, kThreads, 0, s, x.data_ptr<T>(), c.in[1].data_ptr<T>(),
                   c.in[2].data_ptr<T>(), c.out[0].data_ptr<T>(), c.out[1].data_ptr<A>(),
                   c.out[2].data_ptr<A>(), rows, cols, static_cast<A>(eps));
    });
  });
}

void layer_norm_backward_kernel(const KernelCall& c) {
  // (grad, x, weight, mean, rstd) -> (grad_x, grad_weight, grad_bias)
  const Tensor& x = c.in[1];
  const int64_t rows = x.size(0), cols = x.size(1);
  on_device(x, "layer_norm_backward", [&]<class T>(cudaStream_t s) {
    using A = acc_of<T>;
    if (rows == 0) {  // empty sums
      for (int i = 1; i < 3; ++i) {
        Tensor o = c.out[i];
        o.zero_();
      }
      return;
    }
    const T* g = c.in[0].data_ptr<T>();
    const A* mean = c.in[3].data_ptr<A>();
    const A* rstd = c.in[4].data_ptr<A>();
    // A fixed number of row chunks for the column sums: it depends on `rows` only, so the
    // order of every sum does too.
    const int64_t chunks = std::clamp<int64_t>((rows + 63) / 64, 1, 512);
    const int64_t rows_per_chunk = (rows + chunks - 1) / chunks;
    const Tensor partial = make_tensor({2, chunks, cols}, dtype_of<A>(), x.device(), "layer_norm_backward");
    by_row_width(rows, cols, [&]<int G>(unsigned blocks) {
      NABLA_LAUNCH(layer_norm_backward_input<T, G>, blocks, kThreads, 0, s, g, x.data_ptr<T>(),
                   c.in[2].data_ptr<T>(), mean, rstd, c.out[0].data_ptr<T>(), rows, cols);
    });
    const dim3 grid(static_cast<unsigned>((cols + 31) / 32), static_cast<unsigned>(chunks));
    NABLA_LAUNCH(layer_norm_param_partials<T>, grid, dim3(32, kChunkLanes), 0, s, g, x.data_ptr<T>(), mean,
                 rstd, partial.data_ptr<A>(), rows, cols, rows_per_chunk);
    NABLA_LAUNCH(layer_norm_param_finish<T>, grid_for(cols, kThreads), kThreads, 0, s, partial.data_ptr<A>(),
                 c.out[1].data_ptr<T>(), c.out[2].data_ptr<T>(), chunks, cols);
  });
}

void batch_norm_cuda(const KernelCall& c) {
  const Tensor& x = c.in[0];
  const double eps = NormParams::from(c.p).eps;
  per_channel(x, "batch_norm", [&]<class T>(unsigned blocks, cudaStream_t s) {
    using A = acc_of<T>;
    NABLA_LAUNCH(batch_norm_forward<T>, blocks, kThreads, 0, s, x.data_ptr<T>(), c.in[1].data_ptr<A>(),
                 c.in[2].data_ptr<A>(), c.out[0].data_ptr<T>(), c.out[1].data_ptr<A>(),
                 c.out[2].data_ptr<A>(), x.size(0), x.size(1), x.size(2), static_cast<A>(eps));
  });
}

void batch_norm_backward_cuda(const KernelCall& c) {
  const Tensor& x = c.in[1];
  per_channel(x, "batch_norm_backward", [&]<class T>(unsigned blocks, cudaStream_t s) {
    using A = acc_of<T>;
    NABLA_LAUNCH(batch_norm_backward<T>, blocks, kThreads, 0, s, c.in[0].data_ptr<T>(), x.data_ptr<T>(),
                 c.in[2].data_ptr<A>(), c.in[3].data_ptr<A>(), c.in[4].data_ptr<A>(), c.out[0].data_ptr<T>(),
                 c.out[1].data_ptr<A>(), c.out[2].data_ptr<A>(), x.size(0), x.size(1), x.size(2));
  });
}

}  // namespace nabla::cuda

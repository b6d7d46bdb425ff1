// CUDA reductions over any set of dims: the core/math/reduce.h reducers of the CPU reference
// (cpu_fallback/reduce.cpp) run over the same outer/inner geometry, with the GPU's own
// accumulators (float for float32 and the 16-bit floats, double for float64, int64 for
// integers).
//
// Results are bitwise repeatable: there are no atomics, and how the reduced elements are
// split among threads, blocks and partials depends only on the shapes and strides, never on
// the device or on timing. Two kernels do the first pass:
//   - block_reduce_kernel: one block per (output, chunk); thread t steps over elements
//     t, t + blockDim, ... of the chunk in order, then a shuffle tree per warp and thread 0
//     combining the warps' results left to right. Used when the reduced elements are dense.
//   - thread_reduce_kernel: one thread per (output, chunk), stepping through the chunk in
//     order. Used when the outputs are dense in memory and the reduced elements are not
//     (e.g. a sum over dim 0), so neighbouring threads read neighbouring addresses.
// A long reduction with few outputs is split into chunks whose partial accumulators go to a
// scratch buffer; finish_kernel combines them in chunk order, one thread per output.
#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <vector>

#include "core/math/reduce.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/kernels/group_reduce.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {

std::shared_ptr<Storage> cuda_allocate(std::size_t nbytes, Device device);  // cuda/allocator.cpp

namespace {

// The GPU accumulator: float for float32/float16/bfloat16, double for float64, int64 else.
template <class T>
using gpu_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, compute_t<T>, int64_t>;

// Outer dims (not reduced, row-major = output order) and inner dims (reduced, row-major =
// the logical index passed to step), size-1 dims dropped and contiguous neighbours merged.
struct ReduceGeom {
  int outer_nd = 0, inner_nd = 0;
  int64_t outer_sizes[kMaxDims], outer_strides[kMaxDims];
  int64_t inner_sizes[kMaxDims], inner_strides[kMaxDims];
  int64_t m = 1, k = 1;  // output count, elements per output
};

// Merges dim i into dim i-1 where the pair is one contiguous run (row-major order kept).
void coalesce(std::vector<int64_t>& sizes, std::vector<int64_t>& strides) {
  if (sizes.empty()) return;
  std::size_t w = 0;
  for (std::size_t i = 1; i < sizes.size(); ++i) {
    if (strides[w] == strides[i] * sizes[i]) {
      sizes[w] *= sizes[i];
      strides[w] = strides[i];
    } else {
      ++w;
      sizes[w] = sizes[i];
      strides[w] = strides[i];
    }
  }
  sizes.resize(w + 1);
  strides.resize(w + 1);
}

ReduceGeom make_geom(const Tensor& x, const std::vector<int64_t>& dims, std::string_view op) {
  ReduceGeom g;
  std::vector<bool> reduced(static_cast<std::size_t>(x.dim()), false);
  for (int64_t d : dims) reduced[static_cast<std::size_t>(d)] = true;
  std::vector<int64_t> os, ost, is, ist;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t s = x.sizes()[d];
    if (reduced[static_cast<std::size_t>(d)]) {
      g.k *= s;
      if (s != 1) {
        is.push_back(s);
        ist.push_back(x.strides()[d]);
      }
    } else {
      g.m *= s;
      if (s != 1) {
        os.push_back(s);
        ost.push_back(x.strides()[d]);
      }
    }
  }
  coalesce(os, ost);
  coalesce(is, ist);
  if (is.empty()) {
    is.push_back(1);
    ist.push_back(0);
  }
  NABLA_CHECK(
      os.size() <= static_cast<std::size_t>(kMaxDims) && is.size() <= static_cast<std::size_t>(kMaxDims),
      "{}: the CUDA reduction supports at most {} non-mergeable dims (input shape {})", op, kMaxDims,
      x.shape_str());
  g.outer_nd = static_cast<int>(os.size());
  g.inner_nd = static_cast<int>(is.size());
  for (int d = 0; d < g.outer_nd; ++d) {
    g.outer_sizes[d] = os[static_cast<std::size_t>(d)];
    g.outer_strides[d] = ost[static_cast<std::size_t>(d)];
  }
  for (int d = 0; d < g.inner_nd; ++d) {
    g.inner_sizes[d] = is[static_cast<std::size_t>(d)];
    g.inner_strides[d] = ist[static_cast<std::size_t>(d)];
  }
  return g;
}

__device__ inline int64_t outer_offset(const ReduceGeom& g, int64_t o) {
  int64_t off = 0;
  for (int d = g.outer_nd - 1; d >= 0; --d) {
    off += (o % g.outer_sizes[d]) * g.outer_strides[d];
    o /= g.outer_sizes[d];
  }
  return off;
}

__device__ inline int64_t inner_offset(const ReduceGeom& g, int64_t i) {
  if (g.inner_nd == 1) return i * g.inner_strides[0];
  int64_t off = 0;
  for (int d = g.inner_nd - 1; d >= 0; --d) {
    off += (i % g.inner_sizes[d]) * g.inner_strides[d];
    i /= g.inner_sizes[d];
  }
  return off;
}

template <class T, class R>
__device__ inline typename R::acc step_at(const R& r, typename R::acc a, const T* base, const ReduceGeom& g,
                                          int64_t i) {
  using V = typename R::value;
  return r.step(a, static_cast<V>(cvt<compute_t<T>>(base[inner_offset(g, i)])), i);
}

// Fixed-order block reduction; the result is valid in thread 0. blockDim.x is a multiple of
// 32 and every thread of the block calls it.
template <class R>
__device__ inline typename R::acc block_combine(const R& r, typename R::acc a) {
  using A = typename R::acc;
  __shared__ alignas(16) unsigned char raw[32 * sizeof(A)];
  A* smem = reinterpret_cast<A*>(raw);
  for (unsigned off = 16; off > 0; off >>= 1) a = r.combine(a, shfl_down(a, off));
  const unsigned nwarps = blockDim.x / 32;
  if (nwarps == 1) return a;
  const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // smem may still be read by thread 0 of the previous output
  if (lane == 0) smem[warp] = a;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (unsigned w = 1; w < nwarps; ++w) a = r.combine(a, smem[w]);
  }
  return a;
}

// Writes finish(a) to out[o] when there is one chunk, else a to partial[o * splits + s].
template <class O, class R>
__device__ inline void store(const R& r, typename R::acc a, O* out, typename R::acc* partial, int64_t o,
                             int64_t s, int64_t splits, int64_t k) {
  if (splits == 1)
    out[o] = cvt<O>(r.finish(a, k));
  else
    partial[o * splits + s] = a;
}

template <class T, class O, class R>
__global__ void __launch_bounds__(kBlock)
    block_reduce_kernel(const T* x, O* out, typename R::acc* partial, ReduceGeom g, int64_t chunk,
                        int64_t splits, R r) {
  const int64_t s = blockIdx.y;
  const int64_t k0 = s * chunk, k1 = min(g.k, k0 + chunk);
  for (int64_t o = blockIdx.x; o < g.m; o += gridDim.x) {
    const T* base = x + outer_offset(g, o);
    typename R::acc a = r.init();
    for (int64_t i = k0 + threadIdx.x; i < k1; i += blockDim.x) a = step_at(r, a, base, g, i);
    a = block_combine(r, a);
    if (threadIdx.x == 0) store(r, a, out, partial, o, s, splits, g.k);
  }
}

template <class T, class O, class R>
__global__ void __launch_bounds__(kBlock)
    thread_reduce_kernel(const T* x, O* out, typename R::acc* partial, ReduceGeom g, int64_t chunk,
                         int64_t splits, R r) {
  const int64_t s = blockIdx.y;
  const int64_t k0 = s * chunk, k1 = min(g.k, k0 + chunk);
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < g.m;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const T* base = x + outer_offset(g, o);
    typename R::acc a = r.init();
    for (int64_t i = k0; i < k1; ++i) a = step_at(r, a, base, g, i);
    store(r, a, out, partial, o, s, splits, g.k);
  }
}

template <class O, class R>
__global__ void __launch_bounds__(kBlock)
    finish_kernel(const typename R::acc* partial, O* out, int64_t m, int64_t splits, int64_t k, R r) {
  for (int64_t o = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; o < m;
       o += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    typename R::acc a = partial[o * splits];
    for (int64_t s = 1; s < splits; ++s) a = r.combine(a, partial[o * splits + s]);
    out[o] = cvt<O>(r.finish(a, k));
  }
}

constexpr int64_t kMaxGrid = 65535LL * 16;
constexpr int64_t kMaxSplits = 65535;
constexpr int64_t kBlockChunk = 16384;    // elements per block before a reduction is split
constexpr int64_t kBlockTarget = 1024;    // blocks worth filling the GPU with
constexpr int64_t kThreadChunk = 256;     // elements per thread before a reduction is split
constexpr int64_t kThreadTarget = 65536;  // threads worth filling the GPU with

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// out (contiguous, reduced shape, dtype O) = finish(reduce(x over p.dims)).
template <class T, class O, class R>
void reduce_cuda(const KernelCall& c, const R& r) {
  using A = typename R::acc;
  const Tensor& x = c.in[0];
  const Tensor& out = c.out[0];
  const ReduceGeom g = make_geom(x, c.p.dims, op_name(c.op));
  if (g.m == 0) return;
  const bool inner_dense = g.inner_strides[g.inner_nd - 1] == 1 && g.inner_sizes[g.inner_nd - 1] > 1;
  const bool outer_dense = g.outer_nd > 0 && g.outer_strides[g.outer_nd - 1] == 1;
  const bool per_thread = (outer_dense && !inner_dense) || (g.k <= 16 && g.m > 1);

  int64_t splits = 1, chunk = g.k;
  if (g.k > 0) {
    const int64_t min_chunk = per_thread ? kThreadChunk : kBlockChunk;
    const int64_t target = per_thread ? kThreadTarget : kBlockTarget;
    splits = std::clamp<int64_t>(std::min(ceil_div(g.k, min_chunk), target / g.m), 1, kMaxSplits);
    chunk = ceil_div(g.k, splits);
    splits = ceil_div(g.k, chunk);
  }

  const int device = out.device().index;
  set_device(device);
  cudaStream_t st = stream(device);
  std::shared_ptr<Storage> scratch;  // freed after the launches: reuse is in stream order
  A* partial = nullptr;
  if (splits > 1) {
    scratch = cuda_allocate(static_cast<std::size_t>(g.m * splits) * sizeof(A), out.device());
    partial = static_cast<A*>(scratch->data);
  }
  const T* xp = x.data_ptr<T>();
  O* op = out.data_ptr<O>();
  if (per_thread) {
    constexpr int kThreads = kBlock;  // the kernels' __launch_bounds__
    const dim3 grid(static_cast<unsigned>(std::min(ceil_div(g.m, kThreads), kMaxGrid)),
                    static_cast<unsigned>(splits));
    NABLA_LAUNCH(thread_reduce_kernel<T, O, R>, grid, kThreads, 0, st, xp, op, partial, g, chunk, splits, r);
  } else {
    const int64_t per_block = std::max<int64_t>(1, chunk);
    const int threads = static_cast<int>(std::min<int64_t>(kBlock, ceil_div(per_block, 32) * 32));
    const dim3 grid(static_cast<unsigned>(std::min(g.m, kMaxGrid)), static_cast<unsigned>(splits));
    NABLA_LAUNCH(block_reduce_kernel<T, O, R>, grid, threads, 0, st, xp, op, partial, g, chunk, splits, r);
  }
  if (splits > 1) {
    const unsigned blocks = static_cast<unsigned>(std::min(ceil_div(g.m, kBlock), kMaxGrid));
    NABLA_LAUNCH(finish_kernel<O, R>, blocks, kBlock, 0, st, partial, op, g.m, splits, g.k, r);
  }
}

template <class V>
constexpr V lowest() {
  if constexpr (std::numeric_limits<V>::has_infinity)
    return -std::numeric_limits<V>::infinity();
  else
    return std::numeric_limits<V>::lowest();
}
template <class V>
constexpr V highest() {
  if constexpr (std::numeric_limits<V>::has_infinity)
    return std::numeric_limits<V>::infinity();
  else
    return std::numeric_limits<V>::max();
}

// Sums and products: the front end's output dtype is the input's for floats, int64 for
// integers and bool (ops/reduce.cpp sum_dtype).
template <template <class> class R>
void sum_like(const KernelCall& c) {
  const char* name = op_name(c.op).data();
  visit_dtype(c.in[0].dtype(), name, [&]<class T>() {
    using O = std::conditional_t<std::is_floating_point_v<compute_t<T>>, T, int64_t>;
    NABLA_CHECK(c.out[0].dtype() == dtype_of<O>(), "{}: CUDA output dtype {} not supported for input {}",
                name, dtype_name(c.out[0].dtype()), dtype_name(c.in[0].dtype()));
    reduce_cuda<T, O>(c, R<gpu_acc_t<T>>{});
  });
}

}  // namespace

void sum_kernel(const KernelCall& c) { sum_like<math::SumReducer>(c); }
void prod_kernel(const KernelCall& c) { sum_like<math::ProdReducer>(c); }
void mean_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "mean",
              [&]<class T>() { reduce_cuda<T, T>(c, math::MeanReducer<gpu_acc_t<T>>{}); });
}
void amax_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "amax", [&]<class T>() {
    using V = compute_t<T>;
    reduce_cuda<T, T>(c, math::MaxReducer<V>{lowest<V>()});
  });
}
void amin_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "amin", [&]<class T>() {
    using V = compute_t<T>;
    reduce_cuda<T, T>(c, math::MinReducer<V>{highest<V>()});
  });
}
void argmax_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "argmax", [&]<class T>() {
    using V = compute_t<T>;
    reduce_cuda<T, int64_t>(c, math::ArgReducer<V, true>{lowest<V>()});
  });
}
void argmin_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "argmin", [&]<class T>() {
    using V = compute_t<T>;
    reduce_cuda<T, int64_t>(c, math::ArgReducer<V, false>{highest<V>()});
  });
}
void var_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "var",
              [&]<class T>() { reduce_cuda<T, T>(c, math::VarReducer<gpu_acc_t<T>, false>{c.p.i0}); });
}
void std_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "std",
              [&]<class T>() { reduce_cuda<T, T>(c, math::VarReducer<gpu_acc_t<T>, true>{c.p.i0}); });
}
void logsumexp_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "logsumexp", [&]<class T>() {
    using A = gpu_acc_t<T>;
    reduce_cuda<T, T>(c, math::LogSumExpReducer<A>{});
  });
}
void norm_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "norm",
              [&]<class T>() { reduce_cuda<T, T>(c, math::NormReducer<gpu_acc_t<T>>{c.p.s0.to_double()}); });
}

}  // namespace nabla::cuda

// CUDA kernels of the fused attention pair, with the contract of cpu_fallback/attention.cpp
// and its math (core/math/attention.h: the online softmax, the masks, the dropout draws).
//
// Layout: a block of kAttnWarps warps takes kAttnWarps consecutive rows of one batch-head, a
// warp per row. Tiles of the other operand (keys and values in the forward and the dq pass,
// queries and output gradients in the dk/dv pass) are staged in dynamic shared memory in the
// accumulation type (float for float32 and the 16-bit floats, double for float64), rows
// padded by one element so that lanes reading different rows of a tile hit different banks.
// Within a tile lane l scores the tile's rows l, l + 32, ... (a whole dot product each), the
// row's block max and sum are combined across the warp in a fixed shuffle tree, and then lane
// l updates the output dims l, l + 32, ... it owns. So every sum is taken in an order fixed by
// the shapes: results are bitwise repeatable.
//
// The backward recomputes the scores from the saved logsumexp, in two passes without atomics:
// a warp per query row for dq (and the additive mask's gradient), a warp per key row for dk
// and dv, after a pass that forms D_i = dO_i . O_i once per row. The tile size is the largest
// power of two up to kMaxTile whose shared memory fits kSmemBudget (no opt-in needed); head sizes
// too large for one row of a tile are refused with an error naming them.
#include <algorithm>

#include "core/math/attention.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/kernels/group_reduce.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_attention.h"

namespace nabla::cuda {
namespace {

constexpr int kAttnWarps = 4;
constexpr int kAttnThreads = kAttnWarps * 32;  // the __launch_bounds__ of every kernel here
constexpr int kMaxTile = 64;
// dynamic shared memory per block: under the 48 KiB a launch may use without an opt-in, less
// the 1 KiB the toolkit reports as these kernels' static shared memory (sm_90), and 1 KiB spare
constexpr std::size_t kSmemBudget = 46 * 1024;

template <class A>
struct MaxCombine {
  __device__ A operator()(A a, A b) const { return math::softmax_max(a, b); }
};

// The typed operands of one call; at most one of the mask's two forms is set.
template <class T>
struct Operands {
  const T* q;
  const T* k;
  const T* v;
  const bool* mask_bool;
  const T* mask_add;

  __device__ bool takes_part(const math::AttnShape& g, int64_t n, int64_t h, int64_t i, int64_t j) const {
    return g.causal_ok(i, j) && (mask_bool == nullptr || mask_bool[g.mask.at(n, h, i, j)]);
  }
  template <class A>
  __device__ A bias(const math::AttnShape& g, int64_t n, int64_t h, int64_t i, int64_t j) const {
    return mask_add == nullptr ? A(0) : cvt<A>(mask_add[g.mask.at(n, h, i, j)]);
  }
};

__device__ inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Rows [r0, r0 + rows) of an operand of batch (n, h) into a [rows, stride] tile (all threads).
template <class T, class A>
__device__ void load_tile(const T* x, const math::AttnStrides& s, int64_t n, int64_t h, int64_t r0,
                          int64_t rows, int64_t cols, A* tile, int64_t stride) {
  for (int64_t t = threadIdx.x; t < rows * cols; t += blockDim.x) {
    const int64_t r = t / cols, c = t % cols;
    tile[r * stride + c] = cvt<A>(x[s.at(n, h, r0 + r, c)]);
  }
}

template <class A>
__device__ A dot(const A* a, const A* b, int64_t n) {
  A s = 0;
  for (int64_t e = 0; e < n; ++e) s += a[e] * b[e];
  return s;
}

// Forward: a warp per query row; tiles of keys and values.
// Shared memory (A): q [warps][E], acc [warps][Ev], k tile [tile][E + 1], v tile [tile][Ev],
// weights [warps][tile].
template <class T, class A>
__global__ void __launch_bounds__(kAttnThreads)
    attention_forward_kernel(Operands<T> x, math::AttnShape g, math::AttnDropout drop, A scale, int tile,
                             int64_t row_blocks, T* out, A* lse) {
  extern __shared__ __align__(16) unsigned char attn_smem[];
  A* smem = reinterpret_cast<A*>(attn_smem);
  const int64_t L = g.L, S = g.S, E = g.E, Ev = g.Ev, ke = E + 1;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_blocks, i0 = (blockIdx.x % row_blocks) * kAttnWarps;
  const int64_t n = b / g.heads, h = b % g.heads, i = i0 + warp;
  const bool active = i < L;
  A* qs = smem + warp * E;
  A* os = smem + kAttnWarps * E + warp * Ev;
  A* ks = smem + kAttnWarps * (E + Ev);
  A* vs = ks + tile * ke;
  A* ps = vs + tile * Ev + warp * tile;
  if (active) {
    for (int64_t e = lane; e < E; e += 32) qs[e] = cvt<A>(x.q[g.q.at(n, h, i, e)]);
    for (int64_t e = lane; e < Ev; e += 32) os[e] = A(0);
  }
  math::AttnRow<A> row;
  const int64_t key_end = g.key_end(min64(i0 + kAttnWarps, L) - 1);  // the same for the whole block
  for (int64_t j0 = 0; j0 < key_end; j0 += tile) {
    const int64_t bc = min64(tile, key_end - j0);
    __syncthreads();  // every warp is done with the previous tile
    load_tile(x.k, g.k, n, h, j0, bc, E, ks, ke);
    load_tile(x.v, g.v, n, h, j0, bc, Ev, vs, Ev);
    __syncthreads();
    if (!active) continue;
    A local_max = -static_cast<A>(INFINITY);
    for (int64_t jj = lane; jj < bc; jj += 32) {
      const int64_t j = j0 + jj;
      const bool in = x.takes_part(g, n, h, i, j);
      const A s = math::attn_score(in ? dot(qs, ks + jj * ke, E) : A(0), scale, in,
                                   x.template bias<A>(g, n, h, i, j));
      ps[jj] = s;
      local_max = math::softmax_max(local_max, s);
    }
    const A f = row.rescale(group_combine<32>(local_max, MaxCombine<A>{}));
    A local_sum = 0;
    for (int64_t jj = lane; jj < bc; jj += 32) {
      const A w = row.weight(ps[jj]);
      local_sum += w;
      ps[jj] = w * drop.factor<A>(b, i, j0 + jj, L, S);
    }
    row.sum += group_combine<32>(local_sum, AddCombine<A>{});
    __syncwarp();  // the weights are read by every lane
    for (int64_t e = lane; e < Ev; e += 32) {
      A o = os[e] * f;
      for (int64_t jj = 0; jj < bc; ++jj) o += ps[jj] * vs[jj * Ev + e];
      os[e] = o;
    }
    __syncwarp();  // ... before the next tile overwrites them
  }
  if (!active) return;
  const A inv = row.inv_sum();
  for (int64_t e = lane; e < Ev; e += 32) out[(b * L + i) * Ev + e] = cvt<T>(os[e] * inv);
  if (lane == 0) lse[b * L + i] = row.lse();
}

// D_i = dO_i . O_i, a thread per row (grad and out are contiguous [rows, Ev]).
template <class T, class A>
__global__ void __launch_bounds__(kAttnThreads)
    attention_row_dot_kernel(const T* gy, const T* y, A* d, int64_t rows, int64_t Ev) {
  for (int64_t r = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; r < rows;
       r += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    A s = 0;
    for (int64_t e = 0; e < Ev; ++e) s += cvt<A>(gy[r * Ev + e]) * cvt<A>(y[r * Ev + e]);
    d[r] = s;
  }
}

// Backward, dq pass: a warp per query row; tiles of keys and values. dmask (optional) gets
// dS for every key of the row.
// Shared memory (A): q [warps][E], dO [warps][Ev], dq [warps][E], k tile [tile][E + 1],
// v tile [tile][Ev + 1], dS [warps][tile].
template <class T, class A>
__global__ void __launch_bounds__(kAttnThreads)
    attention_backward_dq_kernel(Operands<T> x, math::AttnShape g, math::AttnDropout drop, A scale, int tile,
                                 int64_t row_blocks, const T* gy, const A* lse, const A* d, T* dq, T* dmask) {
  extern __shared__ __align__(16) unsigned char attn_smem[];
  A* smem = reinterpret_cast<A*>(attn_smem);
  const int64_t L = g.L, S = g.S, E = g.E, Ev = g.Ev, ke = E + 1, kv = Ev + 1;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_blocks, i0 = (blockIdx.x % row_blocks) * kAttnWarps;
  const int64_t n = b / g.heads, h = b % g.heads, i = i0 + warp;
  const bool active = i < L;
  A* qs = smem + warp * E;
  A* gs = smem + kAttnWarps * E + warp * Ev;
  A* dqs = smem + kAttnWarps * (E + Ev) + warp * E;
  A* ks = smem + kAttnWarps * (2 * E + Ev);
  A* vs = ks + tile * ke;
  A* dss = vs + tile * kv + warp * tile;
  const A neg_inf = -static_cast<A>(INFINITY);
  A li = neg_inf, di = 0;
  if (active) {
    for (int64_t e = lane; e < E; e += 32) {
      qs[e] = cvt<A>(x.q[g.q.at(n, h, i, e)]);
      dqs[e] = A(0);
    }
    for (int64_t e = lane; e < Ev; e += 32) gs[e] = cvt<A>(gy[(b * L + i) * Ev + e]);
    li = lse[b * L + i];
    di = d[b * L + i];
  }
  const int64_t key_end = g.key_end(min64(i0 + kAttnWarps, L) - 1);
  for (int64_t j0 = 0; j0 < key_end; j0 += tile) {
    const int64_t bc = min64(tile, key_end - j0);
    __syncthreads();
    load_tile(x.k, g.k, n, h, j0, bc, E, ks, ke);
    load_tile(x.v, g.v, n, h, j0, bc, Ev, vs, kv);
    __syncthreads();
    if (!active) continue;
    for (int64_t jj = lane; jj < bc; jj += 32) {
      const int64_t j = j0 + jj;
      A ds = 0;
      if (li != neg_inf && x.takes_part(g, n, h, i, j)) {  // a row without keys passes no gradient
        const A s =
            math::attn_score(dot(qs, ks + jj * ke, E), scale, true, x.template bias<A>(g, n, h, i, j));
        ds = math::attn_dscore(math::attn_prob(s, li), drop.factor<A>(b, i, j, L, S),
                               dot(gs, vs + jj * kv, Ev), di);
      }
      if (dmask != nullptr) dmask[(b * L + i) * S + j] = cvt<T>(ds);
      dss[jj] = ds;
    }
    __syncwarp();
    for (int64_t e = lane; e < E; e += 32) {
      A acc = dqs[e];
      for (int64_t jj = 0; jj < bc; ++jj) acc += dss[jj] * ks[jj * ke + e];
      dqs[e] = acc;
    }
    __syncwarp();
  }
  if (!active) return;
  for (int64_t e = lane; e < E; e += 32) dq[(b * L + i) * E + e] = cvt<T>(scale * dqs[e]);
}

// Backward, dk/dv pass: a warp per key row; tiles of queries, output gradients, lse and D.
// Shared memory (A): k [warps][E], v [warps][Ev], dk [warps][E], dv [warps][Ev],
// q tile [tile][E + 1], dO tile [tile][Ev + 1], lse [tile], D [tile], p z [warps][tile],
// dS [warps][tile].
template <class T, class A>
__global__ void __launch_bounds__(kAttnThreads)
    attention_backward_dkv_kernel(Operands<T> x, math::AttnShape g, math::AttnDropout drop, A scale, int tile,
                                  int64_t row_blocks, const T* gy, const A* lse, const A* d, T* dk, T* dv) {
  extern __shared__ __align__(16) unsigned char attn_smem[];
  A* smem = reinterpret_cast<A*>(attn_smem);
  const int64_t L = g.L, S = g.S, E = g.E, Ev = g.Ev, ke = E + 1, kv = Ev + 1;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int64_t b = blockIdx.x / row_blocks, j0b = (blockIdx.x % row_blocks) * kAttnWarps;
  const int64_t n = b / g.heads, h = b % g.heads, j = j0b + warp;
  const bool active = j < S;
  A* kj = smem + warp * E;
  A* vj = smem + kAttnWarps * E + warp * Ev;
  A* dks = smem + kAttnWarps * (E + Ev) + warp * E;
  A* dvs = smem + kAttnWarps * (2 * E + Ev) + warp * Ev;
  A* qt = smem + kAttnWarps * 2 * (E + Ev);
  A* gt = qt + tile * ke;
  A* lt = gt + tile * kv;
  A* dt = lt + tile;
  A* pzs = dt + tile + warp * tile;
  A* dss = dt + tile + kAttnWarps * tile + warp * tile;
  const A neg_inf = -static_cast<A>(INFINITY);
  if (active) {
    for (int64_t e = lane; e < E; e += 32) {
      kj[e] = cvt<A>(x.k[g.k.at(n, h, j, e)]);
      dks[e] = A(0);
    }
    for (int64_t e = lane; e < Ev; e += 32) {
      vj[e] = cvt<A>(x.v[g.v.at(n, h, j, e)]);
      dvs[e] = A(0);
    }
  }
  // with is_causal, queries before the block's first key see none of its keys
  for (int64_t r0 = g.causal ? min64(j0b, L) : 0; r0 < L; r0 += tile) {
    const int64_t bc = min64(tile, L - r0);
    __syncthreads();
    load_tile(x.q, g.q, n, h, r0, bc, E, qt, ke);
    for (int64_t t = threadIdx.x; t < bc * Ev; t += blockDim.x) {
      const int64_t r = t / Ev, e = t % Ev;
      gt[r * kv + e] = cvt<A>(gy[(b * L + r0 + r) * Ev + e]);
    }
    for (int64_t r = threadIdx.x; r < bc; r += blockDim.x) {
      lt[r] = lse[b * L + r0 + r];
      dt[r] = d[b * L + r0 + r];
    }
    __syncthreads();
    if (!active) continue;
    for (int64_t ii = lane; ii < bc; ii += 32) {
      const int64_t i = r0 + ii;
      A pz = 0, ds = 0;
      if (lt[ii] != neg_inf && x.takes_part(g, n, h, i, j)) {
        const A s =
            math::attn_score(dot(qt + ii * ke, kj, E), scale, true, x.template bias<A>(g, n, h, i, j));
        const A p = math::attn_prob(s, lt[ii]);
        const A z = drop.factor<A>(b, i, j, L, S);
        ds = math::attn_dscore(p, z, dot(gt + ii * kv, vj, Ev), dt[ii]);
        pz = p * z;
      }
      pzs[ii] = pz;
      dss[ii] = ds;
    }
    __syncwarp();
    for (int64_t e = lane; e < Ev; e += 32) {
      A acc = dvs[e];
      for (int64_t ii = 0; ii < bc; ++ii) acc += pzs[ii] * gt[ii * kv + e];
      dvs[e] = acc;
    }
    for (int64_t e = lane; e < E; e += 32) {
      A acc = dks[e];
      for (int64_t ii = 0; ii < bc; ++ii) acc += dss[ii] * qt[ii * ke + e];
      dks[e] = acc;
    }
    __syncwarp();
  }
  if (!active) return;
  for (int64_t e = lane; e < E; e += 32) dk[(b * S + j) * E + e] = cvt<T>(scale * dks[e]);
  for (int64_t e = lane; e < Ev; e += 32) dv[(b * S + j) * Ev + e] = cvt<T>(dvs[e]);
}

// The largest tile (a power of two up to kMaxTile) whose shared memory, (fixed + tile * per_row)
// elements of `elem` bytes, fits the budget; an error naming the head sizes when none does.
int pick_tile(int64_t fixed, int64_t per_row, std::size_t elem, const math::AttnShape& g, const char* op) {
  for (int tile = kMaxTile; tile >= 1; tile /= 2) {
    if (static_cast<std::size_t>(fixed + tile * per_row) * elem <= kSmemBudget) return tile;
  }
  NABLA_FAIL(
      "{}: head sizes E = {} and Ev = {} are too large for the CUDA kernel ({} bytes of shared memory)", op,
      g.E, g.Ev, kSmemBudget);
}

std::size_t smem_bytes(int64_t fixed, int64_t per_row, int tile, std::size_t elem) {
  return static_cast<std::size_t>(fixed + tile * per_row) * elem;
}

template <class T>
Operands<T> operands(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor* mask) {
  Operands<T> x{q.data_ptr<T>(), k.data_ptr<T>(), v.data_ptr<T>(), nullptr, nullptr};
  if (mask != nullptr) {
    if (mask->dtype() == kBool)
      x.mask_bool = mask->data_ptr<bool>();
    else
      x.mask_add = mask->data_ptr<T>();
  }
  return x;
}

const Tensor* mask_input(const KernelCall& c, std::size_t at) {
  return c.in.size() > at ? &c.in[at] : nullptr;
}

}  // namespace

void scaled_dot_product_attention_kernel(const KernelCall& c) {
  const AttentionParams p = AttentionParams::from(c.p);
  const Tensor* mask = mask_input(c, 3);
  const math::AttnShape g = attention_shape(c.in[0], c.in[1], c.in[2], mask ? *mask : Tensor(), p.is_causal);
  const int64_t heads = c.in[0].size(0) * g.heads, row_blocks = (g.L + kAttnWarps - 1) / kAttnWarps;
  if (heads == 0 || g.L == 0) return;
  const int dev = c.out[0].device().index;
  set_device(dev);
  visit_float(c.in[0].dtype(), "scaled_dot_product_attention", [&]<class T>() {
    using A = compute_t<T>;
    const int64_t fixed = kAttnWarps * (g.E + g.Ev), per_row = (g.E + 1) + g.Ev + kAttnWarps;
    const int tile = pick_tile(fixed, per_row, sizeof(A), g, "scaled_dot_product_attention");
    NABLA_LAUNCH(attention_forward_kernel<T, A>, static_cast<unsigned>(heads * row_blocks), kAttnThreads,
                 smem_bytes(fixed, per_row, tile, sizeof(A)), stream(dev),
                 operands<T>(c.in[0], c.in[1], c.in[2], mask), g, p.dropout(), static_cast<A>(p.scale), tile,
                 row_blocks, c.out[0].data_ptr<T>(), c.out[1].data_ptr<A>());
  });
}

void scaled_dot_product_attention_backward_kernel(const KernelCall& c) {
  // inputs (grad, q, k, v, out, lse, mask?); outputs (dq, dk, dv, dmask?)
  const AttentionParams p = AttentionParams::from(c.p);
  const Tensor* mask = mask_input(c, 6);
  const math::AttnShape g = attention_shape(c.in[1], c.in[2], c.in[3], mask ? *mask : Tensor(), p.is_causal);
  const int64_t heads = c.in[1].size(0) * g.heads;
  const int dev = c.out[0].device().index;
  set_device(dev);
  cudaStream_t st = stream(dev);
  visit_float(c.in[1].dtype(), "scaled_dot_product_attention_backward", [&]<class T>() {
    using A = compute_t<T>;
    const char* op = "scaled_dot_product_attention_backward";
    const Operands<T> x = operands<T>(c.in[1], c.in[2], c.in[3], mask);
    const Tensor d = make_tensor({heads * g.L}, dtype_of<A>(), c.out[0].device(), op);
    const T* gy = c.in[0].data_ptr<T>();
    const A* lse = c.in[5].data_ptr<A>();
    T* dmask = c.out.size() > 3 && c.out[3].defined() ? c.out[3].data_ptr<T>() : nullptr;
    NABLA_LAUNCH(attention_row_dot_kernel<T, A>, grid_size(heads * g.L, kAttnThreads), kAttnThreads, 0, st,
                 gy, c.in[4].data_ptr<T>(), d.data_ptr<A>(), heads * g.L, g.Ev);
    // dq (and dmask): the L rows; an empty grid (L == 0) launches nothing
    const int64_t q_blocks = (g.L + kAttnWarps - 1) / kAttnWarps;
    const int64_t dq_fixed = kAttnWarps * (2 * g.E + g.Ev), dq_row = (g.E + 1) + (g.Ev + 1) + kAttnWarps;
    const int dq_tile = pick_tile(dq_fixed, dq_row, sizeof(A), g, op);
    NABLA_LAUNCH(attention_backward_dq_kernel<T, A>, static_cast<unsigned>(heads * q_blocks), kAttnThreads,
                 smem_bytes(dq_fixed, dq_row, dq_tile, sizeof(A)), st, x, g, p.dropout(),
                 static_cast<A>(p.scale), dq_tile, q_blocks, gy, lse, d.data_ptr<A>(), c.out[0].data_ptr<T>(),
                 dmask);
    // dk, dv: the S rows (computed even when L == 0: they are zeros then)
    const int64_t k_blocks = (g.S + kAttnWarps - 1) / kAttnWarps;
    const int64_t kv_fixed = kAttnWarps * 2 * (g.E + g.Ev),
                  kv_row = (g.E + 1) + (g.Ev + 1) + 2 + 2 * kAttnWarps;
    const int kv_tile = pick_tile(kv_fixed, kv_row, sizeof(A), g, op);
    NABLA_LAUNCH(attention_backward_dkv_kernel<T, A>, static_cast<unsigned>(heads * k_blocks), kAttnThreads,
                 smem_bytes(kv_fixed, kv_row, kv_tile, sizeof(A)), st, x, g, p.dropout(),
                 static_cast<A>(p.scale), kv_tile, k_blocks, gy, lse, d.data_ptr<A>(), c.out[1].data_ptr<T>(),
                 c.out[2].data_ptr<T>());
  });
}

}  // namespace nabla::cuda

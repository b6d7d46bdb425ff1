// Reference CPU reductions over any set of dims. Every reduction is the same loop over a
// core/math/reduce.h reducer, picked per op by core/math/reduce_ops.h: each output element
// reduces its slice in logical (row-major) order, in fixed blocks of kBlock elements whose
// partial results are combined left to right. The blocks do not depend on the thread count,
// so results are bitwise repeatable. Float sums accumulate in double: the CPU path is the
// reference.
#include "core/math/reduce_ops.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

constexpr int64_t kBlock = 16384;

// Accumulator of the CPU reference: double for every float type, int64 for integers.
template <class T>
using cpu_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;

// Sums (and means) of float32/float64 over unit-stride runs take the lane path of reduce_run.
constexpr int kLanes = 8;
template <class T>
inline constexpr bool kFloatOrDouble = std::is_same_v<T, float> || std::is_same_v<T, double>;
template <class R>
inline constexpr bool kSumOrMean =
    std::is_same_v<R, math::SumReducer<double>> || std::is_same_v<R, math::MeanReducer<double>>;

// The lane sum of a unit-stride run of n elements (a multiple of kLanes): kLanes independent
// partial sums (vectorisable, and a fixed order: the same bits on every run and thread count),
// folded pairwise. Built for the baseline ISA and for AVX2, like the elementwise loops
// (cpu_fallback/loops.h): the same operations in the same order, so the same bits.
template <class V, class T>
[[gnu::always_inline]] inline V lane_sum_body(const T* p, int64_t n) {
  V lane[kLanes] = {};
  for (int64_t j = 0; j < n; j += kLanes) {
    for (int l = 0; l < kLanes; ++l) lane[l] += static_cast<V>(p[j + l]);
  }
  for (int w = kLanes / 2; w > 0; w /= 2) {
    for (int l = 0; l < w; ++l) lane[l] += lane[l + w];
  }
  return lane[0];
}

template <class V, class T>
V lane_sum_base(const T* p, int64_t n) {
  return lane_sum_body<V>(p, n);
}

#if NABLA_CPU_AVX2
template <class V, class T>
__attribute__((target("avx2"))) V lane_sum_avx2(const T* p, int64_t n) {
  return lane_sum_body<V>(p, n);
}
#endif

template <class V, class T>
V lane_sum(const T* p, int64_t n) {
#if NABLA_CPU_AVX2
  if (cpu_has_avx2()) return lane_sum_avx2<V>(p, n);
#endif
  return lane_sum_base<V>(p, n);
}

// Steps r through one run of n elements (logical indices k, k + 1, ...) at p, stride ls.
template <class T, class R>
typename R::acc reduce_run(const T* p, int64_t n, int64_t ls, int64_t k, const R& r, typename R::acc a) {
  using V = typename R::value;
  if constexpr (kFloatOrDouble<T> && kSumOrMean<R>) {
    if (ls == 1 && n >= kLanes) {
      const int64_t n8 = n / kLanes * kLanes;
      a = r.step(a, lane_sum<V>(p, n8), k);
      for (int64_t j = n8; j < n; ++j) a = r.step(a, static_cast<V>(p[j]), k + j);
      return a;
    }
  }
  for (int64_t j = 0; j < n; ++j) a = r.step(a, static_cast<V>(cvt<compute_t<T>>(p[j * ls])), k + j);
  return a;
}

// Up to kTile outputs that are consecutive along the last kept dim, unit-stride in x (a sum
// over dim 0 of [64, 1000]: a bias gradient), step together through the reduced elements
// [k0, k1), so that x is read row by row rather than one strided column per output. Each
// output takes its elements in the order reduce_range gives them (a run with ls != 1 never
// takes the lane path), so the bits are those of the one-output loop. Tiles are up to kTile
// wide (whole 2 KiB of float32 per row: strided rows of only 256 B stalled on memory), and
// narrower where that leaves threads idle.
constexpr int64_t kTile = 512, kMinTile = 64;

template <class T, class R>
[[gnu::always_inline]] inline void tile_body(const T* base, int64_t w, const ReduceGeometry& g, int64_t k0,
                                             int64_t k1, const R& r, typename R::acc* a) {
  using V = typename R::value;
  const int64_t ls = g.inner_strides.back();
  MultiIndex at(g.inner_sizes, k0);
  for (int64_t k = k0; k < k1;) {
    const int64_t n = std::min(at.row_left(), k1 - k);
    const T* row = base + at.offset(g.inner_strides);
    for (int64_t t = 0; t < n; ++t, row += ls) {
      for (int64_t j = 0; j < w; ++j) a[j] = r.step(a[j], static_cast<V>(cvt<compute_t<T>>(row[j])), k + t);
    }
    k += n;
    at.advance(n);
  }
}

template <class T, class R>
void tile_base(const T* base, int64_t w, const ReduceGeometry& g, int64_t k0, int64_t k1, const R& r,
               typename R::acc* a) {
  tile_body(base, w, g, k0, k1, r, a);
}

#if NABLA_CPU_AVX2
template <class T, class R>
__attribute__((target("avx2"))) void tile_avx2(const T* base, int64_t w, const ReduceGeometry& g, int64_t k0,
                                               int64_t k1, const R& r, typename R::acc* a) {
  tile_body(base, w, g, k0, k1, r, a);
}
#endif

template <class T, class R>
void reduce_tile(const T* base, int64_t w, const ReduceGeometry& g, int64_t k0, int64_t k1, const R& r,
                 typename R::acc* a) {
#if NABLA_CPU_AVX2
  if (cpu_has_avx2()) {
    tile_avx2(base, w, g, k0, k1, r, a);
    return;
  }
#endif
  tile_base(base, w, g, k0, k1, r, a);
}

// Reduces x's elements [k0, k1) (logical index over the reduced dims) starting at `base`, in
// runs along the innermost reduced dim.
template <class T, class R>
typename R::acc reduce_range(const T* base, const ReduceGeometry& g, int64_t k0, int64_t k1, const R& r,
                             typename R::acc a) {
  if (k0 >= k1) return a;  // empty slice (a reduced dim of size 0)
  MultiIndex at(g.inner_sizes, k0);
  for (int64_t k = k0; k < k1;) {
    const int64_t n = std::min(at.row_left(), k1 - k);
    a = reduce_run(base + at.offset(g.inner_strides), n, g.inner_strides.back(), k, r, a);
    k += n;
    at.advance(n);
  }
  return a;
}

// out (contiguous, dtype O) = finish(reduce(x over dims)).
template <class T, class O, class R>
void reduce_loop(const Tensor& x, const Tensor& out, std::span<const int64_t> dims, const R& r) {
  const ReduceGeometry g = make_reduce_geometry(x, dims, /*merge_reduced=*/false);
  if (g.m == 0) return;
  const T* xp = x.data_ptr<T>();
  O* op = out.data_ptr<O>();
  const int64_t nblocks = std::max<int64_t>(1, (g.k + kBlock - 1) / kBlock);
  const int nouter = static_cast<int>(g.outer_sizes.size());
  auto reduce_block = [&](int64_t o, int64_t b) {
    const int64_t k0 = b * kBlock, k1 = std::min(g.k, k0 + kBlock);
    const T* slice = xp + strided_offset(o, g.outer_sizes.data(), g.outer_strides.data(), nouter);
    return reduce_range(slice, g, k0, k1, r, r.init());
  };
  const bool tiles = !g.outer_strides.empty() && g.outer_strides.back() == 1 && g.inner_strides.back() != 1;
  const int64_t row = tiles ? g.outer_sizes.back() : 1;  // outputs along the last kept dim
  int64_t tile = kTile;
  while (tile > kMinTile && g.m / row * ((row + tile - 1) / tile) < get_num_threads()) tile /= 2;
  const int64_t row_tiles = (row + tile - 1) / tile, ntiles = g.m / row * row_tiles;
  if (tiles && (nblocks == 1 || ntiles >= get_num_threads())) {
    const int64_t grain = std::max<int64_t>(1, kGrain / (tile * std::max<int64_t>(g.k, 1)));
    parallel_for(ntiles, grain, [&](int64_t b, int64_t e) {
      std::array<typename R::acc, kTile> a, total;
      for (int64_t t = b; t < e; ++t) {
        const int64_t o0 = t / row_tiles * row + t % row_tiles * tile;
        const int64_t w = std::min(tile, row - t % row_tiles * tile);
        const T* slice = xp + strided_offset(o0, g.outer_sizes.data(), g.outer_strides.data(), nouter);
        for (int64_t blk = 0; blk < nblocks; ++blk) {
          a.fill(r.init());
          if (g.k > 0) reduce_tile(slice, w, g, blk * kBlock, std::min(g.k, (blk + 1) * kBlock), r, a.data());
          for (int64_t j = 0; j < w; ++j) total[j] = blk == 0 ? a[j] : r.combine(total[j], a[j]);
        }
        for (int64_t j = 0; j < w; ++j) op[o0 + j] = cvt<O>(r.finish(total[j], g.k));
      }
    });
  } else if (nblocks == 1 || g.m >= get_num_threads()) {
    parallel_for(g.m, std::max<int64_t>(1, kGrain / std::max<int64_t>(g.k, 1)), [&](int64_t b, int64_t e) {
      for (int64_t o = b; o < e; ++o) {
        auto a = reduce_block(o, 0);
        for (int64_t blk = 1; blk < nblocks; ++blk) a = r.combine(a, reduce_block(o, blk));
        op[o] = cvt<O>(r.finish(a, g.k));
      }
    });
  } else {
    std::vector<typename R::acc> partial(static_cast<std::size_t>(nblocks));
    for (int64_t o = 0; o < g.m; ++o) {
      parallel_for(nblocks, 1, [&](int64_t b, int64_t e) {
        for (int64_t blk = b; blk < e; ++blk) partial[blk] = reduce_block(o, blk);
      });
      auto a = partial[0];
      for (int64_t blk = 1; blk < nblocks; ++blk) a = r.combine(a, partial[blk]);
      op[o] = cvt<O>(r.finish(a, g.k));
    }
  }
}

void reduce_kernel(const KernelCall& c) {
  const ReduceParams p = ReduceParams::from(c.p);
  math::visit_reducer<cpu_acc_t>(
      c, p, [&]<class T, class O>(const auto& r) { reduce_loop<T, O>(c.in[0], c.out[0], p.dims, r); });
}

}  // namespace

NABLA_DEFINE_REDUCE_KERNELS()

}  // namespace nabla::cpu

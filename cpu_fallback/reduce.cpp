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

// Steps r through one run of n elements (logical indices k, k + 1, ...) at p, stride ls.
template <class T, class R>
typename R::acc reduce_run(const T* p, int64_t n, int64_t ls, int64_t k, const R& r, typename R::acc a) {
  using V = typename R::value;
  if constexpr (kFloatOrDouble<T> && kSumOrMean<R>) {
    if (ls == 1 && n >= kLanes) {
      // a unit-stride run of a float sum: kLanes independent partial sums (vectorisable,
      // and a fixed order: the same bits on every run and thread count), then folded in
      V lane[kLanes] = {};
      int64_t j = 0;
      for (; j + kLanes <= n; j += kLanes) {
        for (int l = 0; l < kLanes; ++l) lane[l] += static_cast<V>(p[j + l]);
      }
      for (int w = kLanes / 2; w > 0; w /= 2) {
        for (int l = 0; l < w; ++l) lane[l] += lane[l + w];
      }
      a = r.step(a, lane[0], k);
      for (; j < n; ++j) a = r.step(a, static_cast<V>(p[j]), k + j);
      return a;
    }
  }
  for (int64_t j = 0; j < n; ++j) a = r.step(a, static_cast<V>(cvt<compute_t<T>>(p[j * ls])), k + j);
  return a;
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
  if (nblocks == 1 || g.m >= get_num_threads()) {
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

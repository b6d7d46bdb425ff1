// Reference CPU reductions over any set of dims. Every reduction is the same loop over a
// core/math/reduce.h reducer: each output element reduces its slice in logical (row-major)
// order, in fixed blocks of kBlock elements whose partial results are combined left to
// right. The blocks do not depend on the thread count, so results are bitwise repeatable.
// Float sums accumulate in double: the CPU path is the reference.
#include <limits>

#include "core/math/reduce.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

constexpr int64_t kBlock = 16384;

// Accumulator of the CPU reference: double for every float type, int64 for integers.
template <class T>
using cpu_acc_t = std::conditional_t<std::is_floating_point_v<compute_t<T>>, double, int64_t>;

struct ReduceGeometry {
  Shape outer_sizes, outer_strides;  // non-reduced dims of x (row-major = output order)
  Shape inner_sizes, inner_strides;  // reduced dims of x
  int64_t m = 1, k = 1;              // output count, elements per output
};

ReduceGeometry make_reduce_geometry(const Tensor& x, const std::vector<int64_t>& dims) {
  ReduceGeometry g;
  std::vector<bool> reduced(static_cast<std::size_t>(x.dim()), false);
  for (int64_t d : dims) reduced[d] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t s = x.sizes()[d];
    if (reduced[d]) {
      g.k *= s;
      if (s != 1) {
        g.inner_sizes.push_back(s);
        g.inner_strides.push_back(x.strides()[d]);
      }
    } else {
      g.m *= s;
      if (s != 1) {
        g.outer_sizes.push_back(s);
        g.outer_strides.push_back(x.strides()[d]);
      }
    }
  }
  if (g.inner_sizes.empty()) {
    g.inner_sizes.push_back(1);
    g.inner_strides.push_back(0);
  }
  return g;
}

// Sums (and means) of float32/float64 over unit-stride runs take the lane path of reduce_range.
constexpr int kLanes = 8;
template <class T, class R>
inline constexpr bool kLaneSum =
    (std::is_same_v<T, float> || std::is_same_v<T, double>) &&
    (std::is_same_v<R, math::SumReducer<double>> || std::is_same_v<R, math::MeanReducer<double>>);

// Reduces x's elements [k0, k1) (logical index over the reduced dims) starting at `base`.
template <class T, class R>
typename R::acc reduce_range(const T* base, const ReduceGeometry& g, int64_t k0, int64_t k1, const R& r,
                             typename R::acc a) {
  using V = typename R::value;
  if (k0 >= k1) return a;  // empty slice (a reduced dim of size 0)
  const int nd = static_cast<int>(g.inner_sizes.size());
  Shape idx(nd, 0);
  int64_t rem = k0;
  for (int d = nd - 1; d >= 0; --d) {
    idx[d] = rem % g.inner_sizes[d];
    rem /= g.inner_sizes[d];
  }
  const int64_t last = g.inner_sizes[nd - 1], ls = g.inner_strides[nd - 1];
  int64_t k = k0;
  while (k < k1) {
    int64_t off = 0;
    for (int d = 0; d < nd; ++d) off += idx[d] * g.inner_strides[d];
    const int64_t n = std::min(last - idx[nd - 1], k1 - k);
    const T* p = base + off;
    if constexpr (kLaneSum<T, R>) {
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
        k += n;
        idx[nd - 1] += n;
        for (int d = nd - 1; d > 0 && idx[d] >= g.inner_sizes[d]; --d) {
          idx[d] = 0;
          idx[d - 1] += 1;
        }
        continue;
      }
    }
    for (int64_t j = 0; j < n; ++j) a = r.step(a, static_cast<V>(cvt<compute_t<T>>(p[j * ls])), k + j);
    k += n;
    idx[nd - 1] += n;
    for (int d = nd - 1; d > 0 && idx[d] >= g.inner_sizes[d]; --d) {
      idx[d] = 0;
      idx[d - 1] += 1;
    }
  }
  return a;
}

// Offset in x of the slice reduced into output element o.
inline int64_t outer_offset(const ReduceGeometry& g, int64_t o) {
  int64_t off = 0;
  for (int d = static_cast<int>(g.outer_sizes.size()) - 1; d >= 0; --d) {
    off += (o % g.outer_sizes[d]) * g.outer_strides[d];
    o /= g.outer_sizes[d];
  }
  return off;
}

// out (contiguous, keepdim shape, dtype O) = finish(reduce(x over dims)).
template <class T, class O, class R>
void reduce_loop(const KernelCall& c, const R& r) {
  const Tensor& x = c.in[0];
  const Tensor& out = c.out[0];
  const ReduceGeometry g = make_reduce_geometry(x, c.p.dims);
  if (g.m == 0) return;
  const T* xp = x.data_ptr<T>();
  O* op = out.data_ptr<O>();
  const int64_t nblocks = std::max<int64_t>(1, (g.k + kBlock - 1) / kBlock);
  auto reduce_block = [&](int64_t o, int64_t b) {
    const int64_t k0 = b * kBlock, k1 = std::min(g.k, k0 + kBlock);
    return reduce_range(xp + outer_offset(g, o), g, k0, k1, r, r.init());
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

template <class V>
constexpr V lowest() {
  if constexpr (std::numeric_limits<V>::has_infinity) return -std::numeric_limits<V>::infinity();
  else return std::numeric_limits<V>::lowest();
}
template <class V>
constexpr V highest() {
  if constexpr (std::numeric_limits<V>::has_infinity) return std::numeric_limits<V>::infinity();
  else return std::numeric_limits<V>::max();
}

// Sums and products: the output dtype is the front end's choice (int64 for integer inputs).
template <template <class> class R>
void sum_like(const KernelCall& c) {
  visit_dtype(c.in[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    visit_dtype(c.out[0].dtype(), op_name(c.op).data(), [&]<class O>() {
      reduce_loop<T, O>(c, R<cpu_acc_t<T>>{});
    });
  });
}

}  // namespace

void sum_kernel(const KernelCall& c) { sum_like<math::SumReducer>(c); }
void prod_kernel(const KernelCall& c) { sum_like<math::ProdReducer>(c); }
void mean_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "mean", [&]<class T>() { reduce_loop<T, T>(c, math::MeanReducer<double>{}); });
}
void amax_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "amax", [&]<class T>() {
    using V = compute_t<T>;
    reduce_loop<T, T>(c, math::MaxReducer<V>{lowest<V>()});
  });
}
void amin_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "amin", [&]<class T>() {
    using V = compute_t<T>;
    reduce_loop<T, T>(c, math::MinReducer<V>{highest<V>()});
  });
}
void argmax_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "argmax", [&]<class T>() {
    using V = compute_t<T>;
    reduce_loop<T, int64_t>(c, math::ArgReducer<V, true>{lowest<V>()});
  });
}
void argmin_kernel(const KernelCall& c) {
  visit_numeric(c.in[0].dtype(), "argmin", [&]<class T>() {
    using V = compute_t<T>;
    reduce_loop<T, int64_t>(c, math::ArgReducer<V, false>{highest<V>()});
  });
}
void var_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "var", [&]<class T>() { reduce_loop<T, T>(c, math::VarReducer<double, false>{c.p.i0}); });
}
void std_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "std", [&]<class T>() { reduce_loop<T, T>(c, math::VarReducer<double, true>{c.p.i0}); });
}
void logsumexp_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "logsumexp", [&]<class T>() {
    reduce_loop<T, T>(c, math::LogSumExpReducer<double>{});
  });
}
void norm_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "norm", [&]<class T>() { reduce_loop<T, T>(c, math::NormReducer<double>{c.p.s0.to_double()}); });
}

}  // namespace nabla::cpu

// The reference CPU elementwise loop: cpu_map<Out, In...>(out, {inputs}, f) applies a
// core/math functor elementwise over an ElementwiseGeometry, in parallel pieces. Each piece
// walks the innermost dim with typed pointers so contiguous runs compile to tight loops.
#pragma once

#include <array>
#include <cstdint>
#include <type_traits>
#include <utility>

#include "core/math/convert.h"
#include "dispatch/visit.h"
#include "tensor/iter.h"
#include "util/parallel.h"

namespace nabla::cpu {

using math::cvt;  // the CPU kernels convert elements unqualified

inline constexpr int64_t kGrain = 32768;

/// Calls run(ptrs, strides_in_bytes, n) for every innermost run of the geometry, in
/// parallel pieces of the flattened index space (in order on one thread when !parallel:
/// scatters whose targets may collide).
template <class Run>
void for_each_run(const ElementwiseGeometry& g, const Run& run, bool parallel = true) {
  std::array<int64_t, kMaxOperands> inner_bytes{};
  for (int k = 0; k < g.nops; ++k) inner_bytes[k] = g.strides[k].back() * g.elsize[k];
  auto piece = [&](int64_t begin, int64_t end) {
    MultiIndex at(g.shape, begin);
    for (int64_t pos = begin; pos < end;) {
      std::array<char*, kMaxOperands> p{};
      for (int k = 0; k < g.nops; ++k) p[k] = g.data[k] + at.offset(g.strides[k]) * g.elsize[k];
      const int64_t n = std::min(at.row_left(), end - pos);
      run(p.data(), inner_bytes.data(), n);
      pos += n;
      at.advance(n);
    }
  };
  if (parallel)
    parallel_for(g.numel, kGrain, piece);
  else
    piece(0, g.numel);
}

namespace detail {
template <class Out, class... In, class F, std::size_t... I>
void map_run(char** p, const int64_t* s, int64_t n, const F& f, std::index_sequence<I...>) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  const bool contiguous = s[0] == static_cast<int64_t>(sizeof(Out)) &&
                          ((s[I + 1] == static_cast<int64_t>(sizeof(In)) || s[I + 1] == 0) && ...);
  if (contiguous) {
    const std::array<bool, sizeof...(In)> scalar{(s[I + 1] == 0)...};
    bool all_dense = true;
    for (bool b : scalar) all_dense = all_dense && !b;
    if (all_dense) {
      for (int64_t i = 0; i < n; ++i) {
        out[i] = cvt<Out>(f(cvt<compute_t<In>>(reinterpret_cast<const In*>(p[I + 1])[i])...));
      }
      return;
    }
  }
  for (int64_t i = 0; i < n; ++i) {
    *reinterpret_cast<Out*>(p[0] + i * s[0]) =
        cvt<Out>(f(cvt<compute_t<In>>(*reinterpret_cast<const In*>(p[I + 1] + i * s[I + 1]))...));
  }
}
}  // namespace detail

/// out[i] = f(in0[i], in1[i], ...) with broadcasting; In are the inputs' element types and f
/// receives their compute types.
template <class Out, class... In, class F>
void cpu_map(const Tensor& out, std::array<Tensor, sizeof...(In)> inputs, const F& f) {
  if (out.numel() == 0) return;
  const ElementwiseGeometry g =
      make_elementwise_geometry(out, std::span<const Tensor>(inputs.data(), inputs.size()));
  for_each_run(g, [&](char** p, const int64_t* s, int64_t n) {
    detail::map_run<Out, In...>(p, s, n, f, std::index_sequence_for<In...>{});
  });
}

/// The loop the shared elementwise kernel tables (core/math/*_ops.h) run through on the CPU.
struct CpuLoop {
  template <class Out, class... In, class F>
  static void map(const Tensor& out, std::array<Tensor, sizeof...(In)> inputs, const F& f) {
    cpu_map<Out, In...>(out, std::move(inputs), f);
  }
};

}  // namespace nabla::cpu

// The reference CPU elementwise loop: cpu_map<Out, In...>(out, {inputs}, f) applies a
// core/math functor elementwise over an ElementwiseGeometry, in parallel pieces. Each piece
// walks the innermost dim with typed pointers so contiguous runs compile to tight loops.
#pragma once

#include <array>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "core/math/convert.h"
#include "dispatch/visit.h"
#include "tensor/iter.h"
#include "util/parallel.h"

namespace nabla::cpu {

using math::cvt;  // the CPU kernels convert elements unqualified

inline constexpr int64_t kGrain = 32768;

#if defined(__x86_64__) && defined(__GNUC__)
#define NABLA_CPU_AVX2 1
/// Whether the CPU loops take their AVX2 builds: where the CPU has AVX2, unless the
/// environment sets NABLA_CPU_AVX2=0 (which tests the baseline build on an AVX2 machine).
inline bool cpu_has_avx2() {
  static const bool yes = [] {
    const char* env = std::getenv("NABLA_CPU_AVX2");
    if (env != nullptr && std::string_view(env) == "0") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return yes;
}
#else
#define NABLA_CPU_AVX2 0
#endif

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

// A unit-stride run: out[i] = f(in0[i], ...), where the inputs whose bit is set in kScalar
// are broadcast (stride 0) and read once. Written once and built twice, for the baseline ISA
// and for AVX2 (below); both builds round every operation the same way (AVX2 brings no FMA,
// so nothing is contracted), so the bits do not depend on which one runs.
template <unsigned kScalar, class Out, class... In, class F, std::size_t... I>
[[gnu::always_inline]] inline void dense_body(char** p, int64_t n, const F& f, std::index_sequence<I...>) {
  Out* out = reinterpret_cast<Out*>(p[0]);
  // a local copy of the functor: the stores to out could alias its parameters (leaky_relu's
  // slope), which were reloaded and converted every element and kept the loop scalar
  const F fn = f;
  [[maybe_unused]] const std::tuple<compute_t<In>...> scalar{
      cvt<compute_t<In>>(*reinterpret_cast<const In*>(p[I + 1]))...};
  for (int64_t i = 0; i < n; ++i) {
    out[i] =
        cvt<Out>(fn(((kScalar >> I) & 1u ? std::get<I>(scalar)
                                         : cvt<compute_t<In>>(reinterpret_cast<const In*>(p[I + 1])[i]))...));
  }
}

template <unsigned kScalar, class Out, class... In, class F>
void dense_run(char** p, int64_t n, const F& f) {
  dense_body<kScalar, Out, In...>(p, n, f, std::index_sequence_for<In...>{});
}

#if NABLA_CPU_AVX2
// The same loop compiled for AVX2: on the 2-core AMD EPYC (Zen 3) it was measured on, a 1M
// float relu or add over L3-resident tensors ran about 2.5x faster with 32-byte vectors.
template <unsigned kScalar, class Out, class... In, class F>
__attribute__((target("avx2"))) void dense_run_avx2(char** p, int64_t n, const F& f) {
  dense_body<kScalar, Out, In...>(p, n, f, std::index_sequence_for<In...>{});
}
#endif

template <unsigned kScalar, class Out, class... In, class F>
void dense_dispatch(char** p, int64_t n, const F& f) {
#if NABLA_CPU_AVX2
  if (cpu_has_avx2()) {
    dense_run_avx2<kScalar, Out, In...>(p, n, f);
    return;
  }
#endif
  dense_run<kScalar, Out, In...>(p, n, f);
}

template <class Out, class... In, class F, std::size_t... I>
void map_run(char** p, const int64_t* s, int64_t n, const F& f, std::index_sequence<I...>) {
  const bool unit = s[0] == static_cast<int64_t>(sizeof(Out)) &&
                    ((s[I + 1] == static_cast<int64_t>(sizeof(In)) || s[I + 1] == 0) && ... && true);
  if (unit) {
    // every input dense, or one broadcast: the loops that vectorise
    const unsigned scalar = ((s[I + 1] == 0 ? 1u << I : 0u) | ... | 0u);
    if (scalar == 0) {
      dense_dispatch<0, Out, In...>(p, n, f);
      return;
    }
    if (((scalar == 1u << I ? (dense_dispatch<1u << I, Out, In...>(p, n, f), true) : false) || ...)) return;
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

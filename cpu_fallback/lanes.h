// Reductions over a contiguous run in kLanes partial results, for the float fast paths of the
// row kernels (softmax.cpp, loss.cpp, norm.cpp). A plain `s += f(i)` loop stays scalar: the
// compiler may not reorder a floating-point sum. Here element i goes to lane i % kLanes (the
// tail to lanes 0, 1, ...) and the lanes are added pairwise at the end, a fixed order that
// depends on n only, so results do not depend on the thread count; the inner loop over the
// lanes is what the compiler turns into SIMD code.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/math/softmax.h"
#include "core/math/vec_exp.h"

// NABLA_LANES_CLONES on a kernel's row function builds it twice, for baseline x86-64 (SSE2)
// and for x86-64-v3 (AVX2), picked at load time by the CPU; what it calls through
// NABLA_LANES_INLINE is inlined into each copy. The files that use it are built with
// -ffp-contract=off (CMakeLists.txt), so the AVX2 copy has no FMA and both give the same bits.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define NABLA_LANES_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define NABLA_LANES_CLONES
#endif
#define NABLA_LANES_INLINE inline __attribute__((always_inline))

// GCC vectors of kLanes floats and their doubles, for the loops the compiler does not vectorise
// by itself (reductions; selects on floats). A lane holds what lane j of lane_sum/lane_fold
// would, so the vector loops give the same bits as those scalar definitions.
namespace nabla::cpu {

inline constexpr int kLanes = 8;

using f32x8 = float __attribute__((vector_size(32)));
using f64x4 = double __attribute__((vector_size(32)));

NABLA_LANES_INLINE f32x8 load8(const float* p) {
  f32x8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
NABLA_LANES_INLINE void store8(float* p, f32x8 v) { std::memcpy(p, &v, sizeof v); }
NABLA_LANES_INLINE f32x8 splat8(float x) { return f32x8{} + x; }

/// Lanes 0-3 and 4-7 of v in double.
struct D8 {
  f64x4 lo, hi;
};
NABLA_LANES_INLINE D8 to_double(f32x8 v) {
  return {__builtin_convertvector(__builtin_shufflevector(v, v, 0, 1, 2, 3), f64x4),
          __builtin_convertvector(__builtin_shufflevector(v, v, 4, 5, 6, 7), f64x4)};
}

/// The pairwise end of a lane reduction.
template <class A, class Op>
NABLA_LANES_INLINE A lane_combine(A (&acc)[kLanes], const Op& op) {
  for (int w = kLanes / 2; w > 0; w /= 2) {
    for (int j = 0; j < w; ++j) acc[j] = op(acc[j], acc[j + w]);
  }
  return acc[0];
}

/// f(i) for i in [0, n) in order, summed in double in lanes: the definition the vector loops
/// follow (elements i + j of each whole block of kLanes to lane j, the tail to lanes 0, 1, ...).
template <class F>
NABLA_LANES_INLINE double lane_sum(int64_t n, const F& f) {
  double acc[kLanes] = {};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    for (int j = 0; j < kLanes; ++j) acc[j] += f(i + j);
  }
  for (int j = 0; i + j < n; ++j) acc[j] += f(i + j);
  return lane_combine(acc, [](double a, double b) { return a + b; });
}

/// lane_sum as vector code: f8(i) gives the terms of elements i..i+7 (a D8), f1(i) one term.
template <class F8, class F1>
NABLA_LANES_INLINE double lane_sum8(int64_t n, const F8& f8, const F1& f1) {
  f64x4 lo{}, hi{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    const D8 t = f8(i);
    lo += t.lo;
    hi += t.hi;
  }
  double acc[kLanes];
  for (int j = 0; j < 4; ++j) acc[j] = lo[j], acc[j + 4] = hi[j];
  for (int j = 0; i + j < n; ++j) acc[j] += f1(i + j);
  return lane_combine(acc, [](double a, double b) { return a + b; });
}

/// lane_sum8 in float lanes: f8(i) gives the terms of elements i..i+7 (an f32x8), f1(i) one.
template <class F8, class F1>
NABLA_LANES_INLINE float lane_sum8f(int64_t n, const F8& f8, const F1& f1) {
  f32x8 v{};
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) v += f8(i);
  float acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = v[j];
  for (int j = 0; i + j < n; ++j) acc[j] += f1(i + j);
  return lane_combine(acc, [](float a, float b) { return a + b; });
}

/// The largest of x[0, n), NaN if any is NaN (math::softmax_max's rule), -inf for n = 0.
NABLA_LANES_INLINE float lane_max(int64_t n, const float* x) {
  const auto take = [](auto a, auto v) { return (v > a) | (v != v) ? v : a; };
  f32x8 m = splat8(-INFINITY);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) m = take(m, load8(x + i));
  float acc[kLanes];
  for (int j = 0; j < kLanes; ++j) acc[j] = m[j];
  for (int j = 0; i + j < n; ++j) acc[j] = take(acc[j], x[i + j]);
  return lane_combine(acc, take);
}

/// The log-sum-exp of the row x[0, n) (core/math/softmax.h's statistics): shift = the max (0
/// for an all -inf row), the exponentials by math::vec_exp summed in float lanes, then
/// shift + log(sum) in double.
NABLA_LANES_INLINE double row_lse_f32(int64_t n, const float* x) {
  const float shift = math::softmax_shift(lane_max(n, x));
  const float sum = lane_sum8f(
      n, [&](int64_t i) { return math::vec_exp(load8(x + i) - shift); },
      [&](int64_t i) { return math::vec_exp(x[i] - shift); });
  return math::SoftmaxRow<float, double>{shift, sum}.lse();
}

}  // namespace nabla::cpu

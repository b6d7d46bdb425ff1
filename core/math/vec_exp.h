// A branchless float exp that the compiler vectorises (host only): the CPU softmax, log_softmax
// and cross-entropy rows call it once per element, where glibc's expf is a scalar call. It is
// Cephes' expf (a degree-6 polynomial on [-ln2/2, ln2/2] after the reduction x = n ln2 + r),
// written with selects instead of branches so a loop over it becomes SIMD code (always inlined,
// so it takes the instruction set of the function that calls it).
//
// Error: within 2 ULP of the exact exp over the whole float range (tests/test_ops.cpp
// VecExp checks every 97th float against a double exp), denormal results included; x > ~88.72
// gives +inf, x < ~-103.97 gives 0, exp(-inf) = 0, exp(+inf) = +inf, exp(NaN) = NaN.
#pragma once

#include <bit>
#include <cstdint>

namespace nabla::math {

/// The 32-bit integer types of the same shape as F (float, or a GCC vector of floats).
template <class F>
struct VecExpInts {
  using I = int32_t;
  using U = uint32_t;
};
template <class F>
requires(sizeof(F) > sizeof(float)) struct VecExpInts<F> {
  static constexpr int kN = sizeof(F) / sizeof(float);
  using I __attribute__((vector_size(kN * 4))) = int32_t;
  using U __attribute__((vector_size(kN * 4))) = uint32_t;
};

/// exp of a float, or lane by lane of a GCC vector of floats (float __attribute__((vector_size))):
/// the same operations either way, so a lane gives the bits the scalar call gives.
template <class F>
[[gnu::always_inline]] inline F vec_exp(F x) {
  using I = typename VecExpInts<F>::I;
  using U = typename VecExpInts<F>::U;
  // beyond these every result is inf or 0; clamping keeps n small (a NaN passes through both
  // and through the arithmetic after them)
  F c = x > 89.0f ? F{} + 89.0f : x;
  c = c < -120.0f ? F{} - 120.0f : c;
  // n = round(c / ln2): adding 1.5 * 2^23 rounds to an integer held in the low mantissa bits
  constexpr float kRound = 12582912.0f;
  const F t = c * 1.44269504088896341f + kRound;
  const F n = t - kRound;
  // r = c - n ln2, with ln2 in two parts so the product n * hi is exact
  F r = c - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  const F r2 = r * r;
  F p = F{} + 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r2 + r + 1.0f;
  // 2^n as two factors 2^a 2^b, each a normal float for n in [-174, 129]: the product rounds
  // once, so denormal results are correctly scaled
  const I ni = std::bit_cast<I>(std::bit_cast<U>(t) - std::bit_cast<uint32_t>(kRound));
  const I a = ni >> 1, b = ni - a;
  const F sa = std::bit_cast<F>(std::bit_cast<U>(a + 127) << 23);
  const F sb = std::bit_cast<F>(std::bit_cast<U>(b + 127) << 23);
  return p * sa * sb;  // a NaN x has made p NaN
}

}  // namespace nabla::math

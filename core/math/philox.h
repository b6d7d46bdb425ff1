// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// transforms from its 32-bit words to uniform, normal and integer draws.
//
// Element i of a random op's output is drawn from counter (i, offset) under key seed, so the
// value depends only on (seed, offset, i): CPU threads and CUDA threads produce the same
// numbers however the work is split.
//
// Bitwise equal across devices (same seed, offset and parameters): uniform (every dtype),
// normal (every dtype, float64 included), randint, bernoulli/dropout masks, randperm, and
// arange. That holds because every floating-point step of those transforms is one of
// IEEE's basic operations, each rounded on its own:
//  - a + b*c is written through rn::add / rn::mul, which are __dadd_rn/__dmul_rn (never
//    contracted into an FMA) under nvcc and plain operators on the host, where the files that
//    compute draws are compiled with -ffp-contract=off (CMakeLists.txt) so no host compiler
//    fuses them either;
//  - Box-Muller's log and cos are ours (det_log, det_cos_2pi below), built from those basic
//    operations, instead of the device's and glibc's, which differ in the last bits.
// Not covered: anything computed from a draw afterwards by other ops (those follow each op's
// own tolerance in op_db).
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"

namespace nabla::math {

struct Philox4 {
  uint32_t v[4];
};

NABLA_HOST_DEVICE NABLA_INLINE void mulhilo32(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  const uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

/// Ten rounds of Philox4x32 on counter c under key (k0, k1).
NABLA_HOST_DEVICE NABLA_INLINE Philox4 philox4x32_10(Philox4 c, uint32_t k0, uint32_t k1) {
  constexpr uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int r = 0; r < 10; ++r) {
    uint32_t hi0, lo0, hi1, lo1;
    mulhilo32(kM0, c.v[0], &hi0, &lo0);
    mulhilo32(kM1, c.v[2], &hi1, &lo1);
    c = Philox4{{hi1 ^ c.v[1] ^ k0, lo1, hi0 ^ c.v[3] ^ k1, lo0}};
    k0 += kW0;
    k1 += kW1;
  }
  return c;
}

/// The four words for element `index` of the draw numbered `offset` under `seed`.
NABLA_HOST_DEVICE NABLA_INLINE Philox4 philox_draw(uint64_t seed, uint64_t offset, uint64_t index) {
  Philox4 c{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32), static_cast<uint32_t>(offset),
             static_cast<uint32_t>(offset >> 32)}};
  return philox4x32_10(c, static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32));
}

/// Uniform on [0, 1) with `bits` random bits (<= 24): exact in any float type of at least
/// that many significand bits, so rounding to the type never produces 1.0 (float16: 11,
/// bfloat16: 8).
NABLA_HOST_DEVICE NABLA_INLINE float uniform_bits(const Philox4& r, int bits) {
  return static_cast<float>(r.v[0] >> (32 - bits)) * (1.0f / static_cast<float>(1u << bits));
}

/// Uniform on [0, 1) with 24 bits (float) or 53 bits (double).
NABLA_HOST_DEVICE NABLA_INLINE float uniform_float(const Philox4& r) {
  return static_cast<float>(r.v[0] >> 8) * 5.9604644775390625e-8f;  // 2^-24
}
NABLA_HOST_DEVICE NABLA_INLINE double uniform_double(const Philox4& r) {
  const uint64_t bits = (static_cast<uint64_t>(r.v[0]) << 32 | r.v[1]) >> 11;
  return static_cast<double>(bits) * 1.1102230246251565e-16;  // 2^-53
}

/// Separately rounded basic operations (never fused into an FMA, on either device).
namespace rn {
#ifdef __CUDA_ARCH__
__device__ NABLA_INLINE double add(double a, double b) { return __dadd_rn(a, b); }
__device__ NABLA_INLINE double sub(double a, double b) { return __dsub_rn(a, b); }
__device__ NABLA_INLINE double mul(double a, double b) { return __dmul_rn(a, b); }
__device__ NABLA_INLINE double div(double a, double b) { return __ddiv_rn(a, b); }
__device__ NABLA_INLINE double sqrt(double a) { return __dsqrt_rn(a); }
__device__ NABLA_INLINE float add(float a, float b) { return __fadd_rn(a, b); }
__device__ NABLA_INLINE float mul(float a, float b) { return __fmul_rn(a, b); }
#else
inline double add(double a, double b) { return a + b; }
inline double sub(double a, double b) { return a - b; }
inline double mul(double a, double b) { return a * b; }
inline double div(double a, double b) { return a / b; }
inline double sqrt(double a) { return std::sqrt(a); }  // IEEE: correctly rounded everywhere
inline float add(float a, float b) { return a + b; }
inline float mul(float a, float b) { return a * b; }
#endif
/// a + b * c with two roundings.
template <class T>
NABLA_HOST_DEVICE NABLA_INLINE T mul_add(T b, T c, T a) {
  return add(a, mul(b, c));
}
}  // namespace rn

/// Natural log of a positive finite x from basic operations only, so both devices get the same
/// bits: x = 2^e * m with m in [sqrt(1/2), sqrt(2)) (exact), log m = 2 atanh(s), s = (m-1)/(m+1),
/// |s| <= 0.172, summed to s^23 (the next term is below 2^-60 relative). Within 2 ulp of the
/// correctly rounded log (tests/test_rng.cpp measures it).
NABLA_HOST_DEVICE NABLA_INLINE double det_log(double x) {
  int e = 0;
  double mant = ::frexp(x, &e);  // [0.5, 1), exact
  if (mant < 0.70710678118654752440) {
    mant = rn::add(mant, mant);  // exact
    e -= 1;
  }
  const double s = rn::div(rn::sub(mant, 1.0), rn::add(mant, 1.0));
  const double s2 = rn::mul(s, s);
  double p = 1.0 / 23.0;
  p = rn::mul_add(p, s2, 1.0 / 21.0);
  p = rn::mul_add(p, s2, 1.0 / 19.0);
  p = rn::mul_add(p, s2, 1.0 / 17.0);
  p = rn::mul_add(p, s2, 1.0 / 15.0);
  p = rn::mul_add(p, s2, 1.0 / 13.0);
  p = rn::mul_add(p, s2, 1.0 / 11.0);
  p = rn::mul_add(p, s2, 1.0 / 9.0);
  p = rn::mul_add(p, s2, 1.0 / 7.0);
  p = rn::mul_add(p, s2, 1.0 / 5.0);
  p = rn::mul_add(p, s2, 1.0 / 3.0);
  // log m = 2 s + 2 s^3 p': the leading 2 s is exact, the rest a small correction
  const double two_s = rn::add(s, s);
  const double log_m = rn::add(two_s, rn::mul(rn::mul(two_s, s2), p));
  // ln 2 split so that e * ln2_hi is exact for |e| < 2^11 (fdlibm's constants)
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  const double de = static_cast<double>(e);
  return rn::add(rn::mul(de, ln2_hi), rn::add(rn::mul(de, ln2_lo), log_m));
}

/// cos(2 pi t) for t in [0, 1) from basic operations only. t is a multiple of 2^-53, so the
/// reductions by 1 - t, 0.5 - t and 0.25 - t are exact; what remains is x = 2 pi t' <= pi/4,
/// where Taylor series to x^18 (cos) or x^17 (sin) are below 2^-60 in their remainder.
NABLA_HOST_DEVICE NABLA_INLINE double det_cos_2pi(double t) {
  if (t > 0.5) t = rn::sub(1.0, t);  // cos(2 pi t) = cos(2 pi (1 - t))
  double sign = 1.0;
  if (t > 0.25) {  // cos(2 pi t) = -cos(2 pi (1/2 - t))
    t = rn::sub(0.5, t);
    sign = -1.0;
  }
  const bool use_sin = t > 0.125;  // cos(2 pi t) = sin(2 pi (1/4 - t))
  if (use_sin) t = rn::sub(0.25, t);
  const double x = rn::mul(t, 6.283185307179586476925);
  const double x2 = rn::mul(x, x);
  double r = 0.0;
  if (use_sin) {
    double p = -1.0 / 355687428096000.0;            // -1/17!
    p = rn::mul_add(p, x2, 1.0 / 1307674368000.0);  // 1/15!
    p = rn::mul_add(p, x2, -1.0 / 6227020800.0);    // -1/13!
    p = rn::mul_add(p, x2, 1.0 / 39916800.0);       // 1/11!
    p = rn::mul_add(p, x2, -1.0 / 362880.0);        // -1/9!
    p = rn::mul_add(p, x2, 1.0 / 5040.0);           // 1/7!
    p = rn::mul_add(p, x2, -1.0 / 120.0);           // -1/5!
    p = rn::mul_add(p, x2, 1.0 / 6.0);              // 1/3!, sign folded below
    r = rn::sub(x, rn::mul(rn::mul(x, x2), p));     // x - x^3/3! + x^5/5! - ...
  } else {
    double p = 1.0 / 6402373705728000.0;              // 1/18!
    p = rn::mul_add(p, x2, -1.0 / 20922789888000.0);  // -1/16!
    p = rn::mul_add(p, x2, 1.0 / 87178291200.0);      // 1/14!
    p = rn::mul_add(p, x2, -1.0 / 479001600.0);       // -1/12!
    p = rn::mul_add(p, x2, 1.0 / 3628800.0);          // 1/10!
    p = rn::mul_add(p, x2, -1.0 / 40320.0);           // -1/8!
    p = rn::mul_add(p, x2, 1.0 / 720.0);              // 1/6!
    p = rn::mul_add(p, x2, -1.0 / 24.0);              // -1/4!, sign folded below
    p = rn::mul_add(p, x2, 0.5);                      // 1/2!
    r = rn::sub(1.0, rn::mul(x2, p));                 // 1 - x^2/2! + x^4/4! - ...
  }
  return sign * r;  // exact
}

/// Standard normal by Box-Muller, in double, the same bits on both devices (det_log, det_cos_2pi).
NABLA_HOST_DEVICE NABLA_INLINE double normal_double(const Philox4& r) {
  const uint64_t a = (static_cast<uint64_t>(r.v[0]) << 32 | r.v[1]) >> 11;
  const uint64_t b = (static_cast<uint64_t>(r.v[2]) << 32 | r.v[3]) >> 11;
  const double u1 = (static_cast<double>(a) + 1.0) * 1.1102230246251565e-16;  // (0, 1], exact
  const double u2 = static_cast<double>(b) * 1.1102230246251565e-16;          // [0, 1), exact
  return rn::mul(rn::sqrt(rn::mul(-2.0, det_log(u1))), det_cos_2pi(u2));
}

/// The transforms of the random ops and arange, written once for both devices.
/// uniform: from + (to - from) u; double for float64 outputs, float (u with `bits` bits) otherwise.
NABLA_HOST_DEVICE NABLA_INLINE double uniform_from_to(double from, double to, double u) {
  return rn::mul_add(rn::sub(to, from), u, from);
}
NABLA_HOST_DEVICE NABLA_INLINE float uniform_from_span(float from, float span, float u) {
  return rn::mul_add(span, u, from);
}
/// normal: mean + sd z.
NABLA_HOST_DEVICE NABLA_INLINE double normal_mean_sd(double mean, double sd, double z) {
  return rn::mul_add(sd, z, mean);
}
/// arange: start + i step, in double.
NABLA_HOST_DEVICE NABLA_INLINE double arange_at(double start, double step, int64_t i) {
  return rn::mul_add(static_cast<double>(i), step, start);
}

/// 64 random bits.
NABLA_HOST_DEVICE NABLA_INLINE uint64_t random_u64(const Philox4& r) {
  return static_cast<uint64_t>(r.v[0]) << 32 | r.v[1];
}

}  // namespace nabla::math

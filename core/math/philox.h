// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11) and the
// transforms from its 32-bit words to uniform, normal and integer draws.
//
// Element i of a random op's output is drawn from counter (i, offset) under key seed, so the
// value depends only on (seed, offset, i): CPU threads and CUDA threads produce the same
// numbers however the work is split. Normals are computed in double on both devices and
// then rounded, so float results agree bit for bit across devices.
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
  Philox4 c{{static_cast<uint32_t>(index), static_cast<uint32_t>(index >> 32),
             static_cast<uint32_t>(offset), static_cast<uint32_t>(offset >> 32)}};
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

/// Standard normal by Box-Muller, in double.
NABLA_HOST_DEVICE NABLA_INLINE double normal_double(const Philox4& r) {
  const uint64_t a = (static_cast<uint64_t>(r.v[0]) << 32 | r.v[1]) >> 11;
  const uint64_t b = (static_cast<uint64_t>(r.v[2]) << 32 | r.v[3]) >> 11;
  const double u1 = (static_cast<double>(a) + 1.0) * 1.1102230246251565e-16;  // (0, 1]
  const double u2 = static_cast<double>(b) * 1.1102230246251565e-16;          // [0, 1)
  return m::sqrt(-2.0 * m::log(u1)) * m::cos(6.283185307179586476925 * u2);
}

/// 64 random bits.
NABLA_HOST_DEVICE NABLA_INLINE uint64_t random_u64(const Philox4& r) {
  return static_cast<uint64_t>(r.v[0]) << 32 | r.v[1];
}

}  // namespace nabla::math

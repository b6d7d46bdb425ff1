// 16-bit floating-point storage types: nabla::Half (IEEE binary16) and nabla::BFloat16.
//
// Both are plain 16-bit containers with round-to-nearest-even conversion from float, usable
// in host and device code. Arithmetic happens in float (the "compute type" of both).
#pragma once

#include <cstdint>
#include <cstring>

#include "nabla/macros.h"

namespace nabla {
namespace detail {

NABLA_HOST_DEVICE NABLA_INLINE uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
#endif
}

NABLA_HOST_DEVICE NABLA_INLINE float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// float -> binary16, round to nearest even. Subnormal halves are produced by adding a magic
// float whose exponent puts the half's last mantissa bit at the float's last bit, so the FPU
// does the rounding for us.
NABLA_HOST_DEVICE NABLA_INLINE uint16_t float_to_half_bits(float f) {
  uint32_t u = float_bits(f);
  const uint32_t sign = u & 0x80000000u;
  u ^= sign;
  uint32_t h;
  if (u >= 0x47800000u) {  // >= 65536 (or inf / nan): beyond the half range
    h = u > 0x7f800000u ? 0x7e00u : 0x7c00u;
  } else if (u < 0x38800000u) {         // < 2^-14: half subnormal or zero
    const uint32_t magic = 126u << 23;  // 0.5: aligns 2^-24 with the float's unit bit
    h = float_bits(bits_float(u) + bits_float(magic)) - magic;
  } else {
    const uint32_t odd = (u >> 13) & 1u;
    u += (static_cast<uint32_t>(15 - 127) << 23) + 0xfffu + odd;
    h = u >> 13;  // may round up into inf: correct behaviour
  }
  return static_cast<uint16_t>(h | (sign >> 16));
}

NABLA_HOST_DEVICE NABLA_INLINE float half_bits_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  const uint32_t mant = h & 0x3ffu;
  if (exp == 0) {
    // zero or subnormal: value = mant * 2^-24
    const float v = static_cast<float>(mant) * 5.9604644775390625e-8f;
    return bits_float(float_bits(v) | sign);
  }
  if (exp == 31) return bits_float(sign | 0x7f800000u | (mant << 13));
  return bits_float(sign | ((exp + 112u) << 23) | (mant << 13));
}

NABLA_HOST_DEVICE NABLA_INLINE uint16_t float_to_bf16_bits(float f) {
  uint32_t u = float_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fc0u;  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

NABLA_HOST_DEVICE NABLA_INLINE float bf16_bits_to_float(uint16_t b) {
  return bits_float(static_cast<uint32_t>(b) << 16);
}

}  // namespace detail

/// IEEE 754 binary16.
struct Half {
  uint16_t bits = 0;
  Half() = default;
  NABLA_HOST_DEVICE Half(float f) : bits(detail::float_to_half_bits(f)) {}               // NOLINT
  NABLA_HOST_DEVICE operator float() const { return detail::half_bits_to_float(bits); }  // NOLINT
  NABLA_HOST_DEVICE static Half from_bits(uint16_t b) {
    Half h;
    h.bits = b;
    return h;
  }
};

/// bfloat16: float32's exponent with a 7-bit mantissa.
struct BFloat16 {
  uint16_t bits = 0;
  BFloat16() = default;
  NABLA_HOST_DEVICE BFloat16(float f) : bits(detail::float_to_bf16_bits(f)) {}           // NOLINT
  NABLA_HOST_DEVICE operator float() const { return detail::bf16_bits_to_float(bits); }  // NOLINT
  NABLA_HOST_DEVICE static BFloat16 from_bits(uint16_t b) {
    BFloat16 h;
    h.bits = b;
    return h;
  }
};

}  // namespace nabla

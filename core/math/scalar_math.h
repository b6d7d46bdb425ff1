// Overloaded scalar math (float and double) callable from host and device code.
//
// Functors call nabla::m::exp(x) rather than std::exp so that the same source picks expf on
// the device and the right overload on the host.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "nabla/macros.h"

namespace nabla::m {

#define NABLA_MATH_1(name, fname, dname)                                    \
  NABLA_HOST_DEVICE NABLA_INLINE float name(float x) { return ::fname(x); } \
  NABLA_HOST_DEVICE NABLA_INLINE double name(double x) { return ::dname(x); }

NABLA_MATH_1(exp, expf, exp)
NABLA_MATH_1(log, logf, log)
NABLA_MATH_1(log1p, log1pf, log1p)
NABLA_MATH_1(expm1, expm1f, expm1)
NABLA_MATH_1(sqrt, sqrtf, sqrt)
NABLA_MATH_1(sin, sinf, sin)
NABLA_MATH_1(cos, cosf, cos)
NABLA_MATH_1(tanh, tanhf, tanh)
NABLA_MATH_1(erf, erff, erf)
NABLA_MATH_1(fabs, fabsf, fabs)
#undef NABLA_MATH_1

NABLA_HOST_DEVICE NABLA_INLINE float pow(float a, float b) { return ::powf(a, b); }
NABLA_HOST_DEVICE NABLA_INLINE double pow(double a, double b) { return ::pow(a, b); }

template <class T>
NABLA_HOST_DEVICE NABLA_INLINE bool isnan(T x) {
  return x != x;
}

/// Integer power by squaring (negative exponents give 0 except for bases 1 and -1, as PyTorch).
template <class T>
NABLA_HOST_DEVICE NABLA_INLINE T ipow(T base, T e) {
  if (!std::is_unsigned_v<T> && e < T(0)) {
    if (base == T(1)) return T(1);
    if (base == T(-1)) return (e & 1) ? T(-1) : T(1);
    return T(0);
  }
  T r = T(1);
  while (e) {
    if (e & 1) r = static_cast<T>(r * base);
    base = static_cast<T>(base * base);
    e >>= 1;
  }
  return r;
}

}  // namespace nabla::m

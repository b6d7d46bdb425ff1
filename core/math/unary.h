// Elementwise unary functors and the activation derivatives, shared by the CPU loop
// (cpu_fallback/unary.cpp) and the CUDA elementwise kernel. T is the compute type (float,
// double or an integer type); 16-bit floats are widened to float before the call.
#pragma once

#include <type_traits>

#include "core/math/scalar_math.h"

namespace nabla::math {

struct NegFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return static_cast<T>(-x);
  }
};
struct AbsFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>)
      return x;
    else
      return x < T(0) ? static_cast<T>(-x) : x;
  }
};
struct SignFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_unsigned_v<T>)
      return static_cast<T>(x != T(0));
    else
      return static_cast<T>((T(0) < x) - (x < T(0)));
  }
};
struct ExpFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::exp(x);
  }
};
struct LogFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::log(x);
  }
};
struct Log1pFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::log1p(x);
  }
};
struct Expm1Fn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::expm1(x);
  }
};
struct SqrtFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::sqrt(x);
  }
};
struct RsqrtFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return T(1) / m::sqrt(x);
  }
};
struct SinFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::sin(x);
  }
};
struct CosFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::cos(x);
  }
};
struct TanhFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return m::tanh(x);
  }
};
// 1 / (1 + e^-x) overflows e^-x for very negative x, giving 1/inf = 0: the right limit.
struct SigmoidFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return T(1) / (T(1) + m::exp(-x));
  }
};
struct ReluFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : T(0);
  }
};
struct LeakyReluFn {
  double slope;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : static_cast<T>(x * T(slope));
  }
};
// alpha (e^x - 1) for x <= 0: expm1 keeps precision near 0.
struct EluFn {
  double alpha;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return x > T(0) ? x : T(alpha) * m::expm1(x);
  }
};
// Exact GELU: x Phi(x), Phi the standard normal CDF.
struct GeluFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return T(0.5) * x * (T(1) + m::erf(x * T(0.70710678118654752440)));
  }
};
// x sigmoid(x) = x / (1 + e^-x), as PyTorch computes it: e^-x overflows for very negative x,
// giving x / inf = -0, the right limit.
struct SiluFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return x / (T(1) + m::exp(-x));
  }
};
// log(1 + e^(beta x)) / beta; log1p(e^y) rather than log(1 + e^y) for accuracy at small e^y.
struct SoftplusFn {
  double beta, threshold;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    const T bx = x * T(beta);
    return bx > T(threshold) ? x : m::log1p(m::exp(bx)) / T(beta);
  }
};
struct ClampFn {
  double lo, hi;
  bool has_lo, has_hi;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    if (m::isnan(x)) return x;
    if (has_lo && x < T(lo)) x = T(lo);
    if (has_hi && x > T(hi)) x = T(hi);
    return x;
  }
};
// x ** e for a scalar e: e for float T, ie (the same exponent, exact) for integer T.
struct PowScalarFn {
  double e;
  int64_t ie;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    if constexpr (std::is_integral_v<T>) {
      return m::ipow<T>(x, static_cast<T>(ie));
    } else {
      if (e == 2.0) return x * x;  // exact, and the common case
      if (e == 1.0) return x;
      if (e == 0.5) return m::sqrt(x);
      return m::pow(x, T(e));
    }
  }
};
struct ReciprocalFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T x) const {
    return T(1) / x;
  }
};

// ---- derivatives: (grad, saved) -> grad_input ----
struct ReluBackwardFn {  // saved = y
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T y) const {
    return y > T(0) ? g : T(0);
  }
};
struct LeakyReluBackwardFn {  // saved = x
  double slope;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T x) const {
    return x > T(0) ? g : g * T(slope);
  }
};
struct EluBackwardFn {  // saved = x
  double alpha;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T x) const {
    return x > T(0) ? g : g * T(alpha) * m::exp(x);
  }
};
// d/dx x Phi(x) = Phi(x) + x phi(x)
struct GeluBackwardFn {  // saved = x
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T x) const {
    const T cdf = T(0.5) * (T(1) + m::erf(x * T(0.70710678118654752440)));
    const T pdf = m::exp(T(-0.5) * x * x) * T(0.39894228040143267794);
    return g * (cdf + x * pdf);
  }
};
// d/dx x s(x) = s(x) (1 + x (1 - s(x))), s the sigmoid (PyTorch's form)
struct SiluBackwardFn {  // saved = x
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T x) const {
    const T s = T(1) / (T(1) + m::exp(-x));
    return g * s * (T(1) + x * (T(1) - s));
  }
};
// d/dx softplus = sigmoid(beta x) (1 where beta x > threshold)
struct SoftplusBackwardFn {  // saved = x
  double beta, threshold;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T x) const {
    const T bx = x * T(beta);
    return bx > T(threshold) ? g : g / (T(1) + m::exp(-bx));
  }
};
struct SigmoidBackwardFn {  // saved = y
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T y) const {
    return g * y * (T(1) - y);
  }
};
struct TanhBackwardFn {  // saved = y
  template <class T>
  NABLA_HOST_DEVICE T operator()(T g, T y) const {
    return g * (T(1) - y * y);
  }
};

}  // namespace nabla::math

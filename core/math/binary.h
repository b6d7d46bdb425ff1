// Elementwise binary and ternary functors shared by the CPU loop (cpu_fallback/binary.cpp)
// and the CUDA elementwise kernel. T is the compute type of the promoted inputs.
#pragma once

#include <type_traits>

#include "core/math/scalar_math.h"

namespace nabla::math {

struct AddFn {
  double alpha;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    return alpha == 1.0 ? static_cast<T>(a + b) : static_cast<T>(a + static_cast<T>(alpha) * b);
  }
};
struct SubFn {
  double alpha;
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    return alpha == 1.0 ? static_cast<T>(a - b) : static_cast<T>(a - static_cast<T>(alpha) * b);
  }
};
struct MulFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    return static_cast<T>(a * b);
  }
};
struct DivFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    return a / b;
  }
};
struct PowFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    if constexpr (std::is_integral_v<T>)
      return m::ipow<T>(a, b);
    else
      return m::pow(a, b);
  }
};
// NaN propagates, as torch.maximum.
struct MaximumFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    if (m::isnan(a)) return a;
    if (m::isnan(b)) return b;
    return a > b ? a : b;
  }
};
struct MinimumFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(T a, T b) const {
    if (m::isnan(a)) return a;
    if (m::isnan(b)) return b;
    return a < b ? a : b;
  }
};
struct EqFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a == b;
  }
};
struct NeFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a != b;
  }
};
struct LtFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a < b;
  }
};
struct LeFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a <= b;
  }
};
struct GtFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a > b;
  }
};
struct GeFn {
  template <class T>
  NABLA_HOST_DEVICE bool operator()(T a, T b) const {
    return a >= b;
  }
};

struct WhereFn {
  template <class T>
  NABLA_HOST_DEVICE T operator()(bool c, T a, T b) const {
    return c ? a : b;
  }
};

}  // namespace nabla::math

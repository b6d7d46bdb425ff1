// Element conversion between nabla's element types, in host and device code: both backends'
// loops (cpu_fallback/loops.h, cuda/kernels/elementwise.cuh) and their kernels convert through
// this one function, so a value is widened and rounded the same way on either device.
#pragma once

#include <type_traits>

#include "nabla/half.h"

namespace nabla::math {

/// Converts x to To; the 16-bit floats convert through float, their compute type.
template <class To, class From>
NABLA_HOST_DEVICE inline To cvt(From x) {
  if constexpr (std::is_same_v<To, From>) {
    return x;
  } else if constexpr (std::is_same_v<From, Half> || std::is_same_v<From, BFloat16>) {
    return cvt<To>(static_cast<float>(x));
  } else if constexpr (std::is_same_v<To, Half> || std::is_same_v<To, BFloat16>) {
    return To(static_cast<float>(x));
  } else {
    return static_cast<To>(x);
  }
}

}  // namespace nabla::math

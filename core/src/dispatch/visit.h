// visit_dtype: turns a runtime ScalarType into a compile-time element type for a templated
// lambda: visit_dtype(t, "op", [&]<class T>() { ... }). Variants restrict the accepted types.
#pragma once

#include <cstdint>

#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/half.h"

namespace nabla {

/// The type arithmetic on T happens in: float for the 16-bit floats, T otherwise.
template <class T>
struct compute_type {
  using type = T;
};
template <>
struct compute_type<Half> {
  using type = float;
};
template <>
struct compute_type<BFloat16> {
  using type = float;
};
template <class T>
using compute_t = typename compute_type<T>::type;

template <class F>
decltype(auto) visit_dtype(ScalarType t, const char* op, F&& f) {
  switch (t) {
    case ScalarType::Float32:
      return f.template operator()<float>();
    case ScalarType::Float64:
      return f.template operator()<double>();
    case ScalarType::Float16:
      return f.template operator()<Half>();
    case ScalarType::BFloat16:
      return f.template operator()<BFloat16>();
    case ScalarType::Int64:
      return f.template operator()<int64_t>();
    case ScalarType::Int32:
      return f.template operator()<int32_t>();
    case ScalarType::UInt8:
      return f.template operator()<uint8_t>();
    case ScalarType::Bool:
      return f.template operator()<bool>();
  }
  NABLA_FAIL("{}: unknown dtype {}", op, static_cast<int>(t));
}

template <class F>
decltype(auto) visit_float(ScalarType t, const char* op, F&& f) {
  switch (t) {
    case ScalarType::Float32:
      return f.template operator()<float>();
    case ScalarType::Float64:
      return f.template operator()<double>();
    case ScalarType::Float16:
      return f.template operator()<Half>();
    case ScalarType::BFloat16:
      return f.template operator()<BFloat16>();
    default:
      break;
  }
  NABLA_FAIL("{}: expected a floating-point dtype, got {}", op, dtype_name(t));
}

/// Every dtype but bool.
template <class F>
decltype(auto) visit_numeric(ScalarType t, const char* op, F&& f) {
  switch (t) {
    case ScalarType::Float32:
      return f.template operator()<float>();
    case ScalarType::Float64:
      return f.template operator()<double>();
    case ScalarType::Float16:
      return f.template operator()<Half>();
    case ScalarType::BFloat16:
      return f.template operator()<BFloat16>();
    case ScalarType::Int64:
      return f.template operator()<int64_t>();
    case ScalarType::Int32:
      return f.template operator()<int32_t>();
    case ScalarType::UInt8:
      return f.template operator()<uint8_t>();
    default:
      break;
  }
  NABLA_FAIL("{}: not supported for dtype {}", op, dtype_name(t));
}

}  // namespace nabla

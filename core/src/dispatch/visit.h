// visit_dtype: turns a runtime ScalarType into a compile-time element type for a templated
// lambda: visit_dtype(t, "op", [&]<class T>() { ... }). Variants restrict the accepted types.
#pragma once

#include <cstdint>
#include <type_traits>
#include <utility>

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

namespace detail {
enum class DtypeSet { all, floating, numeric };

template <DtypeSet S, class T>
constexpr bool in_set() {
  if constexpr (S == DtypeSet::floating) return std::is_floating_point_v<compute_t<T>>;
  if constexpr (S == DtypeSet::numeric) return !std::is_same_v<T, bool>;
  return true;
}

// The one switch over the dtypes; a dtype outside S falls through to the error of S.
#define NABLA_VISIT_CASE(dtype, type)                                      \
  case ScalarType::dtype:                                                  \
    if constexpr (in_set<S, type>()) return f.template operator()<type>(); \
    break;
template <DtypeSet S, class F>
decltype(auto) visit_set(ScalarType t, const char* op, F&& f) {
  switch (t) {
    NABLA_VISIT_CASE(Float32, float)
    NABLA_VISIT_CASE(Float64, double)
    NABLA_VISIT_CASE(Float16, Half)
    NABLA_VISIT_CASE(BFloat16, BFloat16)
    NABLA_VISIT_CASE(Int64, int64_t)
    NABLA_VISIT_CASE(Int32, int32_t)
    NABLA_VISIT_CASE(UInt8, uint8_t)
    NABLA_VISIT_CASE(Bool, bool)
  }
  if constexpr (S == DtypeSet::floating) {
    NABLA_FAIL("{}: expected a floating-point dtype, got {}", op, dtype_name(t));
  } else if constexpr (S == DtypeSet::numeric) {
    NABLA_FAIL("{}: not supported for dtype {}", op, dtype_name(t));
  } else {
    NABLA_FAIL("{}: unknown dtype {}", op, static_cast<int>(t));
  }
}
#undef NABLA_VISIT_CASE
}  // namespace detail

template <class F>
decltype(auto) visit_dtype(ScalarType t, const char* op, F&& f) {
  return detail::visit_set<detail::DtypeSet::all>(t, op, std::forward<F>(f));
}

template <class F>
decltype(auto) visit_float(ScalarType t, const char* op, F&& f) {
  return detail::visit_set<detail::DtypeSet::floating>(t, op, std::forward<F>(f));
}

/// Every dtype but bool.
template <class F>
decltype(auto) visit_numeric(ScalarType t, const char* op, F&& f) {
  return detail::visit_set<detail::DtypeSet::numeric>(t, op, std::forward<F>(f));
}

}  // namespace nabla

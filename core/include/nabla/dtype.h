// Element types (dtypes) of tensors, their sizes and names, and type promotion.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <string_view>
#include <type_traits>

#include "nabla/half.h"

namespace nabla {

/// The element type of a tensor. The order is part of the ABI of saved files: append only.
enum class ScalarType : int8_t { Float32, Float64, Float16, BFloat16, Int64, Int32, UInt8, Bool };
inline constexpr int kNumScalarTypes = 8;

inline constexpr ScalarType kFloat32 = ScalarType::Float32;
inline constexpr ScalarType kFloat64 = ScalarType::Float64;
inline constexpr ScalarType kFloat16 = ScalarType::Float16;
inline constexpr ScalarType kBFloat16 = ScalarType::BFloat16;
inline constexpr ScalarType kInt64 = ScalarType::Int64;
inline constexpr ScalarType kInt32 = ScalarType::Int32;
inline constexpr ScalarType kUInt8 = ScalarType::UInt8;
inline constexpr ScalarType kBool = ScalarType::Bool;
inline constexpr ScalarType kFloat = kFloat32;
inline constexpr ScalarType kDouble = kFloat64;
inline constexpr ScalarType kHalf = kFloat16;
inline constexpr ScalarType kLong = kInt64;
inline constexpr ScalarType kInt = kInt32;

/// Bytes per element.
std::size_t element_size(ScalarType t);
/// "float32", "int64", ... (PyTorch's names without the "torch." prefix).
std::string_view dtype_name(ScalarType t);
/// Parses a dtype name ("float32", "float", "f32", "int64", ...); throws nabla::Error.
ScalarType dtype_from_name(std::string_view name);
bool is_floating_point(ScalarType t);
/// Integral types; bool counts as integral only when include_bool is true.
bool is_integral(ScalarType t, bool include_bool = false);
/// PyTorch's promote_types: the smallest type that holds both without losing category.
ScalarType promote_types(ScalarType a, ScalarType b);
/// The default floating dtype (float32).
ScalarType default_dtype();

std::ostream& operator<<(std::ostream& os, ScalarType t);

/// Maps a C++ type to its ScalarType.
template <class T>
constexpr ScalarType dtype_of() {
  if constexpr (std::is_same_v<T, float>)
    return kFloat32;
  else if constexpr (std::is_same_v<T, double>)
    return kFloat64;
  else if constexpr (std::is_same_v<T, Half>)
    return kFloat16;
  else if constexpr (std::is_same_v<T, BFloat16>)
    return kBFloat16;
  else if constexpr (std::is_same_v<T, int64_t>)
    return kInt64;
  else if constexpr (std::is_same_v<T, int32_t>)
    return kInt32;
  else if constexpr (std::is_same_v<T, uint8_t>)
    return kUInt8;
  else if constexpr (std::is_same_v<T, bool>)
    return kBool;
  else
    static_assert(sizeof(T) == 0, "type has no nabla dtype");
}

}  // namespace nabla

// nabla::Scalar: a number of unspecified dtype (bool, integer or floating), as PyTorch's.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

#include "nabla/dtype.h"

namespace nabla {

class Scalar {
 public:
  enum class Kind : int8_t { Bool, Int, Float };

  Scalar() : Scalar(int64_t{0}) {}
  template <class T, std::enable_if_t<std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind_(Kind::Bool), i_(v ? 1 : 0), d_(v ? 1.0 : 0.0) {}  // NOLINT
  template <class T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>, int> = 0>
  Scalar(T v) : kind_(Kind::Int), i_(static_cast<int64_t>(v)), d_(static_cast<double>(v)) {}  // NOLINT
  template <class T, std::enable_if_t<std::is_floating_point_v<T>, int> = 0>
  Scalar(T v) : kind_(Kind::Float), i_(static_cast<int64_t>(0)), d_(static_cast<double>(v)) {}  // NOLINT
  Scalar(Half v) : Scalar(static_cast<float>(v)) {}                                             // NOLINT
  Scalar(BFloat16 v) : Scalar(static_cast<float>(v)) {}                                         // NOLINT

  Kind kind() const { return kind_; }
  bool is_floating_point() const { return kind_ == Kind::Float; }
  bool is_integral() const { return kind_ == Kind::Int; }
  bool is_bool() const { return kind_ == Kind::Bool; }

  double to_double() const { return d_; }
  int64_t to_int() const { return kind_ == Kind::Float ? static_cast<int64_t>(d_) : i_; }
  bool to_bool() const { return kind_ == Kind::Float ? d_ != 0.0 : i_ != 0; }
  /// Converts to an element type, as a cast would.
  template <class T>
  T to() const {
    if constexpr (std::is_same_v<T, bool>)
      return to_bool();
    else if constexpr (std::is_integral_v<T>)
      return static_cast<T>(to_int());
    else if constexpr (std::is_same_v<T, Half> || std::is_same_v<T, BFloat16>)
      return T(static_cast<float>(d_));
    else
      return static_cast<T>(d_);
  }
  /// The dtype PyTorch gives a tensor made from this number (bool, int64 or float32).
  ScalarType natural_dtype() const;
  std::string str() const;

 private:
  Kind kind_;
  int64_t i_;
  double d_;
};

}  // namespace nabla

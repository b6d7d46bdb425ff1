// libtorch's element access: indexing::TensorIndex for Tensor::index / index_put_
// (x.index({Slice(), 0, None, "...", mask})) and TensorAccessor for Tensor::accessor<T, N>().
// Included by nabla/tensor.h (after class Tensor, which these hold and which declares them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>

#include "nabla/tensor.h"

namespace nabla {
namespace indexing {

/// libtorch's None: a new axis of size 1 in an index list, or an open bound of a Slice.
inline constexpr std::nullopt_t None = std::nullopt;

struct EllipsisIndexType {};
/// libtorch's Ellipsis (also spelt "..."): as many whole dims as the other indices leave.
inline constexpr EllipsisIndexType Ellipsis{};

/// libtorch's Slice(start, stop, step), Python's start:stop:step: open bounds (None) take the
/// whole dim, negative bounds count from the end, out-of-range bounds clamp; step must be > 0.
class Slice {
 public:
  Slice(std::optional<int64_t> start = std::nullopt, std::optional<int64_t> stop = std::nullopt,
        std::optional<int64_t> step = std::nullopt)
      : start_(start), stop_(stop), step_(step) {}
  std::optional<int64_t> start() const { return start_; }
  std::optional<int64_t> stop() const { return stop_; }
  int64_t step() const { return step_.value_or(1); }

 private:
  std::optional<int64_t> start_, stop_, step_;
};

/// One entry of an index list: None, Ellipsis ("..."), an integer (selects, removing the dim),
/// a bool (a new axis kept, true, or emptied, false), a Slice, or a Tensor (advanced indexing:
/// int64/int32 indices or a bool mask, as nabla::index; a 0-dim integer tensor selects as an
/// integer does; an undefined Tensor takes the whole dim, as in nabla::index's lists).
class TensorIndex {
 public:
  enum class Kind { None, Ellipsis, Integer, Boolean, Slice, Tensor };

  TensorIndex(std::nullopt_t) : kind_(Kind::None) {}         // NOLINT
  TensorIndex(EllipsisIndexType) : kind_(Kind::Ellipsis) {}  // NOLINT
  /// Only "..." (anything else is a nabla::Error).
  TensorIndex(const char* str);                                           // NOLINT
  TensorIndex(int64_t i) : kind_(Kind::Integer), integer_(i) {}           // NOLINT
  TensorIndex(int i) : kind_(Kind::Integer), integer_(i) {}               // NOLINT
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>  // only a real bool
  TensorIndex(B b) : kind_(Kind::Boolean), boolean_(b) {}                 // NOLINT
  TensorIndex(Slice s) : kind_(Kind::Slice), slice_(s) {}                 // NOLINT
  TensorIndex(Tensor t) : kind_(Kind::Tensor), tensor_(std::move(t)) {}   // NOLINT

  Kind kind() const { return kind_; }
  bool is_none() const { return kind_ == Kind::None; }
  bool is_ellipsis() const { return kind_ == Kind::Ellipsis; }
  bool is_integer() const { return kind_ == Kind::Integer; }
  bool is_boolean() const { return kind_ == Kind::Boolean; }
  bool is_slice() const { return kind_ == Kind::Slice; }
  bool is_tensor() const { return kind_ == Kind::Tensor; }
  int64_t integer() const { return integer_; }
  bool boolean() const { return boolean_; }
  const Slice& slice() const { return slice_; }
  const Tensor& tensor() const { return tensor_; }

 private:
  Kind kind_;
  int64_t integer_ = 0;
  bool boolean_ = false;
  Slice slice_;
  Tensor tensor_;
};

}  // namespace indexing

/// libtorch's TensorAccessor<T, N>: a[i][j] reads and writes element (i, j) of a CPU tensor
/// through its strides (views work). As libtorch's, it does not check bounds and does not
/// keep the tensor alive: use it while the tensor lives.
template <class T, std::size_t N>
class TensorAccessor {
 public:
  TensorAccessor(T* data, const int64_t* sizes, const int64_t* strides)
      : data_(data), sizes_(sizes), strides_(strides) {}
  int64_t size(std::size_t i) const { return sizes_[i]; }
  int64_t stride(std::size_t i) const { return strides_[i]; }
  std::span<const int64_t> sizes() const { return {sizes_, N}; }
  std::span<const int64_t> strides() const { return {strides_, N}; }
  T* data() const { return data_; }
  decltype(auto) operator[](int64_t i) const {
    if constexpr (N == 1) {
      return static_cast<T&>(data_[i * strides_[0]]);
    } else {
      return TensorAccessor<T, N - 1>(data_ + i * strides_[0], sizes_ + 1, strides_ + 1);
    }
  }

 private:
  T* data_;
  const int64_t* sizes_;
  const int64_t* strides_;
};

namespace detail {
/// Throws unless t is a defined CPU tensor of dim n and dtype T (instantiated for nabla's
/// element types: float, double, Half, BFloat16, int64_t, int32_t, uint8_t, bool).
template <class T>
void check_accessor(const Tensor& t, int64_t n);
}  // namespace detail

template <class T, std::size_t N>
TensorAccessor<T, N> Tensor::accessor() const& {
  static_assert(N > 0, "accessor: a 0-dim tensor has no accessor; use item<T>()");
  detail::check_accessor<std::remove_const_t<T>>(*this, static_cast<int64_t>(N));
  return TensorAccessor<T, N>(static_cast<T*>(data_ptr()), sizes().data(), strides().data());
}

}  // namespace nabla

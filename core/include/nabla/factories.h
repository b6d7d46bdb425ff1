// Tensor factories: empty/zeros/ones/full/arange/linspace/eye, random tensors from the
// Philox generator, and copies in from std::vector.
#pragma once

#include <functional>
#include <vector>

#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla {

Tensor empty(const Shape& sizes, const TensorOptions& options = {});
Tensor zeros(const Shape& sizes, const TensorOptions& options = {});
Tensor ones(const Shape& sizes, const TensorOptions& options = {});
/// Without an explicit dtype, the dtype follows the value (bool, int64 or float32).
Tensor full(const Shape& sizes, const Scalar& value, const TensorOptions& options = {});
Tensor empty_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor zeros_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor ones_like(const Tensor& t, std::optional<TensorOptions> options = std::nullopt);
Tensor full_like(const Tensor& t, const Scalar& value, std::optional<TensorOptions> options = std::nullopt);
/// A 0-dim tensor.
Tensor scalar_tensor(const Scalar& value, const TensorOptions& options = {});
/// [start, end) in steps of `step`. Integer arguments give int64 unless a dtype is given.
Tensor arange(const Scalar& end, const TensorOptions& options = {});
Tensor arange(const Scalar& start, const Scalar& end, const Scalar& step = 1,
              const TensorOptions& options = {});
Tensor linspace(double start, double end, int64_t steps, const TensorOptions& options = {});
Tensor eye(int64_t n, const TensorOptions& options = {});
Tensor eye(int64_t n, int64_t m, const TensorOptions& options = {});

/// Uniform on [0, 1).
Tensor rand(const Shape& sizes, const TensorOptions& options = {});
/// Uniform on [0, 1) from a private generator (the global one is left untouched).
Tensor rand(const Shape& sizes, Generator& gen, const TensorOptions& options = {});
/// Standard normal.
Tensor randn(const Shape& sizes, const TensorOptions& options = {});
/// Integers uniform on [low, high) (int64 unless a dtype is given).
Tensor randint(int64_t low, int64_t high, const Shape& sizes, const TensorOptions& options = {});
Tensor randint(int64_t high, const Shape& sizes, const TensorOptions& options = {});
Tensor rand_like(const Tensor& t);
Tensor randn_like(const Tensor& t);
/// A random permutation of 0..n-1 (int64).
Tensor randperm(int64_t n, const TensorOptions& options = {});
/// The same, drawn from a private generator (the global one is left untouched).
Tensor randperm(int64_t n, Generator& gen, const TensorOptions& options = {});

/// A tensor over memory nabla does not own (NumPy arrays, DLPack capsules, ...), without a copy.
/// `data` points at element 0 on `device`; `strides` are in elements (empty: row-major) and
/// must be non-negative; `deleter`, if set, runs once when the last tensor or view of this
/// memory goes (on whatever thread drops it). Throws Error for negative sizes or strides, an
/// overflowing extent, a pointer not aligned to the element size, a null pointer with
/// elements, or a CUDA device that is not available; the deleter is not called then.
Tensor from_blob(void* data, const Shape& sizes, const Shape& strides, ScalarType dtype,
                 Device device = Device::cpu(), std::function<void()> deleter = nullptr);

/// Copies `data` into a new tensor of `sizes` (the dtype of T unless options give one).
template <class T>
Tensor from_vector(const std::vector<T>& data, const Shape& sizes, const TensorOptions& options = {});
/// 1-D tensor of the data.
template <class T>
Tensor from_vector(const std::vector<T>& data, const TensorOptions& options = {}) {
  return from_vector<T>(data, Shape{static_cast<int64_t>(data.size())}, options);
}

extern template Tensor from_vector<float>(const std::vector<float>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<double>(const std::vector<double>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<Half>(const std::vector<Half>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<BFloat16>(const std::vector<BFloat16>&, const Shape&,
                                             const TensorOptions&);
extern template Tensor from_vector<int64_t>(const std::vector<int64_t>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<int32_t>(const std::vector<int32_t>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<uint8_t>(const std::vector<uint8_t>&, const Shape&, const TensorOptions&);
extern template Tensor from_vector<bool>(const std::vector<bool>&, const Shape&, const TensorOptions&);

}  // namespace nabla

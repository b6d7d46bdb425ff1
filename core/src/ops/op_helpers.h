// Helpers shared by the op front ends: type promotion, wrapped scalars, dim lists, and the
// in-place protocol.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "dispatch/dispatch.h"
#include "nabla/ops.h"

namespace nabla {

/// Throws naming `op` and `what` when t is undefined.
void check_defined(const Tensor& t, std::string_view op, std::string_view what = "input");

/// A 0-dim CPU tensor holding `s` as `dtype`, marked as a wrapped number.
Tensor wrapped_scalar(const Scalar& s, ScalarType dtype);

/// One participant of type promotion: a tensor, or a C++ number (a wrapped scalar).
struct TypeOperand {
  ScalarType dtype;
  int64_t dim;
  bool wrapped;
  static TypeOperand of(const Tensor& t);
  static TypeOperand of(const Scalar& s);
};
/// PyTorch's result_type: dimensioned tensors outrank 0-dim tensors, which outrank numbers;
/// a lower-ranked operand only matters when it is of a higher category (bool < int < float).
ScalarType result_type(std::initializer_list<TypeOperand> ops);
/// Whether PyTorch allows writing `from` into a tensor of `to` (no float -> int, no -> bool).
bool can_cast(ScalarType from, ScalarType to);

/// NumPy broadcast of two shapes; the error names `op` and both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b, std::string_view op);

/// Normalised reduction dims: wrapped, sorted, unique; an empty list means every dim.
std::vector<int64_t> reduction_dims(const Tensor& x, const IntList& dims, std::string_view op);
/// sizes with `dims` removed (keepdim = false) or set to 1 (keepdim = true).
Shape reduced_shape(const Shape& sizes, const std::vector<int64_t>& dims, bool keepdim);

/// Whether an op writing in place into `self` must go through autograd (then: compute out of
/// place, then commit_inplace).
bool inplace_needs_autograd(const Tensor& self, std::initializer_list<const Tensor*> others);
/// Checks an in-place op is allowed on `self` (leaf requiring grad, views under autograd).
void check_inplace(const Tensor& self, std::string_view op, bool autograd);
/// Writes `result` (computed out of place) into `self` and moves self's history to result's.
Tensor& commit_inplace(Tensor& self, const Tensor& result, std::string_view op);
/// Whether `a` may be read while `out` is written elementwise (no partial overlap).
bool safe_to_write_over(const Tensor& out, const Tensor& a);

}  // namespace nabla

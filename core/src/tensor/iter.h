// Iteration geometry shared by the CPU loops and the CUDA kernels, computed once on the host:
// the elementwise geometry (the output shape, each operand's strides over it, 0 along
// broadcast dims) and the reduction geometry (kept and reduced dims of the input), with size-1
// dims dropped and adjacent dims merged wherever every operand allows; and the two ways the
// loops walk such a geometry: a row-major multi-index stepped in runs (CPU) and the offset of
// a row-major position (both).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "nabla/macros.h"
#include "nabla/tensor.h"

namespace nabla {

inline constexpr int kMaxOperands = 5;

struct ElementwiseGeometry {
  int nops = 0;                             // operand 0 is the output
  int64_t numel = 0;                        // elements of the output
  Shape shape;                              // outermost dim first; at least one dim
  std::array<Shape, kMaxOperands> strides;  // in elements
  std::array<char*, kMaxOperands> data{};   // first element of each operand
  std::array<int64_t, kMaxOperands> elsize{};
};

/// Geometry of `out` = f(inputs...), inputs broadcast to out's shape (the front end checked).
ElementwiseGeometry make_elementwise_geometry(const Tensor& out, std::span<const Tensor> inputs);

/// Geometry of a reduction of x over some of its dims: the kept ("outer") dims in row-major
/// order, which is the order of the outputs, and the reduced ("inner") dims in row-major order,
/// which is the logical index a reducer's step receives. Strides are in elements.
struct ReduceGeometry {
  Shape outer_sizes, outer_strides;  // empty when there is one output
  Shape inner_sizes, inner_strides;  // at least one dim ({1}, {0} when no reduced dim has size > 1)
  int64_t m = 1, k = 1;              // output count, elements per output
};

/// `dims` are sorted, unique and wrapped. Kept dims are always merged where contiguous (that
/// changes only how an output's address is found); reduced dims only with merge_reduced: the
/// CPU reference keeps them apart because its float sums vectorise within the innermost reduced
/// dim's runs, so merging would change its summation order and its bits.
ReduceGeometry make_reduce_geometry(const Tensor& x, std::span<const int64_t> dims, bool merge_reduced);

/// Offset (in elements) of row-major position i of the box `sizes` laid out with `strides`.
NABLA_HOST_DEVICE inline int64_t strided_offset(int64_t i, const int64_t* sizes, const int64_t* strides,
                                                int nd) {
  int64_t off = 0;
  for (int d = nd - 1; d >= 0; --d) {
    off += (i % sizes[d]) * strides[d];
    i /= sizes[d];
  }
  return off;
}

/// A row-major multi-index over `sizes` (at least one dim) that the CPU loops step in runs
/// along the last dim: start at any position, take the rest of the current row (or less),
/// advance, and the index carries into the earlier dims.
class MultiIndex {
 public:
  MultiIndex(const Shape& sizes, int64_t pos) : sizes_(sizes), idx_(sizes.size(), 0) {
    for (int d = static_cast<int>(sizes.size()) - 1; d >= 0; --d) {
      idx_[d] = pos % sizes[d];
      pos /= sizes[d];
    }
  }
  /// Elements left in the current row.
  int64_t row_left() const { return sizes_.back() - idx_.back(); }
  /// Offset (in elements) of the current position under `strides`.
  int64_t offset(const Shape& strides) const {
    int64_t off = 0;
    for (std::size_t d = 0; d < idx_.size(); ++d) off += idx_[d] * strides[d];
    return off;
  }
  /// Moves n (at most row_left()) positions on.
  void advance(int64_t n) {
    idx_.back() += n;
    for (std::size_t d = idx_.size() - 1; d > 0 && idx_[d] >= sizes_[d]; --d) {
      idx_[d] = 0;
      idx_[d - 1] += 1;
    }
  }

 private:
  const Shape& sizes_;
  Shape idx_;
};

}  // namespace nabla

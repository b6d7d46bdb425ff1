// Elementwise iteration geometry, shared by the CPU loop and the CUDA elementwise kernel:
// the output shape, each operand's strides over it (0 along broadcast dims), with size-1
// dims dropped and adjacent dims merged wherever every operand allows.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

inline constexpr int kMaxOperands = 5;

struct ElementwiseGeometry {
  int nops = 0;                  // operand 0 is the output
  int64_t numel = 0;
  Shape shape;                   // outermost dim first; at least one dim
  std::array<Shape, kMaxOperands> strides;  // in elements
  std::array<char*, kMaxOperands> data{};   // first element of each operand
  std::array<int64_t, kMaxOperands> elsize{};

  /// True when every operand walks memory with unit (or, for broadcast, zero) stride in one dim.
  bool is_flat() const;
};

/// Geometry of `out` = f(inputs...), inputs broadcast to out's shape (the front end checked).
ElementwiseGeometry make_elementwise_geometry(const Tensor& out, std::span<const Tensor> inputs);

}  // namespace nabla

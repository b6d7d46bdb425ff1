// The parameters of the fills and ranges (fill and arange in ops.def; copy has none) and how
// they travel in OpParams; read by the front ends (tensor/factories.cpp, copy.cpp,
// op_helpers.cpp) and both backends (cpu_fallback/copy.cpp, cuda/kernels/copy.cu).
#pragma once

#include "dispatch/op.h"

namespace nabla {

/// fill: every element is `value` (converted to the output's dtype).
struct FillParams {
  Scalar value;

  OpParams params() const {
    OpParams p;
    p.s0 = value;
    return p;
  }
  static FillParams from(const OpParams& p) { return {p.s0}; }
};

/// arange (and linspace): out[i] = start + i * step, in int64 for integer outputs (the scalars
/// truncated), in double for floating-point ones.
struct ArangeParams {
  Scalar start, step;

  OpParams params() const {
    OpParams p;
    p.s0 = start;
    p.s1 = step;
    return p;
  }
  static ArangeParams from(const OpParams& p) { return {p.s0, p.s1}; }
};

}  // namespace nabla

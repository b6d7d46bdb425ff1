// The typed parameters of the binary family and how they travel in OpParams: the front ends
// (ops/binary.cpp) build them, the backward formulas (autograd/derivatives_binary.cpp) and both
// backends' kernels (core/math/binary_ops.h) read them back. Nothing else reads OpParams'
// fields for these ops; the others (mul, div, comparisons, where, ...) take none.
#pragma once

#include "dispatch/op.h"

namespace nabla {

/// add, sub: a + alpha * b, a - alpha * b. alpha keeps its kind: integer inputs take only a
/// non-floating alpha (the front end checks).
struct AlphaParams {
  Scalar alpha = 1;

  OpParams params() const {
    OpParams p;
    p.s0 = alpha;
    return p;
  }
  static AlphaParams from(const OpParams& p) { return {p.s0}; }
};

}  // namespace nabla

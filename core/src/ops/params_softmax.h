// The parameters of the softmax family (softmax, log_softmax and their backward primitives in
// ops.def) and how they travel in OpParams; read by the front end, the backward formulas and
// both backends.
#pragma once

#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

struct SoftmaxParams {
  int64_t dim = 0;  // wrapped: 0 <= dim < the input's dim()

  OpParams params() const {
    OpParams p;
    p.dim = dim;
    return p;
  }
  static SoftmaxParams from(const OpParams& p) { return {p.dim}; }
};

}  // namespace nabla

// The parameters of the fused cross-entropy pair (cross_entropy, cross_entropy_backward in
// ops.def) and how they travel in OpParams; read by the front end, the backward formula and
// both backends. The reduction is the front end's (it reduces the per-row losses itself).
#pragma once

#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

struct CrossEntropyParams {
  int64_t ignore_index = -100;   // targets equal to it add no loss and get no gradient
  double label_smoothing = 0.0;  // in [0, 1]

  OpParams params() const {
    OpParams p;
    p.i0 = ignore_index;
    p.s0 = label_smoothing;
    return p;
  }
  static CrossEntropyParams from(const OpParams& p) { return {p.i0, p.s0.to_double()}; }
};

}  // namespace nabla

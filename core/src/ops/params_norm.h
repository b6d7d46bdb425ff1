// The parameters of the normalization ops (batch_norm, layer_norm and their backward
// primitives in ops.def) and how they travel in OpParams; read by the front end (norm.cpp) and
// both backends (cpu_fallback/norm.cpp, cuda/kernels/norm.cu, cuda/cudnn/batch_norm.cpp). A
// backward primitive takes its forward's parameters. Batch norm's running statistics (momentum,
// training) are the front end's own: the ops never see them.
#pragma once

#include "dispatch/op.h"

namespace nabla {

struct NormParams {
  double eps = 1e-5;  // added to the variance before the square root

  OpParams params() const {
    OpParams p;
    p.s0 = eps;
    return p;
  }
  static NormParams from(const OpParams& p) { return {p.s0.to_double()}; }
};

}  // namespace nabla

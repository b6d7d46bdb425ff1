// The parameters of the matrix products (addmm in ops.def; bmm has none) and how they travel
// in OpParams; read by the front end (linalg.cpp), the backward formula and both backends
// (cpu_fallback/linalg.cpp, cuda/cublas/matmul.cu).
#pragma once

#include "dispatch/op.h"

namespace nabla {

/// addmm: out = beta * input + alpha * (a @ b).
struct AddmmParams {
  double beta = 1.0, alpha = 1.0;

  OpParams params() const {
    OpParams p;
    p.s0 = beta;
    p.s1 = alpha;
    return p;
  }
  static AddmmParams from(const OpParams& p) { return {p.s0.to_double(), p.s1.to_double()}; }
};

}  // namespace nabla

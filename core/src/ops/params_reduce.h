// The parameters of the reduce family (sum ... norm in ops.def) and how they travel in
// OpParams; read by the front ends (ops/reduce.cpp), the backward formulas
// (autograd/derivatives_reduce.cpp) and both backends' kernels (through core/math/reduce_ops.h).
// keepdim does not travel: the output is allocated with or without the reduced dims and the
// kernels write it as a contiguous list of the kept positions either way.
#pragma once

#include <cstdint>
#include <vector>

#include "dispatch/op.h"

namespace nabla {

struct ReduceParams {
  std::vector<int64_t> dims;  // the reduced dims: sorted, unique, wrapped (all dims when none were named)
  int64_t correction = 0;     // var, std: the divisor is count - correction
  double p = 2.0;             // norm: the exponent (INFINITY for the max norm)

  OpParams params() const {
    OpParams o;
    o.dims = dims;
    o.i0 = correction;
    o.s0 = p;
    return o;
  }
  static ReduceParams from(const OpParams& o) {
    ReduceParams r;
    r.dims = o.dims;
    r.correction = o.i0;
    r.p = o.s0.to_double();
    return r;
  }
};

}  // namespace nabla

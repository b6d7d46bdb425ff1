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

/// Defines, in the enclosing (backend) namespace, the four kernels of the family as calls of
/// that backend's `softmax_forward<kLog>(c)` and `softmax_backward<kLog>(c)`.
#define NABLA_DEFINE_SOFTMAX_KERNELS()                                              \
  void softmax_kernel(const KernelCall& c) { softmax_forward<false>(c); }           \
  void log_softmax_kernel(const KernelCall& c) { softmax_forward<true>(c); }        \
  void softmax_backward_kernel(const KernelCall& c) { softmax_backward<false>(c); } \
  void log_softmax_backward_kernel(const KernelCall& c) { softmax_backward<true>(c); }

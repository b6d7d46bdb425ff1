// The typed parameters of the unary family and how they travel in OpParams: the front ends
// (ops/unary.cpp) build them, the backward formulas (autograd/derivatives_unary.cpp) and both
// backends' kernels (core/math/unary_ops.h) read them back. Nothing else reads OpParams'
// fields for these ops. An activation's backward primitive takes its forward's parameters.
#pragma once

#include <optional>

#include "dispatch/op.h"

namespace nabla {

/// leaky_relu, leaky_relu_backward
struct LeakyReluParams {
  double negative_slope = 0.01;

  OpParams params() const {
    OpParams p;
    p.s0 = negative_slope;
    return p;
  }
  static LeakyReluParams from(const OpParams& p) { return {p.s0.to_double()}; }
};

/// elu, elu_backward
struct EluParams {
  double alpha = 1.0;

  OpParams params() const {
    OpParams p;
    p.s0 = alpha;
    return p;
  }
  static EluParams from(const OpParams& p) { return {p.s0.to_double()}; }
};

/// softplus, softplus_backward: linear where beta x > threshold
struct SoftplusParams {
  double beta = 1.0, threshold = 20.0;

  OpParams params() const {
    OpParams p;
    p.s0 = beta;
    p.s1 = threshold;
    return p;
  }
  static SoftplusParams from(const OpParams& p) { return {p.s0.to_double(), p.s1.to_double()}; }
};

/// clamp: either bound may be absent. The bounds keep their kind (integer bounds of an
/// integer tensor, as the front end requires).
struct ClampParams {
  std::optional<Scalar> min, max;

  OpParams params() const {
    OpParams p;
    p.has_s0 = min.has_value();
    p.has_s1 = max.has_value();
    if (min) p.s0 = *min;
    if (max) p.s1 = *max;
    return p;
  }
  static ClampParams from(const OpParams& p) {
    ClampParams c;
    if (p.has_s0) c.min = p.s0;
    if (p.has_s1) c.max = p.s1;
    return c;
  }
};

/// pow_scalar: x ** exponent. The exponent keeps its kind: integer tensors take only
/// integral exponents (the front end checks), which stay exact.
struct PowScalarParams {
  Scalar exponent;

  OpParams params() const {
    OpParams p;
    p.s0 = exponent;
    return p;
  }
  static PowScalarParams from(const OpParams& p) { return {p.s0}; }
};

}  // namespace nabla

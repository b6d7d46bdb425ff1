// The primitives behind the conv, pool and norm front ends, for the backward formulas
// (core/src/autograd/derivatives_{conv,pool,norm}.cpp): inputs are made contiguous, outputs
// allocated, no argument checks (the front ends did them).
#pragma once

#include "dispatch/dispatch.h"
#include "nabla/random.h"
#include "ops/params_conv.h"

namespace nabla::detail {

/// conv2d without bias: x [N, C, H, W], w [O, C/g, kh, kw].
Tensor conv2d_primitive(const Tensor& x, const Tensor& w, const ConvParams& conv);
/// d conv2d / d x: grad [N, O, OH, OW] -> [input_size].
Tensor conv2d_input_grad(const Tensor& grad, const Tensor& w, const Shape& input_size,
                         const ConvParams& conv);
/// d conv2d / d w: -> [weight_size].
Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad, const Shape& weight_size,
                          const ConvParams& conv);

/// The scaled keep-mask of dropout: 1 / (1 - p) where a Philox draw (from gen, or the global
/// generator) is >= p, else 0; all zeros for p == 1. Shaped `shape`, dtype and device of `o`.
Tensor dropout_mask(const Shape& shape, double p, const TensorOptions& o, Generator* gen = nullptr);

}  // namespace nabla::detail

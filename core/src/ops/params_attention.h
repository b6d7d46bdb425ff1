// The parameters of the fused attention pair (scaled_dot_product_attention and its backward in
// ops.def) and how they travel in OpParams; read by the front end (ops/attention.cpp), the
// backward formula and both backends. The backward takes its forward's parameters, so it
// draws the same dropout mask again.
#pragma once

#include <cstdint>

#include "core/math/attention.h"
#include "dispatch/op.h"
#include "ops/params_random.h"

namespace nabla {

struct AttentionParams {
  double scale = 1.0;      // multiplies q . k (the front end's default: 1 / sqrt(E))
  double dropout_p = 0.0;  // in [0, 1]
  bool is_causal = false;
  PhiloxSlot slot{};  // the dropout draws' seed and offset (unused when dropout_p == 0)

  // s0 scale, s1 dropout_p, i0/i1 the slot (as the random ops), dim the causal flag
  OpParams params() const {
    OpParams p = detail::draw_params(slot, scale, dropout_p);
    p.dim = is_causal ? 1 : 0;
    return p;
  }
  static AttentionParams from(const OpParams& p) {
    return {p.s0.to_double(), p.s1.to_double(), p.dim != 0, detail::slot_of(p)};
  }
  /// The kernels' view of the dropout (core/math/attention.h).
  math::AttnDropout dropout() const {
    math::AttnDropout d;
    d.seed = slot.seed;
    d.offset = slot.offset;
    d.p = static_cast<float>(dropout_p);
    d.keep_scale = dropout_p < 1.0 ? 1.0 / (1.0 - dropout_p) : 0.0;
    return d;
  }
};

/// The kernels' view of q, k, v and the optional mask ([N, H, *, *] each, any strides).
inline math::AttnShape attention_shape(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask,
                                       bool causal) {
  auto strides = [](const Tensor& t) {
    return math::AttnStrides{t.stride(0), t.stride(1), t.stride(2), t.stride(3)};
  };
  math::AttnShape s;
  s.heads = q.size(1);
  s.L = q.size(2);
  s.E = q.size(3);
  s.S = k.size(2);
  s.Ev = v.size(3);
  s.q = strides(q);
  s.k = strides(k);
  s.v = strides(v);
  if (mask.defined()) s.mask = strides(mask);
  s.causal = causal;
  return s;
}

}  // namespace nabla

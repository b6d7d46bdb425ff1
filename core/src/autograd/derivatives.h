// Helpers for the backward formulas (derivatives_<family>.cpp). Formulas are written in
// nabla ops; they run with grad mode off.
#pragma once

#include "autograd/node.h"
#include "dispatch/dispatch.h"
#include "nabla/factories.h"
#include "nabla/ops.h"

namespace nabla {

void register_unary_derivatives();
void register_binary_derivatives();
void register_reduce_derivatives();
void register_linalg_derivatives();
void register_softmax_derivatives();
void register_index_derivatives();
void register_copy_derivatives();
void register_view_derivatives();
void register_loss_derivatives();
void register_conv_derivatives();
void register_pool_derivatives();
void register_norm_derivatives();
void register_rnn_derivatives();

inline constexpr uint32_t kIn0 = 1u << 0, kIn1 = 1u << 1, kIn2 = 1u << 2;
inline constexpr uint32_t kOut0 = 1u << 0;

/// Zeros shaped like input i of the forward op.
inline Tensor zeros_like_input(const BackwardCtx& c, std::size_t i) {
  const TensorMeta& m = c.in_meta[i];
  return zeros(m.sizes, TensorOptions(m.dtype).device(m.device));
}

}  // namespace nabla

// Fills the derivative table: one registration function per op family.
#include "autograd/derivatives.h"

namespace nabla {

void register_derivatives() {
  register_unary_derivatives();
  register_binary_derivatives();
  register_reduce_derivatives();
  register_linalg_derivatives();
  register_softmax_derivatives();
  register_index_derivatives();
  register_copy_derivatives();
  register_view_derivatives();
  register_loss_derivatives();
  register_conv_derivatives();
  register_pool_derivatives();
  register_norm_derivatives();
  register_rnn_derivatives();
}

}  // namespace nabla

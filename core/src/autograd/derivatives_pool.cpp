// Backward formulas of the pooling primitives: each has a backward primitive that routes the
// output gradient back to the input positions of its windows.
#include "autograd/derivatives.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

// The backward primitive takes its forward's parameters (PoolParams, none for adaptive pooling).
Tensor pool_backward(Op op, const BackwardCtx& c, std::initializer_list<Tensor> inputs) {
  const TensorMeta& m = c.in_meta[0];
  Tensor gx = make_tensor(m.sizes, m.dtype, m.device, op_name(op));
  return run_op(op, inputs, gx, c.p);
}
}  // namespace

void register_pool_derivatives() {
  set_derivative(Op::max_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::max_pool2d_backward, c, {c.grad().contiguous(), c.out[1]})};
                  },
                  0, 1u << 1});
  set_derivative(Op::avg_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::avg_pool2d_backward, c, {c.grad().contiguous()})};
                  },
                  0, 0});
  set_derivative(Op::adaptive_avg_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::adaptive_avg_pool2d_backward, c, {c.grad().contiguous()})};
                  },
                  0, 0});
}

}  // namespace nabla

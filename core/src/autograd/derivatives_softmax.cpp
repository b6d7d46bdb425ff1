// Backward formulas of softmax and log_softmax, through their backward primitives.
#include "autograd/derivatives.h"
#include "ops/params_softmax.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

Tensor softmax_grad(Op op, const BackwardCtx& c) {
  const Tensor& y = c.out[0];
  const Tensor g = c.grad().contiguous();
  return run_op(op, {g, y}, make_tensor(y.sizes(), y.dtype(), y.device(), op_name(op)),
                SoftmaxParams::from(c.p).params());
}
}  // namespace

void register_softmax_derivatives() {
  set_derivative(Op::softmax,
                 {[](const BackwardCtx& c) { return G{softmax_grad(Op::softmax_backward, c)}; }, 0, kOut0});
  set_derivative(
      Op::log_softmax,
      {[](const BackwardCtx& c) { return G{softmax_grad(Op::log_softmax_backward, c)}; }, 0, kOut0});
}

}  // namespace nabla

// Backward formulas of batch and layer normalization: one backward primitive each computes
// the gradients of x, weight and bias from the statistics saved by the forward
// (core/math/norm.h has the formulas). The primitives have no derivative of their own, so
// double backward through them raises (Derivative::once_differentiable).
#include "autograd/derivatives.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

// inputs (x, weight, bias), outputs (y, mean, invstd); the backward primitive takes the
// forward's NormParams
G norm_backward(Op op, const BackwardCtx& c) {
  const Tensor& x = c.in[0];
  const Tensor& w = c.in[1];
  const Tensor g = c.grad().to(x.dtype()).contiguous();
  const std::array<Tensor, 5> in{g, x, w, c.out[1], c.out[2]};
  std::array<Tensor, 3> out{make_tensor(x.sizes(), x.dtype(), x.device(), op_name(op)),
                            make_tensor(w.sizes(), w.dtype(), w.device(), op_name(op)),
                            make_tensor(w.sizes(), w.dtype(), w.device(), op_name(op))};
  run_op(op, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(out.data(), out.size()), c.p);
  return G{c.needs[0] ? out[0] : Tensor(), c.needs[1] ? out[1] : Tensor(), c.needs[2] ? out[2] : Tensor()};
}
}  // namespace

void register_norm_derivatives() {
  set_derivative(Op::batch_norm,
                 {[](const BackwardCtx& c) { return norm_backward(Op::batch_norm_backward, c); }, kIn0 | kIn1,
                  0b110, nullptr, /*once_differentiable=*/true});
  set_derivative(Op::layer_norm,
                 {[](const BackwardCtx& c) { return norm_backward(Op::layer_norm_backward, c); }, kIn0 | kIn1,
                  0b110, nullptr, /*once_differentiable=*/true});
}

}  // namespace nabla

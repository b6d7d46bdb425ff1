// Backward formula of the fused cross-entropy: its backward primitive computes the whole
// gradient of the logits in one pass from the saved log-sum-exp.
#include "autograd/derivatives.h"
#include "ops/params_loss.h"
#include "tensor/tensor_impl.h"

namespace nabla {

void register_loss_derivatives() {
  set_derivative(Op::cross_entropy,
                 {[](const BackwardCtx& c) {
                    const Tensor& x = c.in[0];
                    const Tensor g = c.grad().to(x.dtype()).contiguous();
                    const std::array<Tensor, 5> in{g, x, c.in[1], c.in[2], c.out[1]};
                    Tensor gx = make_tensor(x.sizes(), x.dtype(), x.device(), "cross_entropy_backward");
                    run_op(Op::cross_entropy_backward, std::span<const Tensor>(in.data(), in.size()),
                           std::span<Tensor>(&gx, 1), CrossEntropyParams::from(c.p).params());
                    return std::vector<Tensor>{gx, Tensor(), Tensor()};
                  },
                  kIn0 | kIn1 | kIn2, 1u << 1});
}

}  // namespace nabla

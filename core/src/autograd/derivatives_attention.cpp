// Backward formula of the fused attention op: one backward primitive recomputes the scores
// block by block from the saved logsumexp and gives dq, dk, dv (and the additive mask's
// gradient when it needs one) in one call (core/math/attention.h has the formulas). The
// primitive has no derivative of its own, so double backward through it raises
// (Derivative::once_differentiable). The lse output takes no gradient of its own: it is a
// function of q, k and the mask, saved only for the backward.
#include "autograd/derivatives.h"
#include "tensor/tensor_impl.h"

namespace nabla {

void register_attention_derivatives() {
  set_derivative(
      Op::scaled_dot_product_attention,
      {[](const BackwardCtx& c) {
         const Tensor &q = c.in[0], &k = c.in[1], &v = c.in[2];
         const bool has_mask = c.in.size() > 3;  // inputs (q, k, v, mask?)
         const std::string_view op = op_name(Op::scaled_dot_product_attention_backward);
         std::vector<Tensor> in{c.grad().to(q.dtype()).contiguous(), q, k, v, c.out[0], c.out[1]};
         if (has_mask) in.push_back(c.in[3]);
         const bool mask_grad = has_mask && c.in[3].is_floating_point() && c.needs[3];
         std::array<Tensor, 4> out{
             make_tensor(q.sizes(), q.dtype(), q.device(), op),
             make_tensor(k.sizes(), k.dtype(), k.device(), op),
             make_tensor(v.sizes(), v.dtype(), v.device(), op),
             mask_grad ? make_tensor(c.in[3].sizes(), c.in[3].dtype(), c.in[3].device(), op) : Tensor()};
         run_op(Op::scaled_dot_product_attention_backward, std::span<const Tensor>(in.data(), in.size()),
                std::span<Tensor>(out.data(), out.size()), c.p);
         std::vector<Tensor> g{c.needs[0] ? out[0] : Tensor(), c.needs[1] ? out[1] : Tensor(),
                               c.needs[2] ? out[2] : Tensor()};
         if (has_mask) g.push_back(out[3]);
         return g;
       },
       kIn0 | kIn1 | kIn2 | kIn3, 0b11, nullptr, /*once_differentiable=*/true});
}

}  // namespace nabla

// Backward formulas of the convolution primitives. conv2d is linear in x and in w:
//   y = conv(x, w):  dx = conv2d_backward_input(dy, w),  dw = conv2d_backward_weight(x, dy).
// conv2d_backward_input (the forward of conv_transpose2d) is the adjoint of conv in x:
//   y = conv^T(g, w):  dg = conv(dy, w),  dw = conv2d_backward_weight(dy, g).
// conv2d_backward_weight is bilinear in (x, g), so it has a formula too (double backward):
//   gw = W(x, g):  dx = conv2d_backward_input(g, dgw),  dg = conv(x, dgw).
#include "autograd/derivatives.h"
#include "ops/nn_ops.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

uint32_t save_other(uint32_t needs) { return ((needs & kIn0) ? kIn1 : 0u) | ((needs & kIn1) ? kIn0 : 0u); }
}  // namespace

void register_conv_derivatives() {
  set_derivative(
      Op::conv2d,
      {[](const BackwardCtx& c) {
         const ConvParams conv = ConvParams::from(c.p);
         return G{
             c.needs[0] ? detail::conv2d_input_grad(c.grad(), c.in[1], c.in_meta[0].sizes, conv) : Tensor(),
             c.needs[1] ? detail::conv2d_weight_grad(c.in[0], c.grad(), c.in_meta[1].sizes, conv) : Tensor()};
       },
       0, 0, save_other});
  set_derivative(Op::conv2d_backward_input,
                 {[](const BackwardCtx& c) {
                    const ConvParams conv = ConvParams::from(c.p);
                    return G{c.needs[0] ? detail::conv2d_primitive(c.grad(), c.in[1], conv) : Tensor(),
                             c.needs[1]
                                 ? detail::conv2d_weight_grad(c.grad(), c.in[0], c.in_meta[1].sizes, conv)
                                 : Tensor()};
                  },
                  0, 0, save_other});
  set_derivative(
      Op::conv2d_backward_weight,
      {[](const BackwardCtx& c) {
         const ConvParams conv = ConvParams::from(c.p);
         const Tensor& ggw = c.grad();
         return G{c.needs[0] ? detail::conv2d_input_grad(c.in[1], ggw, c.in_meta[0].sizes, conv) : Tensor(),
                  c.needs[1] ? detail::conv2d_primitive(c.in[0], ggw, conv) : Tensor()};
       },
       0, 0, save_other});
}

}  // namespace nabla

// Backward formulas of softmax and log_softmax, through their backward primitives, and the
// primitives' own formulas (double backward), in differentiable ops:
//   softmax_backward(g, y)     = y (g - sum(g y))
//   log_softmax_backward(g, y) = g - exp(y) sum(g)
#include "autograd/derivatives.h"
#include "ops/params_softmax.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

Tensor softmax_primitive(Op op, const Tensor& g, const Tensor& y, const OpParams& p) {
  return run_op(op, {g.contiguous(), y.contiguous()},
                make_tensor(y.sizes(), y.dtype(), y.device(), op_name(op)), p);
}

Tensor softmax_grad(Op op, const BackwardCtx& c) { return softmax_primitive(op, c.grad(), c.out[0], c.p); }

int64_t dim(const BackwardCtx& c) { return SoftmaxParams::from(c.p).dim; }
}  // namespace

void register_softmax_derivatives() {
  set_derivative(Op::softmax,
                 {[](const BackwardCtx& c) { return G{softmax_grad(Op::softmax_backward, c)}; }, 0, kOut0});
  set_derivative(
      Op::log_softmax,
      {[](const BackwardCtx& c) { return G{softmax_grad(Op::log_softmax_backward, c)}; }, 0, kOut0});
  // out = y (g - s), s = sum(g y): the Jacobian in g is symmetric (the primitive again);
  // d out_i / d y_k = [i == k] (g_i - s) - y_i g_k.
  set_derivative(Op::softmax_backward, {[](const BackwardCtx& c) {
                                          const Tensor &gg = c.grad(), &g = c.in[0], &y = c.in[1];
                                          Tensor dg, dy;
                                          if (c.needs[0])
                                            dg = softmax_primitive(Op::softmax_backward, gg, y, c.p);
                                          if (c.needs[1]) {
                                            const Tensor s = sum(g * y, {dim(c)}, /*keepdim=*/true);
                                            dy = gg * (g - s) - g * sum(gg * y, {dim(c)}, /*keepdim=*/true);
                                          }
                                          return G{dg, dy};
                                        },
                                        kIn0 | kIn1, 0});
  // out = g - p sum(g), p = exp(y): d/dg^T gg = gg - sum(gg p); d/dy gg = -gg p sum(g).
  set_derivative(Op::log_softmax_backward, {[](const BackwardCtx& c) {
                                              const Tensor &gg = c.grad(), &g = c.in[0], &y = c.in[1];
                                              const Tensor p = exp(y);
                                              Tensor dg, dy;
                                              if (c.needs[0])
                                                dg = gg - sum(gg * p, {dim(c)}, /*keepdim=*/true);
                                              if (c.needs[1])
                                                dy = -(gg * p * sum(g, {dim(c)}, /*keepdim=*/true));
                                              return G{dg, dy};
                                            },
                                            kIn0 | kIn1, 0});
}

}  // namespace nabla

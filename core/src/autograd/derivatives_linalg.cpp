// Backward formulas of the matrix products.
#include "autograd/derivatives.h"
#include "ops/params_linalg.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;
}  // namespace

void register_linalg_derivatives() {
  // C = A B:  dA = dC B^T,  dB = A^T dC
  set_derivative(
      Op::bmm,
      {[](const BackwardCtx& c) {
         return G{c.needs[0] ? bmm(c.grad(), c.in[1].transpose(1, 2)) : Tensor(),
                  c.needs[1] ? bmm(c.in[0].transpose(1, 2), c.grad()) : Tensor()};
       },
       0, 0, [](uint32_t needs) { return ((needs & kIn0) ? kIn1 : 0u) | ((needs & kIn1) ? kIn0 : 0u); }});
  // out = beta * input + alpha * A B
  set_derivative(
      Op::addmm,
      {[](const BackwardCtx& c) {
         const auto [beta, alpha] = AddmmParams::from(c.p);
         const Tensor& g = c.grad();
         Tensor gi, ga, gb;
         if (c.needs[0]) gi = beta == 1.0 ? g : g * beta;
         if (c.needs[1]) ga = alpha == 1.0 ? mm(g, c.in[2].t()) : mm(g, c.in[2].t()) * alpha;
         if (c.needs[2]) gb = alpha == 1.0 ? mm(c.in[1].t(), g) : mm(c.in[1].t(), g) * alpha;
         return G{gi, ga, gb};
       },
       0, 0, [](uint32_t needs) { return ((needs & kIn1) ? kIn2 : 0u) | ((needs & kIn2) ? kIn1 : 0u); }});
}

}  // namespace nabla

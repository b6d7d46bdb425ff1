// Backward formulas of the matrix products.
#include "autograd/derivatives.h"
#include "ops/params_linalg.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

}  // namespace

void register_linalg_derivatives() {
  // C = A B:  dA = dC B^T,  dB = A^T dC. For an input in column-major layout (TensorMeta::
  // col_major: a weight's .t() in linear) its gradient is formed transposed, dB = (dC^T A)^T,
  // so that it has the input's layout: the view's backward turns it back into a dense
  // tensor, which AccumulateGrad keeps instead of copying a strided one (10% of the MLP step).
  set_derivative(
      Op::bmm,
      {[](const BackwardCtx& c) {
         const Tensor &g = c.grad(), &a = c.in[0], &b = c.in[1];
         Tensor ga, gb;
         if (c.needs[0])
           ga =
               c.in_meta[0].col_major ? bmm(b, g.transpose(1, 2)).transpose(1, 2) : bmm(g, b.transpose(1, 2));
         if (c.needs[1])
           gb =
               c.in_meta[1].col_major ? bmm(g.transpose(1, 2), a).transpose(1, 2) : bmm(a.transpose(1, 2), g);
         return G{ga, gb};
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
         const Tensor &a = c.in[1], &b = c.in[2];
         const auto scaled = [alpha](Tensor t) { return alpha == 1.0 ? t : t * alpha; };
         if (c.needs[1]) ga = c.in_meta[1].col_major ? scaled(mm(b, g.t())).t() : scaled(mm(g, b.t()));
         if (c.needs[2]) gb = c.in_meta[2].col_major ? scaled(mm(g.t(), a)).t() : scaled(mm(a.t(), g));
         return G{gi, ga, gb};
       },
       0, 0, [](uint32_t needs) { return ((needs & kIn1) ? kIn2 : 0u) | ((needs & kIn2) ? kIn1 : 0u); }});
}

}  // namespace nabla

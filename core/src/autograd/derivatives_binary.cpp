// Backward formulas of the binary family. Gradients may come out in the broadcast shape:
// OpNode sums them back to each input's shape.
#include "autograd/derivatives.h"
#include "ops/params_binary.h"

namespace nabla {
namespace {

using G = std::vector<Tensor>;

// a's gradient needs b and b's needs a.
uint32_t save_other(uint32_t needs) {
  uint32_t s = 0;
  if (needs & kIn0) s |= kIn1;
  if (needs & kIn1) s |= kIn0;
  return s;
}

}  // namespace

void register_binary_derivatives() {
  set_derivative(Op::add, {[](const BackwardCtx& c) {
                   const double alpha = AlphaParams::from(c.p).alpha.to_double();
                   return G{c.grad(), c.needs[1] ? (alpha == 1.0 ? c.grad() : c.grad() * alpha) : Tensor()};
                 }});
  set_derivative(Op::sub, {[](const BackwardCtx& c) {
                   const double alpha = AlphaParams::from(c.p).alpha.to_double();
                   return G{c.grad(), c.needs[1] ? c.grad() * -alpha : Tensor()};
                 }});
  set_derivative(
      Op::mul,
      {[](const BackwardCtx& c) {
         return G{c.needs[0] ? c.grad() * c.in[1] : Tensor(), c.needs[1] ? c.grad() * c.in[0] : Tensor()};
       },
       0, 0, &save_other});
  set_derivative(Op::div, {[](const BackwardCtx& c) {
                             const Tensor& b = c.in[1];
                             return G{c.needs[0] ? c.grad() / b : Tensor(),
                                      c.needs[1] ? -(c.grad() * c.in[0]) / (b * b) : Tensor()};
                           },
                           0, 0, [](uint32_t needs) { return kIn1 | ((needs & kIn1) ? kIn0 : 0u); }});
  // d/da a^b = b a^(b-1); d/db a^b = a^b log(a), taken as 0 where a = 0 and b >= 0.
  set_derivative(Op::pow, {[](const BackwardCtx& c) {
                             const Tensor &a = c.in[0], &b = c.in[1], &y = c.out[0];
                             Tensor ga, gb;
                             if (c.needs[0]) ga = c.grad() * b * pow(a, b - 1.0);
                             if (c.needs[1]) {
                               gb = where(eq(a, 0.0) * ge(b, 0.0), Scalar(0.0), c.grad() * y * log(a));
                             }
                             return G{ga, gb};
                           },
                           kIn0 | kIn1, kOut0});
  // Ties split the gradient evenly, as torch.maximum.
  set_derivative(Op::maximum, {[](const BackwardCtx& c) {
                                 const Tensor &a = c.in[0], &b = c.in[1], &g = c.grad();
                                 const Tensor half = where(eq(a, b), g * 0.5, g);
                                 return G{c.needs[0] ? where(lt(a, b), Scalar(0.0), half) : Tensor(),
                                          c.needs[1] ? where(gt(a, b), Scalar(0.0), half) : Tensor()};
                               },
                               kIn0 | kIn1, 0});
  set_derivative(Op::minimum, {[](const BackwardCtx& c) {
                                 const Tensor &a = c.in[0], &b = c.in[1], &g = c.grad();
                                 const Tensor half = where(eq(a, b), g * 0.5, g);
                                 return G{c.needs[0] ? where(gt(a, b), Scalar(0.0), half) : Tensor(),
                                          c.needs[1] ? where(lt(a, b), Scalar(0.0), half) : Tensor()};
                               },
                               kIn0 | kIn1, 0});
  set_derivative(Op::where, {[](const BackwardCtx& c) {
                               const Tensor& cond = c.in[0];
                               return G{Tensor(), c.needs[1] ? where(cond, c.grad(), Scalar(0.0)) : Tensor(),
                                        c.needs[2] ? where(cond, Scalar(0.0), c.grad()) : Tensor()};
                             },
                             kIn0, 0});
}

}  // namespace nabla

// Backward formulas of the view ops.
#include "autograd/derivatives.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;
}  // namespace

void register_view_derivatives() {
  set_derivative(Op::view, {[](const BackwardCtx& c) { return G{c.grad().reshape(c.in_meta[0].sizes)}; }});
  set_derivative(Op::permute, {[](const BackwardCtx& c) {
                                 Shape inverse(c.p.dims.size());
                                 for (std::size_t i = 0; i < c.p.dims.size(); ++i) inverse[c.p.dims[i]] = static_cast<int64_t>(i);
                                 return G{c.grad().permute(inverse)};
                               }});
  set_derivative(Op::slice, {[](const BackwardCtx& c) {
                               Tensor r = zeros_like_input(c, 0);
                               const int64_t len = c.grad().size(c.p.dim);
                               r.slice(c.p.dim, c.p.i0, c.p.i0 + (len - 1) * c.p.i1 + 1, c.p.i1).copy_(c.grad());
                               return G{r};
                             }});
  set_derivative(Op::select, {[](const BackwardCtx& c) {
                                Tensor r = zeros_like_input(c, 0);
                                r.select(c.p.dim, c.p.i0).copy_(c.grad());
                                return G{r};
                              }});
  // expand: the gradient in the expanded shape; OpNode sums it back over broadcast dims.
  set_derivative(Op::expand, {[](const BackwardCtx& c) { return G{c.grad()}; }});
}

}  // namespace nabla

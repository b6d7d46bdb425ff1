// Backward formulas of the view ops.
#include "autograd/derivatives.h"
#include "nabla/autograd.h"
#include "ops/params_view.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;
}  // namespace

void register_view_derivatives() {
  set_derivative(Op::view, {[](const BackwardCtx& c) { return G{c.grad().reshape(c.in_meta[0].sizes)}; }});
  set_derivative(Op::permute, {[](const BackwardCtx& c) {
                   const Shape dims = PermuteParams::from(c.p).dims;
                   Shape inverse(dims.size());
                   for (std::size_t i = 0; i < dims.size(); ++i) inverse[dims[i]] = static_cast<int64_t>(i);
                   return G{c.grad().permute(inverse)};
                 }});
  // Both write the gradient into a zeros tensor; under create_graph (grad mode on) autograd
  // cannot record a copy into a view, so the same sum goes through index_add, which records.
  set_derivative(Op::slice, {[](const BackwardCtx& c) {
                   const SliceParams p = SliceParams::from(c.p);
                   Tensor r = zeros_like_input(c, 0);
                   const int64_t len = c.grad().size(p.dim);
                   if (GradMode::is_enabled()) {
                     const Tensor at = arange(p.start, p.start + len * p.step, p.step,
                                              TensorOptions(kInt64).device(r.device()));
                     return G{index_add(r, p.dim, at, c.grad())};
                   }
                   r.slice(p.dim, p.start, p.start + (len - 1) * p.step + 1, p.step).copy_(c.grad());
                   return G{r};
                 }});
  set_derivative(Op::select, {[](const BackwardCtx& c) {
                   const SelectParams p = SelectParams::from(c.p);
                   Tensor r = zeros_like_input(c, 0);
                   if (GradMode::is_enabled()) {
                     const Tensor at = full({1}, p.index, TensorOptions(kInt64).device(r.device()));
                     return G{index_add(r, p.dim, at, c.grad().unsqueeze(p.dim))};
                   }
                   r.select(p.dim, p.index).copy_(c.grad());
                   return G{r};
                 }});
  // expand: the gradient in the expanded shape; OpNode sums it back over broadcast dims.
  set_derivative(Op::expand, {[](const BackwardCtx& c) { return G{c.grad()}; }});
}

}  // namespace nabla

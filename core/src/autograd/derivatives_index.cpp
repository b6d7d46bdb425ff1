// Backward formulas of indexing, joining and splitting: each is the adjoint op (gather <->
// scatter_add, index_select <-> index_add, cat -> narrow).
#include "autograd/derivatives.h"
#include "nabla/autograd.h"
#include "ops/params_index.h"

namespace nabla {
namespace {

using G = std::vector<Tensor>;

// The dim the node's call indexed or joined along.
int64_t dim(const BackwardCtx& c) { return IndexParams::from(c.p).dim; }

// t (of index's shape) placed at the start of each dim of a zero tensor shaped like input i;
// scatter_add's src may be larger than its index.
Tensor pad_to_input(const BackwardCtx& c, std::size_t i, const Tensor& t) {
  if (t.sizes() == c.in_meta[i].sizes) return t;
  if (GradMode::is_enabled()) {
    // create_graph: a copy into a view does not record; padding by cat does
    Tensor r = t;
    for (int64_t d = 0; d < t.dim(); ++d) {
      const int64_t missing = c.in_meta[i].sizes[d] - r.size(d);
      if (missing == 0) continue;
      Shape pad = r.sizes();
      pad[d] = missing;
      r = cat({r, zeros(pad, r.options())}, d);
    }
    return r;
  }
  Tensor r = zeros_like_input(c, i);
  Tensor region = r;
  for (int64_t d = 0; d < t.dim(); ++d) region = region.narrow(d, 0, t.size(d));
  region.copy_(t);
  return r;
}

}  // namespace

void register_index_derivatives() {
  set_derivative(Op::gather,
                 {[](const BackwardCtx& c) {
                    return G{scatter_add(zeros_like_input(c, 0), dim(c), c.in[1], c.grad()), Tensor()};
                  },
                  kIn1, 0});
  set_derivative(Op::scatter_add, {[](const BackwardCtx& c) {
                                     Tensor gsrc;
                                     if (c.needs[2])
                                       gsrc = pad_to_input(c, 2, gather(c.grad(), dim(c), c.in[1]));
                                     return G{c.needs[0] ? c.grad() : Tensor(), Tensor(), gsrc};
                                   },
                                   kIn1, 0});
  set_derivative(Op::index_select,
                 {[](const BackwardCtx& c) {
                    return G{index_add(zeros_like_input(c, 0), dim(c), c.in[1], c.grad()), Tensor()};
                  },
                  kIn1, 0});
  set_derivative(Op::index_add, {[](const BackwardCtx& c) {
                                   return G{c.needs[0] ? c.grad() : Tensor(), Tensor(),
                                            c.needs[2] ? index_select(c.grad(), dim(c), c.in[1]) : Tensor()};
                                 },
                                 kIn1, 0});
  set_derivative(Op::cat, {[](const BackwardCtx& c) {
                   G r(c.in_meta.size());
                   const int64_t out_dims = c.grad().dim(), d = dim(c);
                   int64_t at = 0;
                   for (std::size_t i = 0; i < c.in_meta.size(); ++i) {
                     const Shape& s = c.in_meta[i].sizes;
                     if (static_cast<int64_t>(s.size()) != out_dims) continue;  // skipped empty input
                     if (c.needs[i]) r[i] = c.grad().narrow(d, at, s[d]);
                     at += s[d];
                   }
                   return r;
                 }});
}

}  // namespace nabla

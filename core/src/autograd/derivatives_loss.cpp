// Backward formula of the fused cross-entropy: its backward primitive computes the whole
// gradient of the logits in one pass from the saved log-sum-exp (core/math/loss.h):
//   gx_c = g (A p_c - a_c),  p = softmax(x),  a_c = (1 - s) w_t [c == t] + (s / C) w_c,  A = sum_c a_c.
// The primitive's own formula (double backward), in differentiable ops:
//   d/dg: sum_c gg_c (A p_c - a_c)   (the primitive at g = 1, contracted with gg)
//   d/dx: g A (p gg - p sum(p gg)) = softmax_backward(g A gg, p)
// with p recomputed from x, so that lse (a function of x, saved from the forward) takes no
// gradient of its own: the cross_entropy node ignores gradients of its lse output.
#include "autograd/derivatives.h"
#include "ops/params_loss.h"
#include "ops/params_softmax.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// The primitive: inputs (g [N], logits [N, C], target [N], weight [C], lse [N]).
Tensor ce_backward(const Tensor& g, const Tensor& x, const Tensor& t, const Tensor& w, const Tensor& lse,
                   const OpParams& p) {
  const std::array<Tensor, 5> in{g.to(x.dtype()).contiguous(), x, t, w, lse};
  Tensor gx = make_tensor(x.sizes(), x.dtype(), x.device(), "cross_entropy_backward");
  run_op(Op::cross_entropy_backward, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&gx, 1),
         p);
  return gx;
}

}  // namespace

void register_loss_derivatives() {
  set_derivative(Op::cross_entropy, {[](const BackwardCtx& c) {
                                       return std::vector<Tensor>{
                                           ce_backward(c.grad(), c.in[0], c.in[1], c.in[2], c.out[1], c.p),
                                           Tensor(), Tensor()};
                                     },
                                     kIn0 | kIn1 | kIn2, 1u << 1});
  set_derivative(
      Op::cross_entropy_backward,
      {[](const BackwardCtx& c) {
         const Tensor &gg = c.grad(), &g = c.in[0], &x = c.in[1], &t = c.in[2], &w = c.in[3], &lse = c.in[4];
         std::vector<Tensor> r(5);
         if (c.needs[0]) r[0] = sum(gg * ce_backward(ones_like(g), x, t, w, lse, c.p), {1});
         if (c.needs[1]) {
           // A per row: (1 - s) w_t + (s / C) sum(w) where the target counts, else 0
           const CrossEntropyParams p = CrossEntropyParams::from(c.p);
           const int64_t classes = x.size(1);
           const Tensor valid = ne(t, p.ignore_index).to(x.dtype()) * ge(t, int64_t{0}).to(x.dtype()) *
                                lt(t, classes).to(x.dtype());
           const Tensor safe_t = where(gt(valid, 0.0), t, Scalar(int64_t{0}));
           const Tensor w_t = index_select(w, 0, safe_t) * valid;
           const Tensor total = w_t * (1.0 - p.label_smoothing) +
                                valid * sum(w) * (p.label_smoothing / static_cast<double>(classes));
           const Tensor prob = softmax(x, 1);
           const Tensor scaled = gg * (g * total).unsqueeze(1);
           r[1] = run_op(Op::softmax_backward, {scaled.contiguous(), prob},
                         make_tensor(x.sizes(), x.dtype(), x.device(), "softmax_backward"),
                         SoftmaxParams{1}.params());
         }
         return r;
       },
       kIn0 | kIn1 | kIn2 | kIn3 | kIn4, 0});
}

}  // namespace nabla

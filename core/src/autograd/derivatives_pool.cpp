// Backward formulas of the pooling primitives: each has a backward primitive that routes the
// output gradient back to the input positions of its windows. The backward primitives are
// linear in the gradient, so their own formulas (double backward) are their adjoints: the
// forward pooling again (average pools), or a gather through the saved indices (max pool).
#include "autograd/derivatives.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
using G = std::vector<Tensor>;

// The backward primitive takes its forward's parameters (PoolParams, none for adaptive pooling).
Tensor pool_backward(Op op, const BackwardCtx& c, std::initializer_list<Tensor> inputs) {
  const TensorMeta& m = c.in_meta[0];
  Tensor gx = make_tensor(m.sizes, m.dtype, m.device, op_name(op));
  return run_op(op, inputs, gx, c.p);
}
}  // namespace

void register_pool_derivatives() {
  set_derivative(Op::max_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::max_pool2d_backward, c, {c.grad().contiguous(), c.out[1]})};
                  },
                  0, 1u << 1});
  set_derivative(Op::avg_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::avg_pool2d_backward, c, {c.grad().contiguous()})};
                  },
                  0, 0});
  set_derivative(Op::adaptive_avg_pool2d,
                 {[](const BackwardCtx& c) {
                    return G{pool_backward(Op::adaptive_avg_pool2d_backward, c, {c.grad().contiguous()})};
                  },
                  0, 0});

  // grad_x[plane, indices[plane, j]] += g[plane, j]: the adjoint reads gg at the indices.
  set_derivative(Op::max_pool2d_backward,
                 {[](const BackwardCtx& c) {
                    const Tensor &gg = c.grad(), &indices = c.in[1];
                    const Shape& gs = c.in_meta[0].sizes;
                    const int64_t planes = gs[0] * gs[1];
                    const Tensor flat_gg = gg.reshape({planes, gg.size(2) * gg.size(3)});
                    const Tensor flat_idx = indices.reshape({planes, gs[2] * gs[3]});
                    return G{gather(flat_gg, 1, flat_idx).reshape(gs), Tensor()};
                  },
                  kIn1, 0});
  set_derivative(Op::avg_pool2d_backward, {[](const BackwardCtx& c) {
                   const TensorMeta& m = c.in_meta[0];
                   Tensor y = make_tensor(m.sizes, m.dtype, m.device, "avg_pool2d");
                   return G{run_op(Op::avg_pool2d, {c.grad().contiguous()}, y, c.p)};
                 }});
  set_derivative(Op::adaptive_avg_pool2d_backward, {[](const BackwardCtx& c) {
                   const TensorMeta& m = c.in_meta[0];
                   Tensor y = make_tensor(m.sizes, m.dtype, m.device, "adaptive_avg_pool2d");
                   return G{run_op(Op::adaptive_avg_pool2d, {c.grad().contiguous()}, y, c.p)};
                 }});
}

}  // namespace nabla

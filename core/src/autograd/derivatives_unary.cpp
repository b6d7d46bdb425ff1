// Backward formulas of the unary family. Activations use their fused backward primitives
// (relu_backward, ...), whose functors sit beside the forward ones in core/math/unary.h.
#include "autograd/derivatives.h"
#include "ops/params_unary.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

using G = std::vector<Tensor>;

// grad_input = op(grad, saved) through a backward primitive.
Tensor act_backward(Op op, const Tensor& g, const Tensor& saved, const OpParams& p) {
  const Tensor gg = g.dtype() == saved.dtype() ? g : g.to(saved.dtype());
  Tensor out = make_tensor(saved.sizes(), saved.dtype(), saved.device(), op_name(op));
  const std::array<Tensor, 2> in{gg.expand(saved.sizes()), saved};
  run_op(op, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1), p);
  return out;
}

void def(Op op, BackwardFn fn, uint32_t save_in, uint32_t save_out) {
  set_derivative(op, {fn, save_in, save_out});
}

}  // namespace

void register_unary_derivatives() {
  def(
      Op::neg, [](const BackwardCtx& c) { return G{neg(c.grad())}; }, 0, 0);
  def(
      Op::abs, [](const BackwardCtx& c) { return G{c.grad() * sign(c.in[0])}; }, kIn0, 0);
  def(
      Op::sign, [](const BackwardCtx& c) { return G{zeros_like(c.grad())}; }, 0, 0);
  def(
      Op::exp, [](const BackwardCtx& c) { return G{c.grad() * c.out[0]}; }, 0, kOut0);
  def(
      Op::log, [](const BackwardCtx& c) { return G{c.grad() / c.in[0]}; }, kIn0, 0);
  def(
      Op::log1p, [](const BackwardCtx& c) { return G{c.grad() / (c.in[0] + 1)}; }, kIn0, 0);
  def(
      Op::expm1, [](const BackwardCtx& c) { return G{c.grad() * (c.out[0] + 1)}; }, 0, kOut0);
  def(
      Op::sqrt, [](const BackwardCtx& c) { return G{c.grad() / (c.out[0] * 2)}; }, 0, kOut0);
  def(
      Op::rsqrt,
      [](const BackwardCtx& c) {
        const Tensor& y = c.out[0];
        return G{c.grad() * (y * y * y) * -0.5};
      },
      0, kOut0);
  def(
      Op::sin, [](const BackwardCtx& c) { return G{c.grad() * cos(c.in[0])}; }, kIn0, 0);
  def(
      Op::cos, [](const BackwardCtx& c) { return G{-(c.grad() * sin(c.in[0]))}; }, kIn0, 0);
  def(
      Op::reciprocal,
      [](const BackwardCtx& c) {
        const Tensor& y = c.out[0];
        return G{-(c.grad() * y * y)};
      },
      0, kOut0);
  def(
      Op::tanh,
      [](const BackwardCtx& c) { return G{act_backward(Op::tanh_backward, c.grad(), c.out[0], c.p)}; }, 0,
      kOut0);
  def(
      Op::sigmoid,
      [](const BackwardCtx& c) { return G{act_backward(Op::sigmoid_backward, c.grad(), c.out[0], c.p)}; }, 0,
      kOut0);
  def(
      Op::relu,
      [](const BackwardCtx& c) { return G{act_backward(Op::relu_backward, c.grad(), c.out[0], c.p)}; }, 0,
      kOut0);
  def(
      Op::leaky_relu,
      [](const BackwardCtx& c) { return G{act_backward(Op::leaky_relu_backward, c.grad(), c.in[0], c.p)}; },
      kIn0, 0);
  def(
      Op::elu, [](const BackwardCtx& c) { return G{act_backward(Op::elu_backward, c.grad(), c.in[0], c.p)}; },
      kIn0, 0);
  def(
      Op::gelu,
      [](const BackwardCtx& c) { return G{act_backward(Op::gelu_backward, c.grad(), c.in[0], c.p)}; }, kIn0,
      0);
  def(
      Op::silu,
      [](const BackwardCtx& c) { return G{act_backward(Op::silu_backward, c.grad(), c.in[0], c.p)}; }, kIn0,
      0);
  def(
      Op::softplus,
      [](const BackwardCtx& c) { return G{act_backward(Op::softplus_backward, c.grad(), c.in[0], c.p)}; },
      kIn0, 0);
  // The gradient passes where min <= x <= max (bounds inclusive), as torch.clamp.
  def(
      Op::clamp,
      [](const BackwardCtx& c) {
        const Tensor& x = c.in[0];
        const ClampParams p = ClampParams::from(c.p);
        Tensor g = c.grad();
        if (p.min) g = where(lt(x, *p.min), Scalar(0.0), g);
        if (p.max) g = where(gt(x, *p.max), Scalar(0.0), g);
        return G{g};
      },
      kIn0, 0);
  def(
      Op::pow_scalar,
      [](const BackwardCtx& c) {
        const double e = PowScalarParams::from(c.p).exponent.to_double();
        if (e == 0.0) return G{zeros_like(c.grad())};
        return G{c.grad() * pow(c.in[0], e - 1.0) * e};
      },
      kIn0, 0);
}

}  // namespace nabla

// Backward formulas of the unary family. Activations use their fused backward primitives
// (relu_backward, ...), whose functors sit beside the forward ones in core/math/unary.h. The
// primitives have formulas of their own (for create_graph: double backward), each
//   d/dg = the primitive again (it is linear in g),  d/ds = g * d(f')/ds
// with the second derivatives written in differentiable ops.
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

// A backward primitive (grad, saved) -> grad * f'(saved) is linear in grad: its gradient for
// grad is the primitive applied to the incoming gradient. Its gradient for saved is
// `second[op](c)`: gg * g * d f'(s) / ds, or zeros where f' is piecewise constant (as
// PyTorch's formulas give), written in differentiable ops.
using SecondFn = Tensor (*)(const BackwardCtx& c);
SecondFn g_second[kNumOps] = {};

std::vector<Tensor> primitive_backward(const BackwardCtx& c) {
  const Tensor& s = c.in[1];
  Tensor dg, ds;
  if (c.needs[0]) dg = act_backward(c.op, c.grad(), s, c.p);
  if (c.needs[1]) ds = g_second[static_cast<int>(c.op)](c);
  return G{dg, ds};
}

void def_primitive(Op op, SecondFn second) {
  g_second[static_cast<int>(op)] = second;
  set_derivative(op, {&primitive_backward, kIn0 | kIn1, 0});
}

// gg * g, the factor every second derivative starts with.
Tensor gg_g(const BackwardCtx& c) { return c.grad() * c.in[0]; }

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

  // ---- the backward primitives: (g, s) with s = y for relu/sigmoid/tanh, x for the others ----
  def_primitive(Op::relu_backward, [](const BackwardCtx& c) { return zeros_like(c.in[1]); });
  def_primitive(Op::leaky_relu_backward, [](const BackwardCtx& c) { return zeros_like(c.in[1]); });
  // f' = 1 - y^2: d/dy = -2 y
  def_primitive(Op::tanh_backward, [](const BackwardCtx& c) { return gg_g(c) * c.in[1] * -2.0; });
  // f' = y (1 - y): d/dy = 1 - 2 y
  def_primitive(Op::sigmoid_backward, [](const BackwardCtx& c) { return gg_g(c) * (1.0 - c.in[1] * 2.0); });
  // f' = 1 for x > 0, alpha e^x otherwise
  def_primitive(Op::elu_backward, [](const BackwardCtx& c) {
    const Tensor& x = c.in[1];
    const double alpha = EluParams::from(c.p).alpha;
    return where(gt(x, 0.0), Scalar(0.0), gg_g(c) * exp(x) * alpha);
  });
  // f' = Phi(x) + x phi(x): f'' = phi(x) (2 - x^2), phi the standard normal density
  def_primitive(Op::gelu_backward, [](const BackwardCtx& c) {
    const Tensor& x = c.in[1];
    const Tensor pdf = exp(x * x * -0.5) * 0.39894228040143267794;
    return gg_g(c) * pdf * (2.0 - x * x);
  });
  // f' = s (1 + x (1 - s)), s = sigmoid(x): f'' = s (1 - s) (2 + x (1 - 2 s))
  def_primitive(Op::silu_backward, [](const BackwardCtx& c) {
    const Tensor& x = c.in[1];
    const Tensor s = sigmoid(x);
    return gg_g(c) * s * (1.0 - s) * (x * (1.0 - s * 2.0) + 2.0);
  });
  // f' = sigmoid(beta x) (1 above the threshold): f'' = beta s (1 - s), 0 above it
  def_primitive(Op::softplus_backward, [](const BackwardCtx& c) {
    const Tensor& x = c.in[1];
    const SoftplusParams p = SoftplusParams::from(c.p);
    const Tensor s = sigmoid(x * p.beta);
    return where(gt(x * p.beta, p.threshold), Scalar(0.0), gg_g(c) * s * (1.0 - s) * p.beta);
  });
}

}  // namespace nabla

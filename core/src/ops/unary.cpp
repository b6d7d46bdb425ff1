// Front ends of the unary family: dtype rules (integer inputs of float ops become float32),
// output allocation, and the in-place variants.
#include "nabla/autograd.h"
#include "nabla/nn/functional.h"
#include "ops/op_helpers.h"
#include "ops/params_unary.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// Float-valued ops promote integer and bool inputs to the default float dtype, as PyTorch.
Tensor float_unary(Op op, const Tensor& x, const OpParams& p = {}) {
  check_defined(x, op_name(op));
  const Tensor in = is_floating_point(x.dtype()) ? x : x.to(default_dtype());
  return run_op(op, {in}, make_tensor(in.sizes(), in.dtype(), in.device(), op_name(op)), p);
}

// Ops that keep integer dtypes; bool is rejected as PyTorch does.
Tensor numeric_unary(Op op, const Tensor& x, const OpParams& p = {}) {
  check_defined(x, op_name(op));
  NABLA_CHECK(x.dtype() != kBool, "{}: not supported for bool tensors", op_name(op));
  return run_op(op, {x}, make_tensor(x.sizes(), x.dtype(), x.device(), op_name(op)), p);
}

// In place: straight into self when autograd is not involved, else out of place + commit.
// out_of_place(src) computes the op of src. Under autograd src is a clone of self, so that a
// formula that saves its input (abs, log, clamp, pow) keeps self's original values rather
// than an alias that the commit overwrites (as PyTorch saves `original_self`).
template <class F>
Tensor& unary_inplace(Tensor& self, std::string_view name, Op op, const OpParams& p, F out_of_place) {
  const bool ag = inplace_needs_autograd(self, {});
  check_inplace(self, name, ag);
  const bool float_op = op != Op::neg && op != Op::abs && op != Op::relu && op != Op::clamp;
  if (!ag && (!float_op || is_floating_point(self.dtype())) && self.dtype() != kBool) {
    run_op(op, {self}, self, p);
    return self;
  }
  return commit_inplace(self, out_of_place(ag ? self.clone() : self), name);
}

}  // namespace

Tensor neg(const Tensor& x) { return numeric_unary(Op::neg, x); }
Tensor abs(const Tensor& x) { return numeric_unary(Op::abs, x); }
Tensor sign(const Tensor& x) {
  check_defined(x, "sign");
  if (x.dtype() == kBool) return x.clone();
  return numeric_unary(Op::sign, x);
}
Tensor relu(const Tensor& x) { return numeric_unary(Op::relu, x); }
Tensor exp(const Tensor& x) { return float_unary(Op::exp, x); }
Tensor log(const Tensor& x) { return float_unary(Op::log, x); }
Tensor log1p(const Tensor& x) { return float_unary(Op::log1p, x); }
Tensor expm1(const Tensor& x) { return float_unary(Op::expm1, x); }
Tensor sqrt(const Tensor& x) { return float_unary(Op::sqrt, x); }
Tensor rsqrt(const Tensor& x) { return float_unary(Op::rsqrt, x); }
Tensor sin(const Tensor& x) { return float_unary(Op::sin, x); }
Tensor cos(const Tensor& x) { return float_unary(Op::cos, x); }
Tensor tanh(const Tensor& x) { return float_unary(Op::tanh, x); }
Tensor sigmoid(const Tensor& x) { return float_unary(Op::sigmoid, x); }
Tensor reciprocal(const Tensor& x) { return float_unary(Op::reciprocal, x); }
Tensor gelu(const Tensor& x) { return float_unary(Op::gelu, x); }
Tensor silu(const Tensor& x) { return float_unary(Op::silu, x); }

Tensor leaky_relu(const Tensor& x, double negative_slope) {
  return float_unary(Op::leaky_relu, x, LeakyReluParams{negative_slope}.params());
}

Tensor elu(const Tensor& x, double alpha) { return float_unary(Op::elu, x, EluParams{alpha}.params()); }

Tensor softplus(const Tensor& x, double beta, double threshold) {
  NABLA_CHECK(beta != 0.0, "softplus: beta must be non-zero");
  return float_unary(Op::softplus, x, SoftplusParams{beta, threshold}.params());
}

namespace {
OpParams clamp_params(const Tensor& x, const std::optional<Scalar>& lo, const std::optional<Scalar>& hi) {
  check_defined(x, "clamp");
  NABLA_CHECK(lo || hi, "clamp: at least one of min and max must be given");
  NABLA_CHECK(
      !(is_integral(x.dtype(), true) && ((lo && lo->is_floating_point()) || (hi && hi->is_floating_point()))),
      "clamp: floating-point bounds for an integer tensor of {}; convert the tensor first",
      dtype_name(x.dtype()));
  return ClampParams{lo, hi}.params();
}
}  // namespace

Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max) {
  return numeric_unary(Op::clamp, x, clamp_params(x, min, max));
}

Tensor pow(const Tensor& x, const Scalar& exponent) {
  check_defined(x, "pow");
  const OpParams p = PowScalarParams{exponent}.params();
  if (is_integral(x.dtype(), true) && !exponent.is_floating_point()) {
    NABLA_CHECK(x.dtype() != kBool, "pow: not supported for bool tensors");
    NABLA_CHECK(exponent.to_int() >= 0,
                "pow: integers to negative integer powers are not allowed (exponent {})", exponent.to_int());
    return numeric_unary(Op::pow_scalar, x, p);
  }
  return float_unary(Op::pow_scalar, x, p);
}

// ---- in place -----------------------------------------------------------------------------
Tensor& Tensor::neg_() {
  return unary_inplace(*this, "neg_", Op::neg, {}, [&](const Tensor& s) { return nabla::neg(s); });
}
Tensor& Tensor::abs_() {
  return unary_inplace(*this, "abs_", Op::abs, {}, [&](const Tensor& s) { return nabla::abs(s); });
}
Tensor& Tensor::exp_() {
  return unary_inplace(*this, "exp_", Op::exp, {}, [&](const Tensor& s) { return nabla::exp(s); });
}
Tensor& Tensor::log_() {
  return unary_inplace(*this, "log_", Op::log, {}, [&](const Tensor& s) { return nabla::log(s); });
}
Tensor& Tensor::sqrt_() {
  return unary_inplace(*this, "sqrt_", Op::sqrt, {}, [&](const Tensor& s) { return nabla::sqrt(s); });
}
Tensor& Tensor::tanh_() {
  return unary_inplace(*this, "tanh_", Op::tanh, {}, [&](const Tensor& s) { return nabla::tanh(s); });
}
Tensor& Tensor::sigmoid_() {
  return unary_inplace(*this, "sigmoid_", Op::sigmoid, {},
                       [&](const Tensor& s) { return nabla::sigmoid(s); });
}
Tensor& Tensor::relu_() {
  return unary_inplace(*this, "relu_", Op::relu, {}, [&](const Tensor& s) { return nabla::relu(s); });
}
Tensor& Tensor::clamp_(std::optional<Scalar> min, std::optional<Scalar> max) {
  const OpParams p = clamp_params(*this, min, max);
  return unary_inplace(*this, "clamp_", Op::clamp, p,
                       [&](const Tensor& s) { return nabla::clamp(s, min, max); });
}
Tensor& Tensor::pow_(const Scalar& exponent) {
  return unary_inplace(*this, "pow_", Op::pow_scalar, PowScalarParams{exponent}.params(),
                       [&](const Tensor& s) { return nabla::pow(s, exponent); });
}

// The in-place activations of nn::functional (the layers' inplace=true).
namespace nn::functional {
Tensor& relu_(Tensor& x) { return x.relu_(); }
Tensor& leaky_relu_(Tensor& x, double negative_slope) {
  return unary_inplace(x, "leaky_relu_", Op::leaky_relu, LeakyReluParams{negative_slope}.params(),
                       [&](const Tensor& s) { return nabla::leaky_relu(s, negative_slope); });
}
Tensor& elu_(Tensor& x, double alpha) {
  return unary_inplace(x, "elu_", Op::elu, EluParams{alpha}.params(),
                       [&](const Tensor& s) { return nabla::elu(s, alpha); });
}
Tensor& silu_(Tensor& x) {
  return unary_inplace(x, "silu_", Op::silu, {}, [&](const Tensor& s) { return nabla::silu(s); });
}
}  // namespace nn::functional

}  // namespace nabla

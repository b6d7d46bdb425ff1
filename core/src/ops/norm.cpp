// Front ends of batch_norm, layer_norm and dropout2d (nabla::nn::functional). Training-mode
// batch norm and layer norm run the fused norm primitives of ops.def; evaluation-mode batch
// norm is an affine map with the running statistics, written in ops (autograd derives it);
// dropout2d is a per-channel mask drawn from Philox.
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/functional.h"
#include "ops/nn_ops.h"
#include "ops/op_helpers.h"
#include "ops/params_norm.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn::functional {
namespace {

// The statistics' dtype of ops.def's norm ops: float32 for 16-bit inputs.
ScalarType stat_dtype(ScalarType t) { return t == kFloat64 ? kFloat64 : kFloat32; }

void check_vector(const Tensor& t, int64_t n, const Tensor& x, std::string_view op, std::string_view what) {
  if (!t.defined()) return;
  NABLA_CHECK(t.dim() == 1 && t.size(0) == n,
              "{}: expected {} of shape [{}] (one per channel of input {}), got {}", op, what, n,
              x.shape_str(), t.shape_str());
  NABLA_CHECK(t.device() == x.device(), "{}: {} is on {} but the input is on {}", op, what, t.device().str(),
              x.device().str());
  NABLA_CHECK(t.is_floating_point(), "{}: expected a floating-point {}, got {}", op, what,
              dtype_name(t.dtype()));
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps) {
  constexpr std::string_view op = "batch_norm";
  check_defined(x, op, "input");
  NABLA_CHECK(x.dim() >= 2, "batch_norm: expected an input of at least 2 dims [N, C, ...], got shape {}",
              x.shape_str());
  NABLA_CHECK(x.is_floating_point(), "batch_norm: expected a floating-point input, got {}",
              dtype_name(x.dtype()));
  NABLA_CHECK(eps > 0.0, "batch_norm: eps must be positive, got {}", eps);
  const int64_t ch = x.size(1);
  check_vector(weight, ch, x, op, "weight");
  check_vector(bias, ch, x, op, "bias");
  check_vector(running_mean, ch, x, op, "running_mean");
  check_vector(running_var, ch, x, op, "running_var");
  NABLA_CHECK(running_mean.defined() == running_var.defined(),
              "batch_norm: give both running_mean and running_var, or neither");
  Shape bshape(static_cast<std::size_t>(x.dim()), 1);  // [1, C, 1, ...]
  bshape[1] = ch;
  const ScalarType st = stat_dtype(x.dtype());
  if (!training) {
    // y = x * scale + shift, both per channel, computed in the statistics' dtype
    NABLA_CHECK(running_mean.defined(), "batch_norm: evaluation mode needs running_mean and running_var");
    Tensor scale = rsqrt(running_var.to(st) + eps);
    if (weight.defined()) scale = scale * weight.to(st);
    Tensor shift = -(running_mean.to(st) * scale);
    if (bias.defined()) shift = shift + bias.to(st);
    return x * scale.to(x.dtype()).view(bshape) + shift.to(x.dtype()).view(bshape);
  }
  const int64_t l = x.dim() > 2 ? x.numel() / std::max<int64_t>(x.size(0) * ch, 1) : 1;
  NABLA_CHECK(x.size(0) * l > 1,
              "batch_norm: expected more than 1 value per channel when training, got input of shape {}",
              x.shape_str());
  const TensorOptions so = TensorOptions(st).device(x.device());
  const Tensor w = weight.defined() ? weight.to(st) : ones({ch}, so);
  const Tensor b = bias.defined() ? bias.to(st) : zeros({ch}, so);
  const Tensor x3 = x.reshape({x.size(0), ch, l}).contiguous();
  std::array<Tensor, 3> out{make_tensor(x3.sizes(), x.dtype(), x.device(), op),
                            make_tensor({ch}, st, x.device(), op), make_tensor({ch}, st, x.device(), op)};
  const std::array<Tensor, 3> in{x3, w, b};
  run_op(Op::batch_norm, std::span<const Tensor>(in.data(), in.size()),
         std::span<Tensor>(out.data(), out.size()), NormParams{eps}.params());
  if (running_mean.defined()) {
    NoGradGuard g;
    const Tensor invstd = out[2].to(kFloat64);
    const Tensor var = (invstd * invstd).reciprocal() - eps;  // the biased batch variance
    const double m = static_cast<double>(x.size(0) * l);
    Tensor rm = running_mean, rv = running_var;  // handles: the update is in place, as PyTorch's
    rm.mul_(1.0 - momentum).add_(out[1].to(rm.dtype()) * momentum);
    rv.mul_(1.0 - momentum).add_(var.to(rv.dtype()) * (momentum * m / (m - 1.0)));
  }
  return out[0].view(x.sizes());
}

Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight, const Tensor& bias,
                  double eps) {
  constexpr std::string_view op = "layer_norm";
  check_defined(x, op, "input");
  NABLA_CHECK(x.is_floating_point(), "layer_norm: expected a floating-point input, got {}",
              dtype_name(x.dtype()));
  const Shape& ns = normalized_shape.vec();
  const int64_t k = static_cast<int64_t>(ns.size());
  NABLA_CHECK(k >= 1 && k <= x.dim() && Shape(x.sizes().end() - k, x.sizes().end()) == ns,
              "layer_norm: normalized_shape {} must be the last dims of the input's shape {}",
              shape_to_string(ns), x.shape_str());
  NABLA_CHECK(eps > 0.0, "layer_norm: eps must be positive, got {}", eps);
  int64_t cols = 1;
  for (int64_t s : ns) cols *= s;
  NABLA_CHECK(cols > 0, "layer_norm: normalized_shape {} has no elements", shape_to_string(ns));
  const TensorOptions xo = TensorOptions(x.dtype()).device(x.device());
  for (const Tensor* t : {&weight, &bias}) {
    if (!t->defined()) continue;
    NABLA_CHECK(t->sizes() == ns, "layer_norm: expected {} of shape {}, got {}",
                t == &weight ? "weight" : "bias", shape_to_string(ns), t->shape_str());
    NABLA_CHECK(t->device() == x.device() && t->dtype() == x.dtype(),
                "layer_norm: {} ({} on {}) must match the input ({} on {})", t == &weight ? "weight" : "bias",
                dtype_name(t->dtype()), t->device().str(), dtype_name(x.dtype()), x.device().str());
  }
  const Tensor w = weight.defined() ? weight.reshape({cols}) : ones({cols}, xo);
  const Tensor b = bias.defined() ? bias.reshape({cols}) : zeros({cols}, xo);
  const int64_t rows = x.numel() / cols;
  const Tensor x2 = x.reshape({rows, cols}).contiguous();
  const ScalarType st = stat_dtype(x.dtype());
  std::array<Tensor, 3> out{make_tensor(x2.sizes(), x.dtype(), x.device(), op),
                            make_tensor({rows}, st, x.device(), op), make_tensor({rows}, st, x.device(), op)};
  const std::array<Tensor, 3> in{x2, w, b};
  run_op(Op::layer_norm, std::span<const Tensor>(in.data(), in.size()),
         std::span<Tensor>(out.data(), out.size()), NormParams{eps}.params());
  return out[0].view(x.sizes());
}

namespace {
void check_dropout2d(const Tensor& x, double p, const char* op) {
  check_defined(x, op);
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "{}: probability must be in [0, 1], got {}", op, p);
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4,
              "{}: expected a 3-D [C, H, W] or 4-D [N, C, H, W] input, got shape {}", op, x.shape_str());
  NABLA_CHECK(x.is_floating_point(), "{}: expected a floating-point input, got {}", op,
              dtype_name(x.dtype()));
}
// One draw per channel: [N, C, 1, 1] or [C, 1, 1].
Tensor dropout2d_mask(const Tensor& x, double p, Generator* gen) {
  Shape mask_shape = x.sizes();
  for (std::size_t d = mask_shape.size() - 2; d < mask_shape.size(); ++d) mask_shape[d] = 1;
  return detail::dropout_mask(mask_shape, p, TensorOptions(x.dtype()).device(x.device()), gen);
}
}  // namespace

Tensor dropout2d(const Tensor& x, double p, bool training, Generator* gen) {
  check_dropout2d(x, p, "dropout2d");
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  return x * dropout2d_mask(x, p, gen);
}

Tensor& dropout2d_(Tensor& x, double p, bool training, Generator* gen) {
  check_dropout2d(x, p, "dropout2d_");
  if (!training || p == 0.0) return x;
  check_inplace(x, "dropout2d_", inplace_needs_autograd(x, {}));
  if (p == 1.0) return x.mul_(0.0);
  return x.mul_(dropout2d_mask(x, p, gen));
}

}  // namespace nabla::nn::functional

// Front ends of the losses (nabla::nn::functional). Cross-entropy on class indices runs the
// fused cross_entropy op (softmax + NLL in one pass; the gradient in one pass); the other
// losses are short compositions of ops, so their gradients come from autograd.
#include <cmath>
#include <optional>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/functional.h"
#include "ops/nn_ops.h"
#include "ops/op_helpers.h"
#include "ops/params_loss.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn::functional {
namespace {

Tensor reduce(const Tensor& loss, Reduction r) {
  switch (r) {
    case Reduction::None:
      return loss;
    case Reduction::Sum:
      return loss.sum();
    case Reduction::Mean:
      return loss.mean();
  }
  return loss;
}

void check_same_shape(const Tensor& input, const Tensor& target, std::string_view op) {
  check_defined(input, op, "input");
  check_defined(target, op, "target");
  NABLA_CHECK(input.sizes() == target.sizes(), "{}: target of shape {} does not match input of shape {}", op,
              target.shape_str(), input.shape_str());
  NABLA_CHECK(input.is_floating_point(), "{}: expected a floating-point input, got {}", op,
              dtype_name(input.dtype()));
}

// [N, C, d1, ...] -> [N * d1 * ..., C]; [C] -> [1, C].
Tensor classes_last(const Tensor& x) {
  if (x.dim() == 1) return x.unsqueeze(0);
  if (x.dim() == 2) return x;
  Shape perm{0};
  for (int64_t d = 2; d < x.dim(); ++d) perm.push_back(d);
  perm.push_back(1);
  return x.permute(perm).reshape({-1, x.size(1)});
}

Tensor class_weights(const Tensor& weight, int64_t classes, const Tensor& like, std::string_view op) {
  if (!weight.defined()) return ones({classes}, like.options());
  NABLA_CHECK(weight.dim() == 1 && weight.size(0) == classes, "{}: expected a weight of shape [{}], got {}",
              op, classes, weight.shape_str());
  return weight.to(like.options()).contiguous();  // the fused kernels read it as a dense array
}

// Class indices must lie in [0, classes) unless they equal ignore_index.
void check_class_targets(const Tensor& target, int64_t classes, std::optional<int64_t> ignore,
                         std::string_view op) {
  // On a GPU the min/max would stop the host twice per call: the gather/index_select kernels
  // that read through the targets report a bad one instead, at the next synchronisation point
  // (cuda/kernel_report.h), naming that op.
  if (target.numel() == 0 || !target.device().is_cpu()) return;
  NoGradGuard g;
  const Tensor t = ignore ? where(eq(target, *ignore), Scalar(int64_t{0}), target) : target;
  const int64_t lo = t.min().item<int64_t>(), hi = t.max().item<int64_t>();
  NABLA_CHECK(lo >= 0 && hi < classes, "{}: target {} is out of range for {} classes{}", op, lo < 0 ? lo : hi,
              classes, ignore ? fmt::format(" (and is not ignore_index {})", *ignore) : std::string());
}

}  // namespace

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_same_shape(input, target, "mse_loss");
  const Tensor d = input - target;
  return reduce(d * d, r);
}

Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction r) {
  check_same_shape(input, target, "l1_loss");
  return reduce(abs(input - target), r);
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction r, double beta) {
  check_same_shape(input, target, "smooth_l1_loss");
  NABLA_CHECK(beta >= 0.0, "smooth_l1_loss: beta must be non-negative, got {}", beta);
  const Tensor d = abs(input - target);
  if (beta == 0.0) return reduce(d, r);
  return reduce(where(lt(d, beta), d * d * (0.5 / beta), d - 0.5 * beta), r);
}

Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& o) {
  check_defined(input, "cross_entropy", "input");
  check_defined(target, "cross_entropy", "target");
  NABLA_CHECK(input.is_floating_point(), "cross_entropy: expected floating-point logits, got {}",
              dtype_name(input.dtype()));
  NABLA_CHECK(input.dim() >= 1, "cross_entropy: expected logits of at least 1 dim, got a 0-dim tensor");
  NABLA_CHECK(o.label_smoothing >= 0.0 && o.label_smoothing <= 1.0,
              "cross_entropy: label_smoothing must be in [0, 1], got {}", o.label_smoothing);
  NABLA_CHECK(!(o.weight.defined() && o.weight.requires_grad() && GradMode::is_enabled()),
              "cross_entropy: the derivative for 'weight' is not implemented; pass weight.detach()");
  const int64_t classes = input.dim() == 1 ? input.size(0) : input.size(1);
  const Tensor x = classes_last(input).contiguous();
  const Tensor w = class_weights(o.weight, classes, x, "cross_entropy");

  if (target.is_floating_point()) {
    // class probabilities: -sum_c w_c q_c log p_c with q smoothed towards uniform
    NABLA_CHECK(target.sizes() == input.sizes(),
                "cross_entropy: probability targets must have the input's shape {}, got {}",
                input.shape_str(), target.shape_str());
    Tensor q = classes_last(target).to(x.dtype());
    if (o.label_smoothing > 0.0)
      q = q * (1.0 - o.label_smoothing) + o.label_smoothing / static_cast<double>(classes);
    Tensor loss = -(log_softmax(x, 1) * q * w).sum(1);
    if (o.reduction == Reduction::None) {
      Shape out = input.sizes();
      if (input.dim() == 1) return loss.view({});
      out.erase(out.begin() + 1);
      return loss.view(out);
    }
    return o.reduction == Reduction::Sum ? loss.sum() : loss.sum() / static_cast<double>(x.size(0));
  }

  NABLA_CHECK(target.dtype() == kInt64,
              "cross_entropy: expected int64 class indices (or float probabilities), got {}",
              dtype_name(target.dtype()));
  Shape want = input.sizes();
  if (input.dim() == 1)
    want.clear();
  else
    want.erase(want.begin() + 1);
  NABLA_CHECK(target.sizes() == want,
              "cross_entropy: target of shape {} does not match logits of shape {} (expected {})",
              target.shape_str(), input.shape_str(), shape_to_string(want));
  const Tensor t = target.reshape({-1}).contiguous();
  const OpParams p = CrossEntropyParams{o.ignore_index, o.label_smoothing}.params();
  std::array<Tensor, 2> out{make_tensor({x.size(0)}, x.dtype(), x.device(), "cross_entropy"),
                            make_tensor({x.size(0)}, x.dtype(), x.device(), "cross_entropy")};
  const std::array<Tensor, 3> in{x, t, w};
  run_op(Op::cross_entropy, std::span<const Tensor>(in.data(), in.size()),
         std::span<Tensor>(out.data(), out.size()), p);
  const Tensor& loss = out[0];
  switch (o.reduction) {
    case Reduction::None:
      return loss.view(want);
    case Reduction::Sum:
      return loss.sum();
    case Reduction::Mean: {
      // PyTorch's weighted mean: divide by the total weight of the non-ignored targets
      Tensor total;
      {
        NoGradGuard g;
        const Tensor valid = ne(t, o.ignore_index);
        const Tensor safe_t = where(valid, t, Scalar(int64_t{0}));
        total = (index_select(w, 0, safe_t) * valid.to(w.dtype())).sum();
      }
      return loss.sum() / total;
    }
  }
  return loss;
}

Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& o) {
  check_defined(input, "nll_loss", "input");
  check_defined(target, "nll_loss", "target");
  NABLA_CHECK(input.dim() == 2, "nll_loss: expected log-probabilities of shape [N, C], got {}",
              input.shape_str());
  NABLA_CHECK(target.dtype() == kInt64, "nll_loss: expected int64 targets, got {}",
              dtype_name(target.dtype()));
  NABLA_CHECK(target.dim() == 1 && target.size(0) == input.size(0),
              "nll_loss: target of shape {} does not match input of shape {}", target.shape_str(),
              input.shape_str());
  check_class_targets(target, input.size(1), o.ignore_index, "nll_loss");
  const Tensor w = class_weights(o.weight, input.size(1), input, "nll_loss");
  const Tensor valid = ne(target, o.ignore_index);
  const Tensor safe_t = where(valid, target, Scalar(int64_t{0}));
  const Tensor wt = index_select(w, 0, safe_t) * valid.to(w.dtype());
  const Tensor loss = -gather(input, 1, safe_t.unsqueeze(1)).squeeze(1) * wt;
  if (o.reduction == Reduction::Mean) return loss.sum() / wt.sum();
  return reduce(loss, o.reduction);
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, Reduction r) {
  check_same_shape(input, target, "binary_cross_entropy");
  {
    NoGradGuard g;
    NABLA_CHECK(input.numel() == 0 || (ge(input, 0.0).to(kInt64).sum().item<int64_t>() == input.numel() &&
                                       le(input, 1.0).to(kInt64).sum().item<int64_t>() == input.numel()),
                "binary_cross_entropy: all input elements must be probabilities in [0, 1] (apply sigmoid "
                "first, or use "
                "binary_cross_entropy_with_logits)");
  }
  // PyTorch's forward clamps the log terms at -100, so inputs of exactly 0 or 1 give a finite
  // loss (clamping the arguments at e^-100 instead is not the same in float32, where e^-100 is
  // a denormal). PyTorch's backward is not the derivative of the clamped logs (which is 0 at
  // p = 0 with target 1, and 1 at p = 0 with target 0) but
  //   d loss / d input = (input - target) / max(input (1 - input), 1e-12),
  // finite everywhere (-1e12 and 0 in those two cases). So the loss is computed without a
  // graph and recorded as the output of a node whose backward is PyTorch's formulas (for the
  // target too: d loss / d target = log(1 - input) - log(input), clamped as the forward), in
  // ops: under create_graph they are differentiated again (double backward, in both).
  Tensor loss;
  {
    NoGradGuard g;
    loss = -(target * clamp(log(input), -100.0) + (1.0 - target) * clamp(log1p(-input), -100.0));
  }
  const SavedTensor saved_x(input), saved_t(target);
  loss = record_function("BinaryCrossEntropyBackward", {input, target}, {loss},
                         [saved_x, saved_t](const FunctionNode& n, const std::vector<Tensor>& g) {
                           const Tensor x = saved_x.unpack(n, 0), t = saved_t.unpack(n, 1);
                           std::vector<Tensor> r(2);
                           if (n.next[0].valid()) r[0] = g[0] * (x - t) / clamp(x * (1.0 - x), 1e-12);
                           if (n.next[1].valid())
                             r[1] = g[0] * (clamp(log1p(-x), -100.0) - clamp(log(x), -100.0));
                           return r;
                         })[0];
  if (weight.defined()) loss = loss * weight;
  return reduce(loss, r);
}

Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const Tensor& pos_weight, Reduction r) {
  check_same_shape(input, target, "binary_cross_entropy_with_logits");
  // -log sigmoid(x) = log(1 + e^-x) = m + log(e^-m + e^(-x-m)) for any m; m = max(-x, 0) keeps
  // the exponents <= 0 (no overflow for large |x|), as PyTorch. The value does not depend on
  // m, so neither does the gradient: it is right at x = 0 too, where log1p(exp(-|x|)) + max(-x, 0)
  // takes the zero subgradients of |x| and max and gives 1 - t instead of 1/2 - t.
  const Tensor m = relu(-input).detach();
  const Tensor log_sig_neg = m + log(exp(-m) + exp(-input - m));  // -log sigmoid(x)
  Tensor loss;
  if (pos_weight.defined()) {
    const Tensor lw = (pos_weight - 1.0) * target + 1.0;
    loss = (1.0 - target) * input + lw * log_sig_neg;
  } else {
    loss = (1.0 - target) * input + log_sig_neg;
  }
  if (weight.defined()) loss = loss * weight;
  return reduce(loss, r);
}

Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, double margin, Reduction r) {
  check_same_shape(input, target, "hinge_embedding_loss");
  const Tensor pos = where(eq(target, 1.0), input, Scalar(0.0));
  // clamp, not relu: at x = margin the gradient passes (-1), as PyTorch's clamp_min
  const Tensor neg = where(eq(target, -1.0), clamp(margin - input, 0.0), Scalar(0.0));
  return reduce(pos + neg, r);
}

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int p, double margin,
                         const Tensor& weight, Reduction r) {
  check_defined(input, "multi_margin_loss", "input");
  check_defined(target, "multi_margin_loss", "target");
  NABLA_CHECK(p == 1 || p == 2, "multi_margin_loss: only p = 1 and p = 2 are supported, got {}", p);
  NABLA_CHECK(input.dim() == 2, "multi_margin_loss: expected input of shape [N, C], got {}",
              input.shape_str());
  NABLA_CHECK(target.dtype() == kInt64 && target.dim() == 1 && target.size(0) == input.size(0),
              "multi_margin_loss: expected int64 targets of shape [{}], got {} {}", input.size(0),
              dtype_name(target.dtype()), target.shape_str());
  const int64_t classes = input.size(1);
  check_class_targets(target, classes, std::nullopt, "multi_margin_loss");
  const Tensor idx = target.unsqueeze(1);
  const Tensor xy = gather(input, 1, idx);
  Tensor m = relu(margin - xy + input);
  if (p == 2) m = m * m;
  if (weight.defined())
    m = m * gather(class_weights(weight, classes, input, "multi_margin_loss")
                       .unsqueeze(0)
                       .expand({input.size(0), classes}),
                   1, idx);
  const Tensor not_target = eq(one_hot(target, classes), int64_t{0});
  const Tensor loss = where(not_target, m, Scalar(0.0)).sum(1) / static_cast<double>(classes);
  return reduce(loss, r);
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  check_defined(x, "dropout");
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "dropout: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x;
  if (p == 1.0) return x * 0.0;
  return x * detail::dropout_mask(x.sizes(), p, TensorOptions(x.dtype()).device(x.device()), gen);
}

Tensor& dropout_(Tensor& x, double p, bool training, Generator* gen) {
  check_defined(x, "dropout_");
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "dropout_: probability must be in [0, 1], got {}", p);
  if (!training || p == 0.0) return x;
  // checked here so that the error names dropout_, not the mul_ it runs
  check_inplace(x, "dropout_", inplace_needs_autograd(x, {}));
  if (p == 1.0) return x.mul_(0.0);
  return x.mul_(detail::dropout_mask(x.sizes(), p, TensorOptions(x.dtype()).device(x.device()), gen));
}

}  // namespace nabla::nn::functional

namespace nabla::detail {

Tensor dropout_mask(const Shape& shape, double p, const TensorOptions& o, Generator* gen) {
  if (p >= 1.0) return zeros(shape, o);
  const Tensor u = gen != nullptr ? rand(shape, *gen, o) : rand(shape, o);
  return ge(u, p).to(o.dtype()) * (1.0 / (1.0 - p));
}

}  // namespace nabla::detail

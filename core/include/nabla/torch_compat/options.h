// libtorch's option builders where nabla already has an aggregate of the same name (a field
// and a builder method cannot share one): torch::nn::RNNOptions, CrossEntropyLossOptions and
// NLLLossOptions, the torch::nn::functional::*FuncOptions with the functional overloads that
// take them, and torch::optim's SGDOptions, AdamOptions, ... (libtorch's `betas` tuple instead
// of nabla's beta1 / beta2). Each converts implicitly to nabla's aggregate, so nabla's own
// layers, functions and optimizers take it. The builders nabla itself has (Conv2dOptions,
// LinearOptions, ...) are in nabla/nn/options.h and reach torch:: through torch_compat.h's
// using-directives.
//
// A name declared in one of these namespaces hides the nabla one of that name from qualified
// lookup (torch::nn::functional::max_pool2d, torch::optim::SGD): hence the using-directives
// (every other name of nabla's namespace stays reachable) and using-declarations (nabla's own
// overloads of a function overloaded here stay callable) below.
//
// Limitation: `using namespace torch::optim;` (or torch::nn) followed by an unqualified
// SGDOptions, SGD, ... (RNNOptions) is ambiguous: the using-directive makes both these names and
// nabla's visible. Qualify them (torch::optim::SGD), as libtorch's own examples do.
//
// Included by nabla/torch_compat.h; not meant to be included on its own.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/nn/options.h"
#include "nabla/optim.h"

namespace nabla::torch_compat {

namespace detail {
/// libtorch's nonlinearity tags (torch::kReLU, ...): they convert to the name nabla takes
/// (RNNOptions::nonlinearity, nn::init::calculate_gain, kaiming_uniform_).
struct NonlinearityTag {
  const char* name;
  operator std::string() const { return name; }  // NOLINT: implicit, so a tag passes as a name
};
}  // namespace detail

inline constexpr detail::NonlinearityTag kLinear{"linear"};
inline constexpr detail::NonlinearityTag kConv2D{"conv2d"};
inline constexpr detail::NonlinearityTag kSigmoid{"sigmoid"};
inline constexpr detail::NonlinearityTag kTanh{"tanh"};
inline constexpr detail::NonlinearityTag kReLU{"relu"};
inline constexpr detail::NonlinearityTag kLeakyReLU{"leaky_relu"};
inline constexpr detail::NonlinearityTag kSELU{"selu"};
/// kaiming_uniform_(w, 0, torch::kFanOut, torch::kReLU)
inline constexpr ::nabla::nn::init::FanMode kFanIn = ::nabla::nn::init::FanMode::FanIn;
inline constexpr ::nabla::nn::init::FanMode kFanOut = ::nabla::nn::init::FanMode::FanOut;

namespace nn {

/// torch::nn::RNNOptions(10, 20).nonlinearity(torch::kReLU): nabla's RNNLayerOptions (nabla's
/// own RNNOptions is the aggregate of RNN, LSTM and GRU).
using RNNOptions = ::nabla::nn::RNNLayerOptions;

struct CrossEntropyLossOptions {
  operator ::nabla::nn::functional::CrossEntropyOptions() const {  // NOLINT: implicit, see the file comment
    return {weight_, ignore_index_, reduction_, label_smoothing_};
  }
  NABLA_ARG(::nabla::Tensor, weight) = {};
  NABLA_ARG(int64_t, ignore_index) = -100;
  NABLA_ARG(::nabla::nn::functional::Reduction, reduction) = ::nabla::nn::functional::Reduction::Mean;
  NABLA_ARG(double, label_smoothing) = 0.0;
};

struct NLLLossOptions {
  operator ::nabla::nn::functional::NLLLossOptions() const {  // NOLINT: implicit, see the file comment
    return {weight_, ignore_index_, reduction_};
  }
  NABLA_ARG(::nabla::Tensor, weight) = {};
  NABLA_ARG(int64_t, ignore_index) = -100;
  NABLA_ARG(::nabla::nn::functional::Reduction, reduction) = ::nabla::nn::functional::Reduction::Mean;
};

namespace functional {

using namespace ::nabla::nn::functional;  // NOLINT: relu, linear, ... (see the file comment)

// ---- the options libtorch shares between a module and its function --------------------------
using CrossEntropyFuncOptions = ::nabla::torch_compat::nn::CrossEntropyLossOptions;
using NLLLossFuncOptions = ::nabla::torch_compat::nn::NLLLossOptions;
using MSELossFuncOptions = ::nabla::nn::MSELossOptions;
using L1LossFuncOptions = ::nabla::nn::L1LossOptions;
using SmoothL1LossFuncOptions = ::nabla::nn::SmoothL1LossOptions;
using BinaryCrossEntropyFuncOptions = ::nabla::nn::BCELossOptions;
using BinaryCrossEntropyWithLogitsFuncOptions = ::nabla::nn::BCEWithLogitsLossOptions;
using HingeEmbeddingLossFuncOptions = ::nabla::nn::HingeEmbeddingLossOptions;
using MultiMarginLossFuncOptions = ::nabla::nn::MultiMarginLossOptions;
using MaxPool2dFuncOptions = ::nabla::nn::MaxPool2dOptions;
using AvgPool2dFuncOptions = ::nabla::nn::AvgPool2dOptions;
using AdaptiveAvgPool2dFuncOptions = ::nabla::nn::AdaptiveAvgPool2dOptions;
using ReLUFuncOptions = ::nabla::nn::ReLUOptions;
using LeakyReLUFuncOptions = ::nabla::nn::LeakyReLUOptions;
using ELUFuncOptions = ::nabla::nn::ELUOptions;
using SoftplusFuncOptions = ::nabla::nn::SoftplusOptions;

// ---- the function-only ones ---------------------------------------------------------------------

/// dtype: the input is converted to it first, as libtorch's.
struct SoftmaxFuncOptions {
  SoftmaxFuncOptions(int64_t d) : dim_(d) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(int64_t, dim);
  NABLA_ARG(std::optional<::nabla::ScalarType>, dtype) = std::nullopt;
};
struct LogSoftmaxFuncOptions {
  LogSoftmaxFuncOptions(int64_t d) : dim_(d) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(int64_t, dim);
  NABLA_ARG(std::optional<::nabla::ScalarType>, dtype) = std::nullopt;
};
struct DropoutFuncOptions {
  NABLA_ARG(double, p) = 0.5;
  NABLA_ARG(bool, training) = true;
  NABLA_ARG(bool, inplace) = false;
};
using Dropout2dFuncOptions = DropoutFuncOptions;
struct Conv2dFuncOptions {
  NABLA_ARG(::nabla::Tensor, bias) = {};
  NABLA_ARG(::nabla::nn::functional::Size2, stride) = 1;
  NABLA_ARG(::nabla::nn::functional::Size2, padding) = 0;
  NABLA_ARG(::nabla::nn::functional::Size2, dilation) = 1;
  NABLA_ARG(int64_t, groups) = 1;
};
struct ConvTranspose2dFuncOptions {
  NABLA_ARG(::nabla::Tensor, bias) = {};
  NABLA_ARG(::nabla::nn::functional::Size2, stride) = 1;
  NABLA_ARG(::nabla::nn::functional::Size2, padding) = 0;
  NABLA_ARG(::nabla::nn::functional::Size2, output_padding) = 0;
  NABLA_ARG(int64_t, groups) = 1;
  NABLA_ARG(::nabla::nn::functional::Size2, dilation) = 1;
};
/// momentum unset (a cumulative average) is not supported by nabla: an error when called.
struct BatchNormFuncOptions {
  NABLA_ARG(::nabla::Tensor, weight) = {};
  NABLA_ARG(::nabla::Tensor, bias) = {};
  NABLA_ARG(bool, training) = false;
  NABLA_ARG(std::optional<double>, momentum) = 0.1;
  NABLA_ARG(double, eps) = 1e-5;
};
struct LayerNormFuncOptions {
  LayerNormFuncOptions(std::vector<int64_t> shape)  // NOLINT: implicit, as libtorch's
      : normalized_shape_(std::move(shape)) {}
  NABLA_ARG(std::vector<int64_t>, normalized_shape);
  NABLA_ARG(::nabla::Tensor, weight) = {};
  NABLA_ARG(::nabla::Tensor, bias) = {};
  NABLA_ARG(double, eps) = 1e-5;
};
/// padding_idx only: libtorch's max_norm, scale_grad_by_freq and sparse are not nabla's.
struct EmbeddingFuncOptions {
  NABLA_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
};

// ---- the functions taking them (nabla's positional overloads stay visible) ----------------------
using ::nabla::nn::functional::adaptive_avg_pool2d;
using ::nabla::nn::functional::avg_pool2d;
using ::nabla::nn::functional::batch_norm;
using ::nabla::nn::functional::binary_cross_entropy;
using ::nabla::nn::functional::binary_cross_entropy_with_logits;
using ::nabla::nn::functional::conv2d;
using ::nabla::nn::functional::conv_transpose2d;
using ::nabla::nn::functional::dropout;
using ::nabla::nn::functional::dropout2d;
using ::nabla::nn::functional::elu;
using ::nabla::nn::functional::embedding;
using ::nabla::nn::functional::hinge_embedding_loss;
using ::nabla::nn::functional::l1_loss;
using ::nabla::nn::functional::layer_norm;
using ::nabla::nn::functional::leaky_relu;
using ::nabla::nn::functional::log_softmax;
using ::nabla::nn::functional::max_pool2d;
using ::nabla::nn::functional::mse_loss;
using ::nabla::nn::functional::multi_margin_loss;
using ::nabla::nn::functional::relu;
using ::nabla::nn::functional::smooth_l1_loss;
using ::nabla::nn::functional::softmax;
using ::nabla::nn::functional::softplus;

inline ::nabla::Tensor conv2d(const ::nabla::Tensor& x, const ::nabla::Tensor& weight,
                              const Conv2dFuncOptions& o) {
  return ::nabla::nn::functional::conv2d(x, weight, o.bias(), o.stride(), o.padding(), o.dilation(),
                                         o.groups());
}
inline ::nabla::Tensor conv_transpose2d(const ::nabla::Tensor& x, const ::nabla::Tensor& weight,
                                        const ConvTranspose2dFuncOptions& o) {
  return ::nabla::nn::functional::conv_transpose2d(x, weight, o.bias(), o.stride(), o.padding(),
                                                   o.output_padding(), o.groups(), o.dilation());
}
inline ::nabla::Tensor max_pool2d(const ::nabla::Tensor& x, const MaxPool2dFuncOptions& o) {
  return ::nabla::nn::functional::max_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.dilation(),
                                             o.ceil_mode());
}
inline ::nabla::Tensor avg_pool2d(const ::nabla::Tensor& x, const AvgPool2dFuncOptions& o) {
  NABLA_CHECK(!o.divisor_override().has_value(),
              "avg_pool2d: divisor_override ({}) is not supported by nabla (it always divides by the window "
              "size)",
              o.divisor_override().value_or(0));
  return ::nabla::nn::functional::avg_pool2d(x, o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(),
                                             o.count_include_pad());
}
inline ::nabla::Tensor adaptive_avg_pool2d(const ::nabla::Tensor& x, const AdaptiveAvgPool2dFuncOptions& o) {
  return ::nabla::nn::functional::adaptive_avg_pool2d(x, o.output_size());
}

/// inplace: writes into x's tensor and returns it, as nabla's dropout_ (x is a handle).
inline ::nabla::Tensor dropout(const ::nabla::Tensor& x, const DropoutFuncOptions& o) {
  if (!o.inplace()) return ::nabla::nn::functional::dropout(x, o.p(), o.training());
  ::nabla::Tensor y = x;
  return ::nabla::nn::functional::dropout_(y, o.p(), o.training());
}
inline ::nabla::Tensor dropout2d(const ::nabla::Tensor& x, const Dropout2dFuncOptions& o) {
  if (!o.inplace()) return ::nabla::nn::functional::dropout2d(x, o.p(), o.training());
  ::nabla::Tensor y = x;
  return ::nabla::nn::functional::dropout2d_(y, o.p(), o.training());
}

inline ::nabla::Tensor relu(const ::nabla::Tensor& x, const ReLUFuncOptions& o) {
  if (!o.inplace()) return ::nabla::relu(x);
  ::nabla::Tensor y = x;
  return ::nabla::nn::functional::relu_(y);
}
inline ::nabla::Tensor leaky_relu(const ::nabla::Tensor& x, const LeakyReLUFuncOptions& o) {
  if (!o.inplace()) return ::nabla::leaky_relu(x, o.negative_slope());
  ::nabla::Tensor y = x;
  return ::nabla::nn::functional::leaky_relu_(y, o.negative_slope());
}
inline ::nabla::Tensor elu(const ::nabla::Tensor& x, const ELUFuncOptions& o) {
  if (!o.inplace()) return ::nabla::elu(x, o.alpha());
  ::nabla::Tensor y = x;
  return ::nabla::nn::functional::elu_(y, o.alpha());
}
inline ::nabla::Tensor softplus(const ::nabla::Tensor& x, const SoftplusFuncOptions& o) {
  return ::nabla::softplus(x, o.beta(), o.threshold());
}
inline ::nabla::Tensor softmax(const ::nabla::Tensor& x, const SoftmaxFuncOptions& o) {
  return ::nabla::softmax(o.dtype() ? x.to(*o.dtype()) : x, o.dim());
}
inline ::nabla::Tensor log_softmax(const ::nabla::Tensor& x, const LogSoftmaxFuncOptions& o) {
  return ::nabla::log_softmax(o.dtype() ? x.to(*o.dtype()) : x, o.dim());
}

inline ::nabla::Tensor batch_norm(const ::nabla::Tensor& x, const ::nabla::Tensor& running_mean,
                                  const ::nabla::Tensor& running_var, const BatchNormFuncOptions& o) {
  NABLA_CHECK(o.momentum().has_value(),
              "batch_norm: momentum unset (a cumulative moving average) is not supported by nabla; give a "
              "momentum");
  return ::nabla::nn::functional::batch_norm(x, running_mean, running_var, o.weight(), o.bias(), o.training(),
                                             *o.momentum(), o.eps());
}
inline ::nabla::Tensor layer_norm(const ::nabla::Tensor& x, const LayerNormFuncOptions& o) {
  return ::nabla::nn::functional::layer_norm(x, o.normalized_shape(), o.weight(), o.bias(), o.eps());
}
inline ::nabla::Tensor embedding(const ::nabla::Tensor& input, const ::nabla::Tensor& weight,
                                 const EmbeddingFuncOptions& o) {
  return ::nabla::nn::functional::embedding(input, weight, o.padding_idx());
}

inline ::nabla::Tensor mse_loss(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                                const MSELossFuncOptions& o) {
  return ::nabla::nn::functional::mse_loss(input, target, o.reduction());
}
inline ::nabla::Tensor l1_loss(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                               const L1LossFuncOptions& o) {
  return ::nabla::nn::functional::l1_loss(input, target, o.reduction());
}
inline ::nabla::Tensor smooth_l1_loss(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                                      const SmoothL1LossFuncOptions& o) {
  return ::nabla::nn::functional::smooth_l1_loss(input, target, o.reduction(), o.beta());
}
inline ::nabla::Tensor binary_cross_entropy(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                                            const BinaryCrossEntropyFuncOptions& o) {
  return ::nabla::nn::functional::binary_cross_entropy(input, target, o.weight(), o.reduction());
}
inline ::nabla::Tensor binary_cross_entropy_with_logits(const ::nabla::Tensor& input,
                                                        const ::nabla::Tensor& target,
                                                        const BinaryCrossEntropyWithLogitsFuncOptions& o) {
  return ::nabla::nn::functional::binary_cross_entropy_with_logits(input, target, o.weight(), o.pos_weight(),
                                                                   o.reduction());
}
inline ::nabla::Tensor hinge_embedding_loss(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                                            const HingeEmbeddingLossFuncOptions& o) {
  return ::nabla::nn::functional::hinge_embedding_loss(input, target, o.margin(), o.reduction());
}
inline ::nabla::Tensor multi_margin_loss(const ::nabla::Tensor& input, const ::nabla::Tensor& target,
                                         const MultiMarginLossFuncOptions& o) {
  NABLA_CHECK(o.p() == 1 || o.p() == 2, "multi_margin_loss: p must be 1 or 2, got {}", o.p());
  return ::nabla::nn::functional::multi_margin_loss(input, target, static_cast<int>(o.p()), o.margin(),
                                                    o.weight(), o.reduction());
}

}  // namespace functional
}  // namespace nn

namespace optim {

using namespace ::nabla::optim;  // NOLINT: Optimizer, ParamGroup, the schedulers, ...

// libtorch's options, each converting to nabla's aggregate of the same name (the fields libtorch
// has; nabla's extra ones, maximize, keep their defaults).

struct SGDOptions {
  SGDOptions(double learning_rate) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::SGDOptions() const {             // NOLINT: implicit, see the file comment
    ::nabla::optim::SGDOptions o;
    o.lr = lr_;
    o.momentum = momentum_;
    o.dampening = dampening_;
    o.weight_decay = weight_decay_;
    o.nesterov = nesterov_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(double, momentum) = 0.0;
  NABLA_ARG(double, dampening) = 0.0;
  NABLA_ARG(double, weight_decay) = 0.0;
  NABLA_ARG(bool, nesterov) = false;
};

namespace detail {
using Betas = std::tuple<double, double>;
}  // namespace detail

struct AdamOptions {
  AdamOptions(double learning_rate = 1e-3) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::AdamOptions() const {                    // NOLINT: implicit
    ::nabla::optim::AdamOptions o;
    o.lr = lr_;
    o.beta1 = std::get<0>(betas_);
    o.beta2 = std::get<1>(betas_);
    o.eps = eps_;
    o.weight_decay = weight_decay_;
    o.amsgrad = amsgrad_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(detail::Betas, betas) = {0.9, 0.999};
  NABLA_ARG(double, eps) = 1e-8;
  NABLA_ARG(double, weight_decay) = 0.0;
  NABLA_ARG(bool, amsgrad) = false;
};

struct AdamWOptions {
  AdamWOptions(double learning_rate = 1e-3) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::AdamWOptions() const {                    // NOLINT: implicit
    ::nabla::optim::AdamWOptions o;
    o.lr = lr_;
    o.beta1 = std::get<0>(betas_);
    o.beta2 = std::get<1>(betas_);
    o.eps = eps_;
    o.weight_decay = weight_decay_;
    o.amsgrad = amsgrad_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(detail::Betas, betas) = {0.9, 0.999};
  NABLA_ARG(double, eps) = 1e-8;
  NABLA_ARG(double, weight_decay) = 1e-2;
  NABLA_ARG(bool, amsgrad) = false;
};

struct RMSpropOptions {
  RMSpropOptions(double learning_rate = 1e-2) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::RMSpropOptions() const {                    // NOLINT: implicit
    ::nabla::optim::RMSpropOptions o;
    o.lr = lr_;
    o.alpha = alpha_;
    o.eps = eps_;
    o.weight_decay = weight_decay_;
    o.momentum = momentum_;
    o.centered = centered_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(double, alpha) = 0.99;
  NABLA_ARG(double, eps) = 1e-8;
  NABLA_ARG(double, weight_decay) = 0.0;
  NABLA_ARG(double, momentum) = 0.0;
  NABLA_ARG(bool, centered) = false;
};

struct AdagradOptions {
  AdagradOptions(double learning_rate = 1e-2) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::AdagradOptions() const {                    // NOLINT: implicit
    ::nabla::optim::AdagradOptions o;
    o.lr = lr_;
    o.lr_decay = lr_decay_;
    o.weight_decay = weight_decay_;
    o.initial_accumulator_value = initial_accumulator_value_;
    o.eps = eps_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(double, lr_decay) = 0.0;
  NABLA_ARG(double, weight_decay) = 0.0;
  NABLA_ARG(double, initial_accumulator_value) = 0.0;
  NABLA_ARG(double, eps) = 1e-10;
};

/// Not in libtorch's C++ frontend (1.13); the same builder for nabla's Adadelta, with
/// torch.optim.Adadelta's defaults.
struct AdadeltaOptions {
  AdadeltaOptions(double learning_rate = 1.0) : lr_(learning_rate) {}  // NOLINT: implicit
  operator ::nabla::optim::AdadeltaOptions() const {                   // NOLINT: implicit
    ::nabla::optim::AdadeltaOptions o;
    o.lr = lr_;
    o.rho = rho_;
    o.eps = eps_;
    o.weight_decay = weight_decay_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(double, rho) = 0.9;
  NABLA_ARG(double, eps) = 1e-6;
  NABLA_ARG(double, weight_decay) = 0.0;
};

struct LBFGSOptions {
  LBFGSOptions(double learning_rate = 1.0) : lr_(learning_rate) {}  // NOLINT: implicit, as libtorch's
  operator ::nabla::optim::LBFGSOptions() const {                   // NOLINT: implicit
    ::nabla::optim::LBFGSOptions o;
    o.lr = lr_;
    o.max_iter = max_iter_;
    o.max_eval = max_eval_;
    o.tolerance_grad = tolerance_grad_;
    o.tolerance_change = tolerance_change_;
    o.history_size = history_size_;
    o.line_search_fn = line_search_fn_;
    return o;
  }
  NABLA_ARG(double, lr);
  NABLA_ARG(int64_t, max_iter) = 20;
  NABLA_ARG(std::optional<int64_t>, max_eval) = std::nullopt;
  NABLA_ARG(double, tolerance_grad) = 1e-7;
  NABLA_ARG(double, tolerance_change) = 1e-9;
  NABLA_ARG(int64_t, history_size) = 100;
  NABLA_ARG(std::optional<std::string>, line_search_fn) = std::nullopt;
};

// The optimizers: nabla's, plus a constructor from these options, so that the learning rate
// alone converts (libtorch's `torch::optim::SGD optimizer(net->parameters(), /*lr=*/0.01)`: a
// double becomes libtorch's SGDOptions implicitly, but not nabla's aggregate).
#define NABLA_TORCH_COMPAT_OPTIMIZER(Name)                                                                \
  class Name : public ::nabla::optim::Name {                                                              \
   public:                                                                                                \
    using ::nabla::optim::Name::Name;                                                                     \
    Name(std::vector<::nabla::Tensor> params, const Name##Options& options)                               \
        : ::nabla::optim::Name(std::move(params), static_cast<::nabla::optim::Name##Options>(options)) {} \
  }

NABLA_TORCH_COMPAT_OPTIMIZER(SGD);
NABLA_TORCH_COMPAT_OPTIMIZER(Adam);
NABLA_TORCH_COMPAT_OPTIMIZER(AdamW);
NABLA_TORCH_COMPAT_OPTIMIZER(RMSprop);
NABLA_TORCH_COMPAT_OPTIMIZER(Adagrad);
NABLA_TORCH_COMPAT_OPTIMIZER(Adadelta);
NABLA_TORCH_COMPAT_OPTIMIZER(LBFGS);

#undef NABLA_TORCH_COMPAT_OPTIMIZER

}  // namespace optim
}  // namespace nabla::torch_compat

// Conv2d, ConvTranspose2d, the pooling modules, BatchNorm1d/2d, LayerNorm and Dropout2d.
// Printing follows PyTorch's reprs so a printed model reads the same in both.
#include <fmt/ranges.h>

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/conv.h"
#include "nabla/nn/init.h"
#include "nn/repr.h"

namespace nabla::nn {
using detail::py_bool;
using detail::py_float;

namespace {

std::string pair(Size2 s) { return fmt::format("({}, {})", s.h, s.w); }
// Pooling modules print what they were given: an int when both dims agree.
std::string int_or_pair(Size2 s) { return s.h == s.w ? fmt::format("{}", s.h) : pair(s); }
bool is(Size2 s, int64_t v) { return s.h == v && s.w == v; }

// torch.nn's conv reset_parameters: kaiming_uniform_(a=sqrt(5)) on the weight (uniform on
// +-1/sqrt(fan_in)) and the bias uniform on the same bound.
void init_conv(Tensor& weight, Tensor& bias) {
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const int64_t fan_in = weight.size(1) * weight.size(2) * weight.size(3);
    const double bound = fan_in > 0 ? 1.0 / std::sqrt(static_cast<double>(fan_in)) : 0.0;
    init::uniform_(bias, -bound, bound);
  }
}

std::string conv_repr(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 d, int64_t groups,
                      bool has_bias, const Size2* output_padding) {
  std::string r = fmt::format("{}, {}, kernel_size={}, stride={}", in, out, pair(k), pair(s));
  if (!is(p, 0)) r += fmt::format(", padding={}", pair(p));
  if (output_padding != nullptr && !is(*output_padding, 0))
    r += fmt::format(", output_padding={}", pair(*output_padding));
  if (!is(d, 1)) r += fmt::format(", dilation={}", pair(d));
  if (groups != 1) r += fmt::format(", groups={}", groups);
  if (!has_bias) r += ", bias=False";
  return r;
}

void check_channels(int64_t in, int64_t out, int64_t groups, Size2 k, const char* type) {
  NABLA_CHECK(groups > 0, "{}: groups must be positive, got {}", type, groups);
  NABLA_CHECK(in > 0 && out > 0, "{}: channel counts must be positive, got in={} out={}", type, in, out);
  NABLA_CHECK(in % groups == 0 && out % groups == 0,
              "{}: in_channels ({}) and out_channels ({}) must both be divisible by groups ({})", type, in,
              out, groups);
  NABLA_CHECK(k.h > 0 && k.w > 0, "{}: kernel_size must be positive, got ({}, {})", type, k.h, k.w);
}

}  // namespace

Conv2d::Conv2d(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 d, int64_t g, bool with_bias)
    : Module("Conv2d"),
      in_channels(in),
      out_channels(out),
      groups(g),
      kernel_size(k),
      stride(s),
      padding(p),
      dilation(d) {
  check_channels(in, out, g, k, "Conv2d");
  weight = empty({out, in / g, k.h, k.w});
  if (with_bias) bias = empty({out});
  init_conv(weight, bias);
  weight = register_parameter("weight", weight);
  if (with_bias) bias = register_parameter("bias", bias);
}

Conv2d::Conv2d(const Conv2dOptions& o)
    : Conv2d(o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(), o.dilation(),
             o.groups(), o.bias()) {}

Tensor Conv2d::forward(const Tensor& x) {
  return functional::conv2d(x, weight, bias, stride, padding, dilation, groups);
}

std::string Conv2d::extra_repr() const {
  return conv_repr(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias.defined(),
                   nullptr);
}

ConvTranspose2d::ConvTranspose2d(int64_t in, int64_t out, Size2 k, Size2 s, Size2 p, Size2 op, int64_t g,
                                 bool with_bias, Size2 d)
    : Module("ConvTranspose2d"),
      in_channels(in),
      out_channels(out),
      groups(g),
      kernel_size(k),
      stride(s),
      padding(p),
      output_padding(op),
      dilation(d) {
  check_channels(in, out, g, k, "ConvTranspose2d");
  weight = empty({in, out / g, k.h, k.w});
  if (with_bias) bias = empty({out});
  init_conv(weight, bias);
  weight = register_parameter("weight", weight);
  if (with_bias) bias = register_parameter("bias", bias);
}

ConvTranspose2d::ConvTranspose2d(const ConvTranspose2dOptions& o)
    : ConvTranspose2d(o.in_channels(), o.out_channels(), o.kernel_size(), o.stride(), o.padding(),
                      o.output_padding(), o.groups(), o.bias(), o.dilation()) {}

Tensor ConvTranspose2d::forward(const Tensor& x) {
  return functional::conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups, dilation);
}

std::string ConvTranspose2d::extra_repr() const {
  return conv_repr(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias.defined(),
                   &output_padding);
}

MaxPool2d::MaxPool2d(Size2 k, Size2 s, Size2 p, Size2 d, bool ceil)
    : Module("MaxPool2d"),
      kernel_size(k),
      stride(s.given ? s : k),
      padding(p),
      dilation(d),
      ceil_mode(ceil) {}
MaxPool2d::MaxPool2d(const MaxPool2dOptions& o)
    : MaxPool2d(o.kernel_size(), o.stride(), o.padding(), o.dilation(), o.ceil_mode()) {}
Tensor MaxPool2d::forward(const Tensor& x) {
  return functional::max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
}
std::string MaxPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}, dilation={}, ceil_mode={}",
                     int_or_pair(kernel_size), int_or_pair(stride), int_or_pair(padding),
                     int_or_pair(dilation), py_bool(ceil_mode));
}

AvgPool2d::AvgPool2d(Size2 k, Size2 s, Size2 p, bool ceil, bool include_pad)
    : Module("AvgPool2d"),
      kernel_size(k),
      stride(s.given ? s : k),
      padding(p),
      ceil_mode(ceil),
      count_include_pad(include_pad) {}
AvgPool2d::AvgPool2d(const AvgPool2dOptions& o)
    : AvgPool2d(o.kernel_size(), o.stride(), o.padding(), o.ceil_mode(), o.count_include_pad()) {
  NABLA_CHECK(!o.divisor_override().has_value(),
              "AvgPool2d: divisor_override ({}) is not supported by nabla (it always divides by the window "
              "size)",
              o.divisor_override().value_or(0));
}
Tensor AvgPool2d::forward(const Tensor& x) {
  return functional::avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad);
}
std::string AvgPool2d::extra_repr() const {
  return fmt::format("kernel_size={}, stride={}, padding={}", int_or_pair(kernel_size), int_or_pair(stride),
                     int_or_pair(padding));
}

AdaptiveAvgPool2d::AdaptiveAvgPool2d(Size2 out) : Module("AdaptiveAvgPool2d"), output_size(out) {}
AdaptiveAvgPool2d::AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& o)
    : AdaptiveAvgPool2d(o.output_size()) {}
Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return functional::adaptive_avg_pool2d(x, output_size); }
std::string AdaptiveAvgPool2d::extra_repr() const {
  return fmt::format("output_size={}", int_or_pair(output_size));
}

BatchNorm::BatchNorm(std::string type, int64_t n, double eps_, double momentum_, bool affine_, bool track,
                     int64_t min_dim, int64_t max_dim)
    : Module(std::move(type)),
      num_features(n),
      eps(eps_),
      momentum(momentum_),
      affine(affine_),
      track_running_stats(track),
      min_dim_(min_dim),
      max_dim_(max_dim) {
  NABLA_CHECK(n > 0, "{}: num_features must be positive, got {}", type_name(), n);
  if (affine) {
    weight = register_parameter("weight", ones({n}));
    bias = register_parameter("bias", zeros({n}));
  }
  if (track) {
    running_mean = register_buffer("running_mean", zeros({n}));
    running_var = register_buffer("running_var", ones({n}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

namespace {
// libtorch's momentum is optional (unset: a cumulative moving average); nabla's BatchNorm keeps
// an exponential one only.
double batch_norm_momentum(const BatchNormOptions& o, const char* type) {
  NABLA_CHECK(o.momentum().has_value(),
              "{}: momentum unset (a cumulative moving average of the batch statistics) is not supported "
              "by nabla; give a momentum in [0, 1]",
              type);
  return *o.momentum();
}
}  // namespace

BatchNorm::BatchNorm(std::string type, const BatchNormOptions& o, int64_t min_dim, int64_t max_dim)
    : BatchNorm(type, o.num_features(), o.eps(), batch_norm_momentum(o, type.c_str()), o.affine(),
                o.track_running_stats(), min_dim, max_dim) {}

Tensor BatchNorm::forward(const Tensor& x) {
  NABLA_CHECK(x.defined(), "{}: the input is undefined", type_name());
  NABLA_CHECK(
      x.dim() >= min_dim_ && x.dim() <= max_dim_, "{}: expected {}-D input, got a {}-D input of shape {}",
      type_name(),
      min_dim_ == max_dim_ ? fmt::format("{}", min_dim_) : fmt::format("{}-D or {}", min_dim_, max_dim_),
      x.dim(), x.shape_str());
  NABLA_CHECK(x.size(1) == num_features, "{}: expected {} channels (dim 1), got input of shape {}",
              type_name(), num_features, x.shape_str());
  if (is_training() && track_running_stats) {
    NoGradGuard g;
    num_batches_tracked.add_(1);
  }
  // batch statistics when training, or when there are no running statistics to use
  const bool use_batch_stats = is_training() || !track_running_stats;
  const bool update = is_training() && track_running_stats;
  return functional::batch_norm(x, update || !use_batch_stats ? running_mean : Tensor(),
                                update || !use_batch_stats ? running_var : Tensor(), weight, bias,
                                use_batch_stats, momentum, eps);
}

std::string BatchNorm::extra_repr() const {
  return fmt::format("{}, eps={}, momentum={}, affine={}, track_running_stats={}", num_features, eps,
                     py_float(momentum), py_bool(affine), py_bool(track_running_stats));
}

BatchNorm1d::BatchNorm1d(int64_t n, double eps, double momentum, bool affine, bool track)
    : BatchNorm("BatchNorm1d", n, eps, momentum, affine, track, 2, 3) {}
BatchNorm2d::BatchNorm2d(int64_t n, double eps, double momentum, bool affine, bool track)
    : BatchNorm("BatchNorm2d", n, eps, momentum, affine, track, 4, 4) {}
BatchNorm1d::BatchNorm1d(const BatchNorm1dOptions& o) : BatchNorm("BatchNorm1d", o, 2, 3) {}
BatchNorm2d::BatchNorm2d(const BatchNorm2dOptions& o) : BatchNorm("BatchNorm2d", o, 4, 4) {}

LayerNorm::LayerNorm(std::vector<int64_t> shape, double eps_, bool affine)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps_), elementwise_affine(affine) {
  NABLA_CHECK(!normalized_shape.empty(), "LayerNorm: normalized_shape must have at least one dim");
  if (affine) {
    weight = register_parameter("weight", ones(normalized_shape));
    bias = register_parameter("bias", zeros(normalized_shape));
  }
}
LayerNorm::LayerNorm(const LayerNormOptions& o)
    : LayerNorm(o.normalized_shape(), o.eps(), o.elementwise_affine()) {}
Tensor LayerNorm::forward(const Tensor& x) {
  return functional::layer_norm(x, normalized_shape, weight, bias, eps);
}
std::string LayerNorm::extra_repr() const {
  // Python prints a 1-tuple as (10,) and longer ones as (3, 4)
  std::string dims = normalized_shape.size() == 1 ? fmt::format("{},", normalized_shape[0])
                                                  : fmt::format("{}", fmt::join(normalized_shape, ", "));
  return fmt::format("({}), eps={}, elementwise_affine={}", dims, eps, py_bool(elementwise_affine));
}

Dropout2d::Dropout2d(double p_, bool in_place) : Module("Dropout2d"), p(p_), inplace(in_place) {
  NABLA_CHECK(p >= 0.0 && p <= 1.0, "Dropout2d: probability must be in [0, 1], got {}", p);
}
Dropout2d::Dropout2d(const Dropout2dOptions& o) : Dropout2d(o.p(), o.inplace()) {}
Tensor Dropout2d::forward(const Tensor& x) {
  if (!inplace) return functional::dropout2d(x, p, is_training());
  Tensor y = x;
  return functional::dropout2d_(y, p, is_training());
}
std::string Dropout2d::extra_repr() const {
  return fmt::format("p={}, inplace={}", py_float(p), py_bool(inplace));
}

}  // namespace nabla::nn

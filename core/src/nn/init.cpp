// Weight initialisation, following torch.nn.init term for term.
#include "nabla/nn/init.h"

#include <cmath>

#include "nabla/autograd.h"

namespace nabla::nn::init {

double calculate_gain(const std::string& n, double param) {
  if (n == "linear" || n == "conv1d" || n == "conv2d" || n == "conv3d" || n == "conv_transpose1d" ||
      n == "conv_transpose2d" || n == "conv_transpose3d" || n == "sigmoid") {
    return 1.0;
  }
  if (n == "tanh") return 5.0 / 3.0;
  if (n == "relu") return std::sqrt(2.0);
  if (n == "leaky_relu") return std::sqrt(2.0 / (1.0 + param * param));
  if (n == "selu") return 3.0 / 4.0;
  NABLA_FAIL("calculate_gain: unsupported nonlinearity '{}'", n);
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  NABLA_CHECK(
      t.defined() && t.dim() >= 2,
      "calculate_fan_in_and_fan_out: fan in and fan out cannot be computed for a tensor of fewer than 2 dims "
      "(shape {})",
      t.defined() ? t.shape_str() : "undefined");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

Tensor& uniform_(Tensor& t, double a, double b) {
  NoGradGuard g;
  t.uniform_(a, b);
  return t;
}

Tensor& normal_(Tensor& t, double mean, double std) {
  NoGradGuard g;
  t.normal_(mean, std);
  return t;
}

Tensor& constant_(Tensor& t, double value) {
  NoGradGuard g;
  t.fill_(value);
  return t;
}

Tensor& zeros_(Tensor& t) { return constant_(t, 0.0); }
Tensor& ones_(Tensor& t) { return constant_(t, 1.0); }

Tensor& xavier_uniform_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const double std = gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
  const double a = std::sqrt(3.0) * std;
  return uniform_(t, -a, a);
}

Tensor& xavier_normal_(Tensor& t, double gain) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return normal_(t, 0.0, gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out)));
}

namespace {
double kaiming_std(const Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  const int64_t fan = mode == FanMode::FanIn ? fan_in : fan_out;
  NABLA_CHECK(fan > 0, "kaiming init: the fan of a tensor of shape {} is 0", t.shape_str());
  return calculate_gain(nonlinearity, a) / std::sqrt(static_cast<double>(fan));
}
}  // namespace

Tensor& kaiming_uniform_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(t, -bound, bound);
}

Tensor& kaiming_normal_(Tensor& t, double a, FanMode mode, const std::string& nonlinearity) {
  return normal_(t, 0.0, kaiming_std(t, a, mode, nonlinearity));
}

}  // namespace nabla::nn::init

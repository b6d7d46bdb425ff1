// Linear, Sequential, Identity, Flatten, Dropout and the activation modules.
#include <cmath>

#include "nabla/factories.h"
#include "nabla/nn/functional.h"
#include "nabla/nn/init.h"
#include "nabla/nn/modules.h"
#include "nn/repr.h"

namespace nabla::nn {
using detail::py_bool;
using detail::py_float;

Linear::Linear(int64_t in, int64_t out, bool with_bias)
    : Module("Linear"), in_features(in), out_features(out) {
  NABLA_CHECK(in >= 0 && out >= 0, "Linear: feature counts must be non-negative, got in={} out={}", in, out);
  // torch.nn.Linear.reset_parameters: kaiming_uniform_(a=sqrt(5)) is uniform on
  // +-1/sqrt(in_features); the bias uses the same bound.
  weight = empty({out, in});
  if (in > 0) init::kaiming_uniform_(weight, std::sqrt(5.0));
  weight = register_parameter("weight", weight);
  if (with_bias) {
    bias = empty({out});
    const double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
    init::uniform_(bias, -bound, bound);
    bias = register_parameter("bias", bias);
  }
}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     py_bool(bias.defined()));
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) : Module("Sequential") {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> m) { add_child(std::to_string(size()), std::move(m)); }

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index {} is out of range for {} modules", i, size());
  return named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, m] : named_children()) y = (*m)(y);
  return y;
}

Flatten::Flatten(int64_t s, int64_t e) : Module("Flatten"), start_dim(s), end_dim(e) {}
Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim);
}

Dropout::Dropout(double prob) : Module("Dropout"), p(prob) {
  NABLA_CHECK(prob >= 0.0 && prob <= 1.0, "Dropout: probability must be in [0, 1], got {}", prob);
}
Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p, is_training()); }
std::string Dropout::extra_repr() const { return fmt::format("p={}, inplace=False", py_float(p)); }

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
std::string LeakyReLU::extra_repr() const {
  return fmt::format("negative_slope={}", py_float(negative_slope));
}
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }
Tensor SiLU::forward(const Tensor& x) { return silu(x); }
Tensor ELU::forward(const Tensor& x) { return elu(x, alpha); }
std::string ELU::extra_repr() const { return fmt::format("alpha={}", py_float(alpha)); }
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta, threshold); }
std::string Softplus::extra_repr() const { return fmt::format("beta={}, threshold={}", beta, threshold); }

}  // namespace nabla::nn

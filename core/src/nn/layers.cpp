// Linear, Sequential, Identity, Flatten, Dropout and the activation modules.
#include <algorithm>
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

Linear::Linear(const LinearOptions& o) : Linear(o.in_features(), o.out_features(), o.bias()) {}

Tensor Linear::forward(const Tensor& x) { return linear(x, weight, bias); }

std::string Linear::extra_repr() const {
  return fmt::format("in_features={}, out_features={}, bias={}", in_features, out_features,
                     py_bool(bias.defined()));
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules) : Module("Sequential") {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> m) { push_back(std::to_string(size()), std::move(m)); }

void Sequential::push_back(const std::string& name, std::shared_ptr<Module> m) {
  Module* raw = m.get();
  add_child(name, std::move(m));
  calls_.emplace_back(raw, [raw](const Tensor& x) { return raw->forward(x); });
}

std::shared_ptr<Module> Sequential::operator[](std::size_t i) const {
  NABLA_CHECK(i < size(), "Sequential: index {} is out of range for {} modules", i, size());
  return named_children()[i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& [name, m] : named_children()) {
    const auto call =
        std::find_if(calls_.begin(), calls_.end(), [&](const auto& c) { return c.first == m.get(); });
    if (call == calls_.end()) {
      y = (*m)(y);
    } else {
      const Tensor in = y;
      y = m->run_hooks(in, call->second(in));
    }
  }
  return y;
}

Flatten::Flatten(int64_t s, int64_t e) : Module("Flatten"), start_dim(s), end_dim(e) {}
Tensor Flatten::forward(const Tensor& x) { return x.flatten(start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return fmt::format("start_dim={}, end_dim={}", start_dim, end_dim);
}

Dropout::Dropout(double prob, bool in_place) : Module("Dropout"), p(prob), inplace(in_place) {
  NABLA_CHECK(prob >= 0.0 && prob <= 1.0, "Dropout: probability must be in [0, 1], got {}", prob);
}
// In place: a second handle on x's tensor is written (x itself is const in forward's signature).
Tensor Dropout::forward(const Tensor& x) {
  if (!inplace) return functional::dropout(x, p, is_training());
  Tensor y = x;
  return functional::dropout_(y, p, is_training());
}
std::string Dropout::extra_repr() const {
  return fmt::format("p={}, inplace={}", py_float(p), py_bool(inplace));
}

namespace {
// PyTorch's activation reprs add ", inplace=True" only when set.
std::string with_inplace(std::string extra, bool inplace) {
  if (!inplace) return extra;
  return extra.empty() ? "inplace=True" : extra + ", inplace=True";
}
}  // namespace

Tensor ReLU::forward(const Tensor& x) {
  if (!inplace) return relu(x);
  Tensor y = x;
  return functional::relu_(y);
}
std::string ReLU::extra_repr() const { return with_inplace("", inplace); }
Tensor LeakyReLU::forward(const Tensor& x) {
  if (!inplace) return leaky_relu(x, negative_slope);
  Tensor y = x;
  return functional::leaky_relu_(y, negative_slope);
}
std::string LeakyReLU::extra_repr() const {
  return with_inplace(fmt::format("negative_slope={}", py_float(negative_slope)), inplace);
}
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return fmt::format("dim={}", dim); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return fmt::format("dim={}", dim); }
Tensor GELU::forward(const Tensor& x) { return gelu(x); }
Tensor SiLU::forward(const Tensor& x) {
  if (!inplace) return silu(x);
  Tensor y = x;
  return functional::silu_(y);
}
std::string SiLU::extra_repr() const { return with_inplace("", inplace); }
Tensor ELU::forward(const Tensor& x) {
  if (!inplace) return elu(x, alpha);
  Tensor y = x;
  return functional::elu_(y, alpha);
}
std::string ELU::extra_repr() const {
  return with_inplace(fmt::format("alpha={}", py_float(alpha)), inplace);
}
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta, threshold); }
std::string Softplus::extra_repr() const { return fmt::format("beta={}, threshold={}", beta, threshold); }

}  // namespace nabla::nn

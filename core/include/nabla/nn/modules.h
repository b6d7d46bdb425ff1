// Layers of the dense-network stack: Linear, Sequential, Identity, Flatten, Dropout and the
// activation modules, with PyTorch's names, defaults and initialisation.
#pragma once

#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/nn/holder.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"
#include "nabla/random.h"

namespace nabla::nn {

/// y = x W^T + b; W [out, in] and b [out] initialised as torch.nn.Linear (uniform on
/// +-1/sqrt(in_features)).
class Linear : public Module {
 public:
  Linear(int64_t in_features, int64_t out_features, bool bias = true);
  explicit Linear(const LinearOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t in_features, out_features;
  Tensor weight, bias;
};

/// Runs its children in order; children are named "0", "1", ... (or as push_back(name, m)
/// names them). Made from shared_ptrs or holders, as libtorch's: `Sequential{a, b}`,
/// `Sequential(Linear(3, 4), ReLU())`, push_back(m). A child added with its static type known
/// (the templates here) is called through that class's own forward(x), so a forward taking its
/// argument by value works even where it does not override Module's; the others, through
/// Module::operator() (whose virtual forward reaches either signature).
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  /// Sequential(Linear(3, 4), ReLU(), std::make_shared<Tanh>()).
  template <class... Ms>
  requires(sizeof...(Ms) > 0 &&
           (detail::ModulePointerOrHolder<Ms> && ...)) explicit Sequential(Ms&&... modules)
      : Sequential() {
    (push_back(std::forward<Ms>(modules)), ...);
  }
  Tensor forward(const Tensor& x) override;
  void push_back(std::shared_ptr<Module> m);
  void push_back(const std::string& name, std::shared_ptr<Module> m);
  template <class M>
  requires std::is_base_of_v<Module, M>
  void push_back(std::shared_ptr<M> m) { push_back(std::to_string(size()), std::move(m)); }
  template <class M>
  requires std::is_base_of_v<Module, M>
  void push_back(const std::string& name, std::shared_ptr<M> m) {
    M* raw = m.get();
    push_back(name, std::shared_ptr<Module>(std::move(m)));
    // after push_back checked m: the call of M's own forward, looked up by name in M (a
    // module without a one-tensor forward keeps the virtual call, which throws when run)
    if constexpr (requires(const Tensor& x) { raw->forward(x); })
      calls_.back().second = [raw](const Tensor& x) -> Tensor { return raw->forward(x); };
  }
  template <class M>
  void push_back(const ModuleHolder<M>& m) {
    push_back(m.ptr());
  }
  template <class M>
  void push_back(const std::string& name, const ModuleHolder<M>& m) {
    push_back(name, m.ptr());
  }
  std::size_t size() const { return named_children().size(); }
  std::shared_ptr<Module> operator[](std::size_t i) const;

 private:
  // per child pushed here, the call forward() makes (children added otherwise, e.g. by the
  // Python binding's attribute assignment, are called through operator())
  std::vector<std::pair<const Module*, std::function<Tensor(const Tensor&)>>> calls_;
};

class Identity : public Module {
 public:
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

class Flatten : public Module {
 public:
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1);
  explicit Flatten(const FlattenOptions& options) : Flatten(options.start_dim(), options.end_dim()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};

/// Zeroes elements with probability p in training mode (Philox masks from the global
/// generator, so manual_seed fixes them on every device); the identity in eval mode.
/// inplace: forward writes into its input and returns it (functional::dropout_), as
/// torch.nn.Dropout(inplace=True); so do the activations' inplace flags below.
class Dropout : public Module {
 public:
  explicit Dropout(double p = 0.5, bool inplace = false);
  explicit Dropout(const DropoutOptions& options) : Dropout(options.p(), options.inplace()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p;
  bool inplace;
};

class ReLU : public Module {
 public:
  explicit ReLU(bool inplace = false) : Module("ReLU"), inplace(inplace) {}
  explicit ReLU(const ReLUOptions& options) : ReLU(options.inplace()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  bool inplace;
};
class LeakyReLU : public Module {
 public:
  explicit LeakyReLU(double negative_slope = 0.01, bool inplace = false)
      : Module("LeakyReLU"), negative_slope(negative_slope), inplace(inplace) {}
  explicit LeakyReLU(const LeakyReLUOptions& options)
      : LeakyReLU(options.negative_slope(), options.inplace()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double negative_slope;
  bool inplace;
};
class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
};
class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override;
};
class Softmax : public Module {
 public:
  explicit Softmax(int64_t dim) : Module("Softmax"), dim(dim) {}
  explicit Softmax(const SoftmaxOptions& options) : Softmax(options.dim()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim;
};
class LogSoftmax : public Module {
 public:
  explicit LogSoftmax(int64_t dim) : Module("LogSoftmax"), dim(dim) {}
  explicit LogSoftmax(const LogSoftmaxOptions& options) : LogSoftmax(options.dim()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim;
};
class GELU : public Module {
 public:
  GELU() : Module("GELU") {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override { return "approximate='none'"; }  // the exact form
};
class SiLU : public Module {
 public:
  explicit SiLU(bool inplace = false) : Module("SiLU"), inplace(inplace) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  bool inplace;
};
class ELU : public Module {
 public:
  explicit ELU(double alpha = 1.0, bool inplace = false) : Module("ELU"), alpha(alpha), inplace(inplace) {}
  explicit ELU(const ELUOptions& options) : ELU(options.alpha(), options.inplace()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double alpha;
  bool inplace;
};
class Softplus : public Module {
 public:
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Module("Softplus"), beta(beta), threshold(threshold) {}
  explicit Softplus(const SoftplusOptions& options) : Softplus(options.beta(), options.threshold()) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double beta, threshold;
};

}  // namespace nabla::nn

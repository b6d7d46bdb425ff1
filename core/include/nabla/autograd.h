// Autograd controls: grad mode, NoGradGuard, and the gradcheck harness.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

/// Whether ops record autograd nodes on this thread.
struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

/// Switches recording off for its scope (as torch::NoGradGuard).
class NoGradGuard {
 public:
  NoGradGuard() : prev_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(prev_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool prev_;
};

namespace autograd {

/// Runs backward from `outputs` with the given gradients (undefined = ones for scalars),
/// accumulating into the .grad() of the leaves reached (as torch::autograd::backward).
/// retain_graph (default: create_graph) keeps the saved tensors for another backward.
/// create_graph records the backward pass itself, so the gradients (and what accumulates into
/// .grad()) can be differentiated again. Note, as in PyTorch: a leaf's .grad() made under
/// create_graph holds a graph that may hold the leaf; reset it when done.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

/// The gradients of sum(outputs[i] * grad_outputs[i]) with respect to each of `inputs`, as
/// torch::autograd::grad: nothing is accumulated into any .grad(), and only the part of the
/// graph that leads to `inputs` runs. Each input must require grad. An input the outputs do
/// not depend on is an error unless allow_unused, which gives an undefined tensor for it.
/// With create_graph the results are connected to the graph (higher-order gradients:
/// gradient penalties, Hessian-vector products); retain_graph defaults to create_graph.
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

struct GradcheckOptions {
  double eps = 1e-6;
  double atol = 1e-5;
  double rtol = 1e-3;
};

struct GradcheckResult {
  bool ok = true;
  /// Largest |analytic - numeric| over every checked element.
  double max_abs_error = 0.0;
  /// Empty when ok; otherwise which input and element disagreed, with both values.
  std::string message;
};

/// Compares the analytic gradient of sum(fn(inputs) * v) (v a fixed random projection) with
/// central differences, for every input that requires grad. Inputs should be float64 on
/// the CPU; fn must be deterministic.
GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

/// Second derivatives, as torch.autograd.gradgradcheck: the first-order gradient of
/// sum(fn(inputs) * v), formed with create_graph and contracted with a second fixed projection
/// u, is differentiated again, in the inputs (a Hessian-vector product) and in v (so the
/// gradient's dependence on the incoming gradient is checked too), and compared with central
/// differences of the same contraction computed by plain first-order backward. Inputs as for
/// gradcheck (float64 on the CPU); throws the formula's error where double backward of an op
/// is not supported.
GradcheckResult gradgradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                              const std::vector<Tensor>& inputs, const GradcheckOptions& options = {});

}  // namespace autograd
}  // namespace nabla

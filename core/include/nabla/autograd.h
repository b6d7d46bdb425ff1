// Autograd controls: grad mode, NoGradGuard, and the gradcheck harness.
#pragma once

#include <functional>
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

/// Runs backward from `outputs` with the given gradients (undefined = ones for scalars).
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              bool retain_graph = false);

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

}  // namespace autograd
}  // namespace nabla

// Optimizers (nabla::optim): SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta and LBFGS with
// PyTorch's defaults and update formulas, parameter groups with their own options, and state
// dicts. Each step of the per-element optimizers updates all parameters of a group with one fused
// multi-tensor kernel per device (ops sgd_step, adam_step, ... in ops.def; rules in
// core/math/optim.h); LBFGS works on the flattened parameters with tensor ops.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nabla/state_dict.h"
#include "nabla/tensor.h"

namespace nabla::optim {

/// Parameters with their own options; options left out take the optimizer's defaults.
struct ParamGroup {
  std::vector<Tensor> params;
  std::map<std::string, double> options;
};

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  /// Updates every parameter that has a gradient.
  virtual void step() = 0;
  /// torch.optim's step(closure): calls `closure` (with grad mode on; it zeroes the gradients,
  /// computes the loss, calls backward and returns the loss), then steps; returns the loss the
  /// closure returned. LBFGS calls the closure several times per step.
  virtual Tensor step(std::function<Tensor()> closure);
  /// Clears the parameters' gradients (set_to_none: undefined, as PyTorch >= 2.0).
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  virtual void add_param_group(ParamGroup group);
  const std::map<std::string, double>& defaults() const { return defaults_; }
  /// Learning rate of a group; set_lr sets every group's.
  double get_lr(std::size_t group = 0) const;
  void set_lr(double lr);
  void set_lr(std::size_t group, double lr);
  const std::string& name() const { return name_; }

  /// Options and per-parameter state as tensors: "param_groups.<g>.<option>" (0-dim float64),
  /// "param_groups.<g>.params" (int64 indices), "state.<i>.<buffer>", "state.<i>.step".
  /// Parameter i is the i-th parameter over all groups in order, as in PyTorch.
  virtual StateDict state_dict() const;
  /// Restores a state_dict() of an optimizer of the same kind over parameters of the same shapes.
  virtual void load_state_dict(const StateDict& state);

 protected:
  Optimizer(std::string name, std::vector<ParamGroup> groups, std::map<std::string, double> defaults);
  double option(const ParamGroup& g, const std::string& key) const;

  struct ParamState {
    std::map<std::string, Tensor> buffers;
    int64_t step = 0;
  };
  /// The state of a parameter (created empty on first use).
  ParamState& state_of(const Tensor& param);
  /// The parameters of a group that have gradients, checked (floating, contiguous, grads
  /// matching) for the fused kernels.
  std::vector<Tensor> params_with_grad(const ParamGroup& g) const;

 private:
  std::string name_;
  std::vector<ParamGroup> groups_;
  std::map<std::string, double> defaults_;
  std::map<const void*, ParamState> state_;  // keyed by the parameter's TensorImpl
};

struct SGDOptions {
  double lr = 1e-3, momentum = 0.0, dampening = 0.0, weight_decay = 0.0;
  bool nesterov = false, maximize = false;
  std::map<std::string, double> to_map() const;
};
class SGD : public Optimizer {
 public:
  explicit SGD(std::vector<Tensor> params, const SGDOptions& options = {});
  SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults);
  using Optimizer::step;
  void step() override;
};

struct AdamOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 0.0;
  bool amsgrad = false, maximize = false;
  std::map<std::string, double> to_map() const;
};
class Adam : public Optimizer {
 public:
  explicit Adam(std::vector<Tensor> params, const AdamOptions& options = {});
  Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults);
  using Optimizer::step;
  void step() override;

 protected:
  Adam(std::string name, std::vector<ParamGroup> groups, const AdamOptions& defaults, bool decoupled);

 private:
  bool decoupled_;
};

/// Adam with decoupled weight decay (Loshchilov & Hutter); weight_decay defaults to 1e-2.
struct AdamWOptions : AdamOptions {
  AdamWOptions() { weight_decay = 1e-2; }
};
class AdamW : public Adam {
 public:
  explicit AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& defaults);
};

struct RMSpropOptions {
  double lr = 1e-2, alpha = 0.99, eps = 1e-8, weight_decay = 0.0, momentum = 0.0;
  bool centered = false, maximize = false;
  std::map<std::string, double> to_map() const;
};
class RMSprop : public Optimizer {
 public:
  explicit RMSprop(std::vector<Tensor> params, const RMSpropOptions& options = {});
  RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& defaults);
  using Optimizer::step;
  void step() override;
};

struct AdagradOptions {
  double lr = 1e-2, lr_decay = 0.0, weight_decay = 0.0, initial_accumulator_value = 0.0, eps = 1e-10;
  bool maximize = false;
  std::map<std::string, double> to_map() const;
};
class Adagrad : public Optimizer {
 public:
  explicit Adagrad(std::vector<Tensor> params, const AdagradOptions& options = {});
  Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& defaults);
  using Optimizer::step;
  void step() override;
};

struct AdadeltaOptions {
  double lr = 1.0, rho = 0.9, eps = 1e-6, weight_decay = 0.0;
  bool maximize = false;
  std::map<std::string, double> to_map() const;
};
/// Adadelta (Zeiler 2012) as torch.optim.Adadelta; state square_avg, acc_delta.
class Adadelta : public Optimizer {
 public:
  explicit Adadelta(std::vector<Tensor> params, const AdadeltaOptions& options = {});
  Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& defaults);
  using Optimizer::step;
  void step() override;
};

struct LBFGSOptions {
  double lr = 1.0;
  int64_t max_iter = 20;
  std::optional<int64_t> max_eval = std::nullopt;  ///< function evaluations per step; unset: max_iter * 5 / 4
  double tolerance_grad = 1e-7, tolerance_change = 1e-9;
  int64_t history_size = 100;
  std::optional<std::string> line_search_fn = std::nullopt;  ///< unset (fixed step lr) or "strong_wolfe"
  /// Options as numbers; line_search_fn is 0 (none) or 1 (strong_wolfe).
  std::map<std::string, double> to_map() const;
};
/// L-BFGS as torch.optim.LBFGS: up to max_iter quasi-Newton iterations per step(closure) over
/// all parameters flattened into one vector, with a fixed step or a strong-Wolfe line search
/// (Nocedal & Wright, Algorithms 3.5 and 3.6, with cubic interpolation). One parameter group
/// only, all parameters of one dtype and device. Its state (state.0.<name> in state_dict(): d,
/// t, old_dirs, old_stps, ro, H_diag, prev_flat_grad, prev_loss, n_iter, func_evals) belongs to
/// the whole parameter vector, as PyTorch's, which keeps it on the first parameter.
class LBFGS : public Optimizer {
 public:
  explicit LBFGS(std::vector<Tensor> params, const LBFGSOptions& options = {});
  LBFGS(std::vector<ParamGroup> groups, const LBFGSOptions& defaults);
  /// Always an error: L-BFGS re-evaluates the model, it needs step(closure).
  void step() override;
  /// Runs the iterations; returns the loss of the closure's first call (before the step).
  Tensor step(std::function<Tensor()> closure) override;
  void add_param_group(ParamGroup group) override;
  StateDict state_dict() const override;
  void load_state_dict(const StateDict& state) override;

 private:
  struct History {
    int64_t func_evals = 0, n_iter = 0;
    bool started = false;      // step(closure) was called: func_evals and n_iter are state
    Tensor d, prev_flat_grad;  // undefined until the first iteration
    double t = 0, H_diag = 1, prev_loss = 0;
    std::vector<Tensor> old_dirs, old_stps;  // y and s pairs, oldest first
    std::vector<double> ro;                  // 1 / (y . s)
  };
  int64_t numel() const;
  Tensor gather_flat_grad() const;
  void add_grad(double step_size, const Tensor& update);
  History state_;
};

// ---- regularisation helpers -----------------------------------------------------------------
/// Scales all gradients so that their joint p-norm is at most max_norm; returns the norm
/// before clipping (as torch.nn.utils.clip_grad_norm_).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0);
/// Clamps every gradient element to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);
/// sum |p| and sum p^2 over parameters, as differentiable scalars for L1 / L2 penalties.
Tensor l1_penalty(const std::vector<Tensor>& params);
Tensor l2_penalty(const std::vector<Tensor>& params);

}  // namespace nabla::optim

// Optimizers (nabla::optim): SGD, Adam, AdamW, RMSprop, Adagrad with PyTorch's defaults and
// update formulas, parameter groups with their own options, and state dicts. Each step updates
// all parameters of a group with one fused multi-tensor kernel per device (ops sgd_step,
// adam_step, ... in ops.def; rules in core/math/optim.h).
#pragma once

#include <map>
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
  /// Clears the parameters' gradients (set_to_none: undefined, as PyTorch >= 2.0).
  void zero_grad(bool set_to_none = true);

  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }
  void add_param_group(ParamGroup group);
  const std::map<std::string, double>& defaults() const { return defaults_; }
  /// Learning rate of a group; set_lr sets every group's.
  double get_lr(std::size_t group = 0) const;
  void set_lr(double lr);
  void set_lr(std::size_t group, double lr);
  const std::string& name() const { return name_; }

  /// Options and per-parameter state as tensors: "param_groups.<g>.<option>" (0-dim float64),
  /// "param_groups.<g>.params" (int64 indices), "state.<i>.<buffer>", "state.<i>.step".
  /// Parameter i is the i-th parameter over all groups in order, as in PyTorch.
  StateDict state_dict() const;
  /// Restores a state_dict() of an optimizer of the same kind over parameters of the same shapes.
  void load_state_dict(const StateDict& state);

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
  void step() override;
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

// nabla::nn::Module: the base of every layer. Named parameters and buffers (nested names like
// "0.weight", as PyTorch's state_dict), train/eval mode, device and dtype moves, gradient
// reset, parameter counting, printing, and forward hooks.
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "nabla/state_dict.h"
#include "nabla/tensor.h"

namespace nabla::nn {

class Module {
 public:
  explicit Module(std::string type_name);
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The forward pass of a single-input module. The base throws: override it.
  virtual Tensor forward(const Tensor& x);
  /// forward() plus the forward hooks.
  Tensor operator()(const Tensor& x) { return run_hooks(x, forward(x)); }
  /// The hooks part of operator(): the forward hooks on (x, y), then the backward hooks on
  /// the output they leave. For a caller that ran another forward for this module (the Python
  /// binding: a Python forward, which may take several arguments and return non-tensors; x or
  /// y is then undefined). Returns the output, which a forward hook may have replaced.
  Tensor run_hooks(const Tensor& x, Tensor y);

  /// "Linear", "Sequential", ... (PyTorch's class names).
  const std::string& type_name() const { return type_name_; }

  // ---- parameters, buffers, children ----------------------------------------------------
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  /// Every module of the tree with its path ("" for this one, then "0", "0.linear", ...).
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// Number of parameter elements (only those that require grad when trainable_only).
  int64_t num_parameters(bool trainable_only = false) const;

  /// Parameters and buffers by their nested names, in registration order.
  StateDict state_dict() const;
  /// Copies values into the existing tensors (so optimizers keep working). strict: every
  /// name must match both ways. Shapes must match; values are converted to each tensor's
  /// dtype and device.
  void load_state_dict(const StateDict& state, bool strict = true);

  // ---- modes and moves -------------------------------------------------------------------
  virtual void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  /// Moves parameters, their gradients and buffers in place: every handle sees the move.
  void to(Device device);
  /// Converts floating-point parameters and buffers.
  void to(ScalarType dtype);
  /// Clears the gradients of every parameter (set_to_none: undefined, as PyTorch >= 2.0).
  void zero_grad(bool set_to_none = true);

  // ---- hooks -----------------------------------------------------------------------------
  /// A hook may replace the output by assigning to it (as a PyTorch forward hook that returns
  /// a value); one taking `const Tensor& output` only looks at it.
  using ForwardHook = std::function<void(Module& module, const Tensor& input, Tensor& output)>;
  /// Called after every forward() through operator(), in registration order; returns a handle
  /// for remove_forward_hook.
  int add_forward_hook(ForwardHook hook);
  void remove_forward_hook(int handle);
  /// Called during backward with the gradient of this module's output, for every forward()
  /// through operator() whose output is part of the graph; returns a handle.
  using BackwardHook = std::function<void(Module& module, const Tensor& grad_output)>;
  int add_backward_hook(BackwardHook hook);
  void remove_backward_hook(int handle);

  // ---- printing --------------------------------------------------------------------------
  /// The part inside the parentheses of this module's line, e.g. "in_features=3, ...".
  virtual std::string extra_repr() const { return ""; }
  /// PyTorch-style nested description.
  std::string repr() const;

 protected:
  /// Registers a parameter (a leaf that requires grad unless told otherwise); returns the
  /// same handle, which layers keep as a member.
  Tensor register_parameter(const std::string& name, Tensor t, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }
  void add_child(const std::string& name, std::shared_ptr<Module> m);

 private:
  void collect(const std::string& prefix, bool params, bool recurse,
               std::vector<std::pair<std::string, Tensor>>* out) const;
  void repr_into(std::string* out, int indent) const;

  std::string type_name_;
  bool training_ = true;
  std::vector<std::pair<std::string, Tensor>> params_, buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  std::vector<std::pair<int, ForwardHook>> hooks_;
  std::shared_ptr<std::vector<std::pair<int, BackwardHook>>> backward_hooks_ =
      std::make_shared<std::vector<std::pair<int, BackwardHook>>>();
  int next_hook_ = 0;
};

std::ostream& operator<<(std::ostream& os, const Module& m);

}  // namespace nabla::nn

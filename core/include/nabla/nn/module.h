// nabla::nn::Module: the base of every layer. Named parameters and buffers (nested names like
// "0.weight", as PyTorch's state_dict), train/eval mode, device and dtype moves, gradient
// reset, parameter counting, printing, and forward hooks.
//
// forward comes in two signatures: nabla's `Tensor forward(const Tensor&)` and libtorch's usual
// `Tensor forward(Tensor)` (by value). Both are virtual, so a subclass overriding either one is
// reached by operator(), by Sequential and by the Python binding. The by-value one lives in a
// private base (detail::ForwardByValue) so that lookup of `forward` in Module finds only the
// const& one: `module.forward(x)` through a Module& stays unambiguous, while a subclass's
// `Tensor forward(Tensor x)` still overrides the base's virtual (overriding ignores hiding and
// access). Module::forward(const Tensor&), when not overridden, calls the by-value one, whose
// default throws "not implemented".
#pragma once

#include <functional>
#include <iosfwd>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "nabla/state_dict.h"
#include "nabla/tensor.h"

namespace nabla::nn {

class Module;
template <class Contained>
class ModuleHolder;  // nabla/nn/holder.h

// Module::forward(const Tensor&) hides ForwardByValue::forward(Tensor) on purpose (see the file
// comment), and a subclass defining one signature hides the other: -Woverloaded-virtual (in
// clang's -Wall, GCC 13's) would flag both in every program that includes this header.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Woverloaded-virtual"

namespace detail {
/// The by-value `Tensor forward(Tensor)` that a subclass may override instead of
/// Module::forward(const Tensor&) (see the file comment).
class ForwardByValue {
 public:
  virtual ~ForwardByValue() = default;
  /// The base throws "<type>: forward(x) is not implemented by this module".
  virtual Tensor forward(Tensor x);
};

/// typeid(...).name() demangled ("NetImpl", "nabla::nn::Linear"); the raw name where the
/// ABI cannot demangle it.
std::string demangle(const char* mangled);
}  // namespace detail

class Module : private detail::ForwardByValue {
 public:
  explicit Module(std::string type_name);
  /// A module without a name argument (as libtorch's): type_name() is then the subclass's
  /// demangled C++ name, found on first use.
  Module();
  ~Module() override = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  /// The forward pass of a single-input module. The base calls a by-value
  /// `Tensor forward(Tensor)` override and throws when there is none: override either.
  virtual Tensor forward(const Tensor& x);
#pragma GCC diagnostic pop
  /// forward() plus the forward hooks.
  Tensor operator()(const Tensor& x) { return run_hooks(x, forward(x)); }
  /// The hooks part of operator(): the forward hooks on (x, y), then the backward hooks on
  /// the output they leave. For a caller that ran another forward for this module (the Python
  /// binding: a Python forward, which may take several arguments and return non-tensors; x or
  /// y is then undefined). Returns the output, which a forward hook may have replaced.
  Tensor run_hooks(const Tensor& x, Tensor y);

  /// "Linear", "Sequential", ... (PyTorch's class names); a module built without a name
  /// gives its demangled C++ class name.
  const std::string& type_name() const;

  // ---- parameters, buffers, children ----------------------------------------------------
  std::vector<Tensor> parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_parameters(bool recurse = true) const;
  std::vector<std::pair<std::string, Tensor>> named_buffers(bool recurse = true) const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& named_children() const {
    return children_;
  }
  /// Every module of the tree with its path ("" for this one, then "0", "0.linear", ...).
  std::vector<std::pair<std::string, Module*>> named_modules();
  /// Calls fn on this module, then on every submodule, depth first (libtorch's Module::apply;
  /// a module shared by two parents is visited once). The named form gets the module's path,
  /// after name_prefix ("" for this one).
  void apply(const std::function<void(Module&)>& fn);
  void apply(const std::function<void(const std::string& name, Module&)>& fn,
             const std::string& name_prefix = "");
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
  /// A holder (nabla/nn/holder.h, libtorch's `torch::nn::Linear`): registers the module it
  /// holds and returns that module's shared_ptr, as libtorch does, so `fc = register_module(
  /// "fc", Linear(3, 4))` assigns a holder, and a shared_ptr member takes it as well.
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, const ModuleHolder<M>& holder) {
    return register_module(name, holder.ptr());
  }
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  /// For containers (ModuleList, ModuleDict): puts `m` in place of the child `name`, keeping
  /// its position; throws Error when there is no such child.
  void replace_child(const std::string& name, std::shared_ptr<Module> m);
  /// For containers: removes the child `name` and returns it; throws Error when there is none.
  std::shared_ptr<Module> remove_child(const std::string& name);

 private:
  void collect(const std::string& prefix, bool params, bool recurse,
               std::vector<std::pair<std::string, Tensor>>* out) const;
  void repr_into(std::string* out, int indent) const;
  friend class detail::ForwardByValue;  // its default names the module

  mutable std::string type_name_;
  mutable std::once_flag type_name_once_;  // the lazy name of a module built without one
  bool named_ = true;
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

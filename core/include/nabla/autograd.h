// Autograd controls: grad mode, NoGradGuard, backward and grad (higher-order gradients too),
// custom autograd functions, and the gradcheck and gradgradcheck harnesses.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <utility>
#include <variant>
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

// ---- custom autograd functions (as libtorch's torch::autograd::Function) --------------------
//
//   struct MulConstant : nabla::autograd::Function<MulConstant> {
//     static Tensor forward(AutogradContext* ctx, Tensor x, double c) {
//       ctx->saved_data["c"] = c;
//       return x * c;
//     }
//     static variable_list backward(AutogradContext* ctx, variable_list grad_outputs) {
//       return {grad_outputs[0] * ctx->saved_data["c"].toDouble(), Tensor()};
//     }
//   };
//   Tensor y = MulConstant::apply(x, 2.0);
//
// forward runs with grad mode off; when grad mode is on and a Tensor argument requires grad,
// the outputs get a node whose backward calls T::backward, with one gradient per output
// (zeros for outputs that got none, unless set_materialize_grads(false)). backward returns one
// entry per forward argument (undefined for non-Tensor arguments and for inputs that need
// none). Written in nabla ops, backward records under create_graph: double backward works.

using variable_list = std::vector<Tensor>;

/// A value kept in AutogradContext::saved_data (libtorch's IValue, for the types a backward
/// needs): a Tensor, a number, a bool, a string or a list of ints.
class IValue {
 public:
  IValue() = default;
  IValue(Tensor t) : v_(std::move(t)) {}                // NOLINT: implicit, as libtorch's
  IValue(double d) : v_(d) {}                           // NOLINT
  IValue(int64_t i) : v_(i) {}                          // NOLINT
  IValue(int i) : v_(static_cast<int64_t>(i)) {}        // NOLINT
  IValue(bool b) : v_(b) {}                             // NOLINT
  IValue(std::string s) : v_(std::move(s)) {}           // NOLINT
  IValue(const char* s) : v_(std::string(s)) {}         // NOLINT
  IValue(std::vector<int64_t> l) : v_(std::move(l)) {}  // NOLINT
  bool isNone() const { return v_.index() == 0; }
  bool isTensor() const { return std::holds_alternative<Tensor>(v_); }
  bool isDouble() const { return std::holds_alternative<double>(v_); }
  bool isInt() const { return std::holds_alternative<int64_t>(v_); }
  bool isBool() const { return std::holds_alternative<bool>(v_); }
  bool isString() const { return std::holds_alternative<std::string>(v_); }
  bool isIntList() const { return std::holds_alternative<std::vector<int64_t>>(v_); }
  /// Each throws nabla::Error naming both kinds when the value holds another.
  const Tensor& toTensor() const;
  double toDouble() const;  // an int converts, as libtorch's
  int64_t toInt() const;
  bool toBool() const;
  const std::string& toStringRef() const;
  const std::vector<int64_t>& toIntVector() const;
  /// "None", "Tensor", "double", "int", "bool", "string" or "int[]".
  std::string tagKind() const;

 private:
  std::variant<std::monostate, Tensor, double, int64_t, bool, std::string, std::vector<int64_t>> v_;
};

struct CustomFunctionState;

/// What forward leaves for backward (libtorch's torch::autograd::AutogradContext).
class AutogradContext {
 public:
  /// Non-tensor values (and tensors that need no version check) for backward.
  std::unordered_map<std::string, IValue> saved_data;

  /// Tensors for backward: inputs or outputs of forward, checked for in-place changes.
  void save_for_backward(variable_list to_save);
  /// The tensors saved by save_for_backward (connected to the graph under create_graph);
  /// throws if one was modified in place since, or if the graph was already freed.
  variable_list get_saved_variables() const;
  /// Inputs that forward modified in place (and returns): their history moves to this node.
  void mark_dirty(const variable_list& inputs);
  /// Outputs that have no gradient (indices, masks): they do not require grad.
  void mark_non_differentiable(const variable_list& outputs);
  /// Whether undefined output gradients reach backward as zeros (default true).
  void set_materialize_grads(bool value);
  /// Whether the index-th Tensor argument of forward needs a gradient.
  bool needs_input_grad(std::size_t index) const;

  AutogradContext();
  ~AutogradContext();
  AutogradContext(const AutogradContext&) = delete;
  AutogradContext& operator=(const AutogradContext&) = delete;

  /// Internal: the recording state the library keeps (saved tensors, marks, the node).
  CustomFunctionState& state() const { return *state_; }

 private:
  std::unique_ptr<CustomFunctionState> state_;
};

namespace detail {

/// Runs a custom function: `forward` (with grad mode off) on `ctx`, then, when it must be
/// recorded, makes the node over the Tensor arguments `inputs` (is_tensor: which of the
/// forward's arguments were Tensors) whose backward is `backward`. Returns the outputs.
variable_list run_custom_function(const std::shared_ptr<AutogradContext>& ctx, std::string name,
                                  const variable_list& inputs, std::vector<bool> is_tensor,
                                  const std::function<variable_list()>& forward,
                                  std::function<variable_list(AutogradContext*, variable_list)> backward);

template <class A>
void collect_tensor(const A& a, variable_list& inputs, std::vector<bool>& is_tensor) {
  if constexpr (std::is_same_v<std::decay_t<A>, Tensor>) {
    inputs.push_back(a);
    is_tensor.push_back(true);
  } else {
    is_tensor.push_back(false);
  }
}

std::string demangle(const char* mangled);

}  // namespace detail

/// CRTP base of a custom function: T provides static forward(AutogradContext*, args...)
/// returning a Tensor or a variable_list, and static backward(AutogradContext*,
/// variable_list) returning one gradient per forward argument.
template <class T>
struct Function {
  template <class... Args>
  static auto apply(Args&&... args) {
    using Out = decltype(T::forward(static_cast<AutogradContext*>(nullptr), std::forward<Args>(args)...));
    static_assert(std::is_same_v<Out, Tensor> || std::is_same_v<Out, variable_list>,
                  "autograd::Function: forward must return a Tensor or a variable_list");
    auto ctx = std::make_shared<AutogradContext>();
    variable_list inputs;
    std::vector<bool> is_tensor;
    (detail::collect_tensor(args, inputs, is_tensor), ...);
    const std::function<variable_list()> forward = [&]() -> variable_list {
      if constexpr (std::is_same_v<Out, Tensor>) {
        return {T::forward(ctx.get(), std::forward<Args>(args)...)};
      } else {
        return T::forward(ctx.get(), std::forward<Args>(args)...);
      }
    };
    variable_list out = detail::run_custom_function(
        ctx, detail::demangle(typeid(T).name()), inputs, std::move(is_tensor), forward,
        [](AutogradContext* c, variable_list g) { return T::backward(c, std::move(g)); });
    if constexpr (std::is_same_v<Out, Tensor>) {
      return out[0];
    } else {
      return out;
    }
  }
};

}  // namespace autograd
}  // namespace nabla

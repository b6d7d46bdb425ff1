// Autograd graph nodes: Node, Edge, SavedTensor, the generic OpNode that every recorded op
// creates, AccumulateGrad for leaves, and DelayedError for gradients that cannot be
// differentiated again.
#pragma once

#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dispatch/op.h"

namespace nabla {

struct Node;
struct TensorImpl;

/// Where a gradient goes: input `input_nr` of node `fn` (invalid when fn is null).
struct Edge {
  std::shared_ptr<Node> fn;
  uint32_t input_nr = 0;
  bool valid() const { return fn != nullptr; }
};

struct Node : std::enable_shared_from_this<Node> {
  /// One edge per input of the forward op (invalid for inputs that need no gradient).
  std::vector<Edge> next;
  /// Creation order: later nodes run first when several are ready.
  uint64_t seq = 0;
  /// Tensor::register_hook: (output number, hook) called with that output's gradient before
  /// apply().
  std::vector<std::pair<uint32_t, std::function<void(const Tensor&)>>> grad_hooks;

  virtual ~Node() = default;
  virtual std::string name() const = 0;
  /// Number of gradients it receives (forward outputs).
  virtual std::size_t num_inputs() const { return 1; }
  /// Gradients of the forward outputs in; gradients of the forward inputs out.
  virtual std::vector<Tensor> apply(std::vector<Tensor>&& grads) = 0;
  /// Frees saved tensors once backward has passed (unless the graph is retained).
  virtual void release() {}
};

/// A tensor saved for backward, plus the version it had when saved, so an in-place change
/// before backward is detected instead of silently giving wrong gradients.
///
/// Higher-order gradients (create_graph) need the formulas to see saved tensors connected to
/// the graph, as PyTorch's SavedVariable does:
///  - a saved input is the tensor itself (a handle to the same impl), so it keeps its grad_fn
///    or its leaf identity (the leaf's accumulator is found again through the impl). This
///    makes no cycle: the input's grad_fn is an earlier node, never the one saving it. (It is
///    also cheaper than an alias: no new impl per saved tensor.)
///  - a saved output of the saving node itself is a detached alias: holding the output's impl
///    would hold its grad_fn, the saving node, a reference cycle node -> saved output -> node
///    that nothing frees. Instead unpack_graph() rebuilds a fresh alias whose grad_fn is the
///    owner, passed in by the owner while it runs (so it is alive), and whose output_nr is the
///    slot: the same edge the output had. The owner is never stored in the saved tensor.
/// The one cycle left is PyTorch's too: a leaf's .grad() accumulated under create_graph holds
/// a graph that may save the leaf (reset the grad, or set it to a detached tensor, to free it).
struct SavedTensor {
  Tensor data;
  uint32_t version = 0;
  uint32_t output_nr = 0;    // outputs: the slot, for the rebuilt edge
  bool is_output = false;    // data is a detached alias of an output of the owning node
  bool output_grad = false;  // outputs: whether the output carries a gradient (floating point)
  SavedTensor() = default;
  /// An input of the saving node (kept as the tensor itself).
  explicit SavedTensor(const Tensor& t);
  /// Output `output_nr` of the saving node (kept as a detached alias).
  SavedTensor(const Tensor& t, uint32_t output_nr);
  /// The saved tensor; throws if it was modified in place since it was saved.
  /// `node` names the owner in the error message (its name is built only on error).
  Tensor unpack(const Node& node, std::size_t slot) const;
  /// As unpack, but a saved output comes back connected to its owner `node` (create_graph).
  Tensor unpack_graph(Node& node, std::size_t slot) const;
};

struct TensorMeta {
  Shape sizes;
  ScalarType dtype = kFloat32;
  Device device;
  /// The last two dims are a transposed (column-major) matrix, as a weight's .t() in linear:
  /// the matrix products' backward forms such an input's gradient in that layout.
  bool col_major = false;
};

/// Whether t's last two dims (both > 1) are a column-major matrix: TensorMeta::col_major.
bool is_col_major(const Tensor& t);

/// Everything a backward formula sees.
struct BackwardCtx {
  Op op;
  const OpParams& p;
  std::vector<Tensor> grads;  // gradient of each forward output (zeros where none came)
  std::vector<Tensor> in;     // saved inputs (undefined where the formula saves none)
  std::vector<Tensor> out;    // saved outputs
  const std::vector<TensorMeta>& in_meta;
  std::vector<bool> needs;  // whether input i needs a gradient
  const Tensor& grad() const { return grads[0]; }
};

/// A backward formula: gradients of the inputs (undefined where not needed). Shapes may be
/// the broadcast shape and dtypes the computation dtype: the node reduces and casts.
using BackwardFn = std::vector<Tensor> (*)(const BackwardCtx& ctx);

struct Derivative {
  BackwardFn fn = nullptr;
  uint32_t save_in = 0;   // bit i: save input i
  uint32_t save_out = 0;  // bit i: save output i
  /// When set, decides save_in from which inputs need a gradient (bit i of `needs`), so that
  /// mul saves b only when a needs a gradient: fewer saved tensors, fewer false version errors.
  uint32_t (*save_in_for)(uint32_t needs) = nullptr;
  /// The formula runs backward primitives that have no derivative of their own (batch and
  /// layer norm, the recurrent op): under create_graph its gradients are computed without a
  /// graph and hang from a DelayedError node, so first-order use works and a second
  /// differentiation through them raises "double backward of <op> is not supported".
  bool once_differentiable = false;
};

void set_derivative(Op op, Derivative d);
const Derivative& derivative(Op op);
/// Fills the derivative table (core/src/autograd/derivatives_*.cpp).
void register_derivatives();

/// The node every differentiable op records.
struct OpNode final : Node {
  Op op;
  OpParams params;
  std::vector<SavedTensor> saved_in, saved_out;
  std::vector<TensorMeta> in_meta, out_meta;
  bool released = false;

  std::string name() const override;
  std::size_t num_inputs() const override { return out_meta.size(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  void release() override;
};

/// Adds incoming gradients into a leaf's .grad().
struct AccumulateGrad final : Node {
  std::weak_ptr<TensorImpl> var;
  std::string name() const override { return "AccumulateGrad"; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
};

/// Stands in for the derivative of a gradient that cannot be differentiated again: its edges
/// lead where that derivative would (the incoming gradients, the saved tensors), so a
/// backward that needs it reaches it and fails with `message`; one that does not never runs it.
struct DelayedError final : Node {
  std::string message;
  std::size_t outputs = 1;
  std::string name() const override { return "DelayedError"; }
  std::size_t num_inputs() const override { return outputs; }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
};

/// A node whose backward is a C++ callable: a front end's hand-made gradient (written in
/// differentiable ops, so create_graph differentiates it again). `backward` gets the
/// gradients of the outputs (zeros where none came) and returns one per input (undefined: none).
struct FunctionNode final : Node {
  using Backward =
      std::function<std::vector<Tensor>(const FunctionNode& self, const std::vector<Tensor>& grads)>;
  std::string node_name;
  Backward backward;
  std::vector<TensorMeta> out_meta;
  bool released = false;
  bool materialize_grads = true;  // undefined output gradients reach `backward` as zeros
  std::string name() const override { return node_name; }
  std::size_t num_inputs() const override { return out_meta.size(); }
  std::vector<Tensor> apply(std::vector<Tensor>&& grads) override;
  void release() override;
};

/// Records `outputs` (computed by the caller, without a graph) as the outputs of a
/// FunctionNode named `name` over `inputs`, when grad mode is on and an input requires grad;
/// returns them, connected. The callable must not hold the outputs (that would be a cycle).
std::vector<Tensor> record_function(std::string name, const std::vector<Tensor>& inputs,
                                    std::vector<Tensor> outputs, FunctionNode::Backward backward);

/// The edge a gradient for `t` flows into: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);
uint64_t next_sequence_number();
/// Records `node` as the producer of `outputs` (sets requires_grad, grad_fn, output_nr).
void set_history(std::span<Tensor> outputs, const std::shared_ptr<Node>& node);

}  // namespace nabla

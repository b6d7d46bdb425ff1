// Autograd graph nodes: Node, Edge, SavedTensor, the generic OpNode that every recorded op
// creates, and AccumulateGrad for leaves.
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

struct Node {
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

/// A tensor saved for backward: a detached alias plus the version it had when saved, so an
/// in-place change before backward is detected instead of silently giving wrong gradients.
struct SavedTensor {
  Tensor data;
  uint32_t version = 0;
  SavedTensor() = default;
  explicit SavedTensor(const Tensor& t);
  /// The saved tensor; throws if it was modified in place since it was saved.
  /// `node` names the owner in the error message (its name is built only on error).
  Tensor unpack(const Node& node, std::size_t slot, bool is_output) const;
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

/// The edge a gradient for `t` flows into: its grad_fn, or its leaf accumulator.
Edge gradient_edge(const Tensor& t);
uint64_t next_sequence_number();
/// Records `node` as the producer of `outputs` (sets requires_grad, grad_fn, output_nr).
void set_history(std::span<Tensor> outputs, const std::shared_ptr<Node>& node);

}  // namespace nabla

// OpNode, AccumulateGrad, SavedTensor and the derivative table.
#include "autograd/node.h"

#include <atomic>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
Derivative g_derivatives[kNumOps];
std::atomic<uint64_t> g_seq{0};

std::string camel(std::string_view s) {
  std::string r;
  bool up = true;
  for (char c : s) {
    if (c == '_') {
      up = true;
      continue;
    }
    r += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return r;
}
}  // namespace

void set_derivative(Op op, Derivative d) { g_derivatives[static_cast<int>(op)] = d; }
const Derivative& derivative(Op op) { return g_derivatives[static_cast<int>(op)]; }
uint64_t next_sequence_number() { return g_seq.fetch_add(1); }

SavedTensor::SavedTensor(const Tensor& t) : data(t), version(t.version()) {}

SavedTensor::SavedTensor(const Tensor& t, uint32_t nr)
    : data(detached_alias(t)),
      version(t.version()),
      output_nr(nr),
      is_output(true),
      output_grad(is_floating_point(t.dtype())) {}  // set_history marks floating outputs, after saving

Tensor SavedTensor::unpack(const Node& node, std::size_t slot) const {
  if (!data.defined()) return data;
  NABLA_CHECK(data.version() == version,
              "one of the tensors needed for gradient computation has been modified by an in-place "
              "operation: {} {} of {} (shape {}, {}) is at version {}; expected version {}",
              is_output ? "output" : "input", slot, node.name(), data.shape_str(), dtype_name(data.dtype()),
              data.version(), version);
  return data;
}

Tensor SavedTensor::unpack_graph(Node& node, std::size_t slot) const {
  Tensor t = unpack(node, slot);
  if (!t.defined() || !is_output || !output_grad) return t;
  Tensor r = detached_alias(t);
  AutogradMeta& m = r.impl()->meta();
  m.requires_grad = true;
  m.grad_fn = node.shared_from_this();
  m.output_nr = output_nr;
  return r;
}

std::string OpNode::name() const { return camel(op_name(op)) + "Backward"; }

void OpNode::release() {
  saved_in.clear();
  saved_out.clear();
  released = true;
}

namespace {

// Under create_graph, the gradients `gi` of a once-differentiable formula (computed without a
// graph) are re-rooted at a DelayedError node whose edges lead where their derivative would.
void hang_from_delayed_error(const OpNode& n, const BackwardCtx& ctx, std::vector<Tensor>& gi) {
  auto err = std::make_shared<DelayedError>();
  const auto add_edge = [&](const Tensor& t) {
    if (t.defined() && t.requires_grad()) err->next.push_back(gradient_edge(t));
  };
  for (const Tensor& g : ctx.grads) add_edge(g);
  for (const Tensor& t : ctx.in) add_edge(t);
  for (const Tensor& t : ctx.out) add_edge(t);
  if (err->next.empty()) return;  // nothing upstream: the gradients are constants
  err->message = fmt::format(
      "double backward of {} is not supported: its backward formula ({}) runs backward primitives that "
      "have no derivative of their own",
      op_name(n.op), n.name());
  err->seq = next_sequence_number();
  err->outputs = gi.size();
  for (std::size_t i = 0; i < gi.size(); ++i) {
    if (!gi[i].defined()) continue;
    gi[i] = detached_alias(gi[i]);
    AutogradMeta& m = gi[i].impl()->meta();
    m.requires_grad = true;
    m.grad_fn = err;
    m.output_nr = static_cast<uint32_t>(i);
  }
}

}  // namespace

std::vector<Tensor> OpNode::apply(std::vector<Tensor>&& grads) {
  NABLA_CHECK(!released,
              "trying to backward through the graph a second time ({} has already freed its saved "
              "tensors); call backward(gradient, /*retain_graph=*/true) the first time to backward twice",
              name());
  // Grad mode is on here only under create_graph (the engine runs formulas under NoGradGuard
  // otherwise): then the formulas' ops record, and saved tensors must come back connected.
  const bool graph = GradMode::is_enabled();
  BackwardCtx ctx{op, params, std::move(grads), {}, {}, in_meta, {}};
  for (std::size_t i = 0; i < ctx.grads.size(); ++i) {
    // Outputs that cannot carry a gradient (indices, the recurrent op's reserve) get none.
    if (!ctx.grads[i].defined() && is_floating_point(out_meta[i].dtype)) {
      ctx.grads[i] = zeros(out_meta[i].sizes, TensorOptions(out_meta[i].dtype).device(out_meta[i].device));
    }
  }
  ctx.in.resize(in_meta.size());
  ctx.out.resize(out_meta.size());
  if (graph) {
    for (std::size_t i = 0; i < saved_in.size(); ++i) ctx.in[i] = saved_in[i].unpack_graph(*this, i);
    for (std::size_t i = 0; i < saved_out.size(); ++i) ctx.out[i] = saved_out[i].unpack_graph(*this, i);
  } else {
    for (std::size_t i = 0; i < saved_in.size(); ++i) ctx.in[i] = saved_in[i].unpack(*this, i);
    for (std::size_t i = 0; i < saved_out.size(); ++i) ctx.out[i] = saved_out[i].unpack(*this, i);
  }
  ctx.needs.resize(next.size());
  for (std::size_t i = 0; i < next.size(); ++i) ctx.needs[i] = next[i].valid();

  const Derivative& d = derivative(op);
  std::vector<Tensor> gi;
  if (graph && d.once_differentiable) {
    {
      NoGradGuard no_graph;
      gi = d.fn(ctx);
    }
    gi.resize(next.size());
    hang_from_delayed_error(*this, ctx, gi);
  } else {
    gi = d.fn(ctx);
  }
  NABLA_INTERNAL_ASSERT(gi.size() <= next.size(), "{} returned {} gradients for {} inputs", name(), gi.size(),
                        next.size());
  gi.resize(next.size());
  for (std::size_t i = 0; i < gi.size(); ++i) {
    if (!next[i].valid() || !gi[i].defined()) {
      gi[i] = Tensor();
      continue;
    }
    const TensorMeta& m = in_meta[i];
    if (gi[i].sizes() != m.sizes) gi[i] = sum_to_size(gi[i], m.sizes);
    if (gi[i].dtype() != m.dtype) gi[i] = gi[i].to(m.dtype);
  }
  return gi;
}

std::vector<Tensor> DelayedError::apply(std::vector<Tensor>&&) { NABLA_FAIL("{}", message); }

std::vector<Tensor> FunctionNode::apply(std::vector<Tensor>&& grads) {
  NABLA_CHECK(!released,
              "trying to backward through the graph a second time ({} has already freed its saved "
              "tensors); call backward(gradient, /*retain_graph=*/true) the first time to backward twice",
              name());
  for (std::size_t i = 0; i < grads.size(); ++i) {
    if (materialize_grads && !grads[i].defined() && is_floating_point(out_meta[i].dtype))
      grads[i] = zeros(out_meta[i].sizes, TensorOptions(out_meta[i].dtype).device(out_meta[i].device));
  }
  std::vector<Tensor> gi = backward(*this, grads);
  NABLA_CHECK(gi.size() == next.size(), "{}: backward returned {} gradients for {} inputs", name(), gi.size(),
              next.size());
  return gi;
}

void FunctionNode::release() {
  backward = nullptr;
  released = true;
}

std::vector<Tensor> record_function(std::string name, const std::vector<Tensor>& inputs,
                                    std::vector<Tensor> outputs, FunctionNode::Backward backward) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any || !GradMode::is_enabled()) return outputs;
  auto node = std::make_shared<FunctionNode>();
  node->node_name = std::move(name);
  node->backward = std::move(backward);
  node->seq = next_sequence_number();
  for (const Tensor& t : inputs) node->next.push_back(gradient_edge(t));
  for (Tensor& o : outputs) {
    node->out_meta.push_back(TensorMeta{o.sizes(), o.dtype(), o.device()});
    o = detached_alias(o);  // a fresh impl: the caller's tensor may be shared
  }
  set_history(outputs, node);
  return outputs;
}

bool is_col_major(const Tensor& t) {
  const int64_t d = t.dim();
  return d >= 2 && t.size(d - 2) > 1 && t.size(d - 1) > 1 && t.stride(d - 2) == 1 &&
         t.stride(d - 1) == t.size(d - 2);
}

std::vector<Tensor> AccumulateGrad::apply(std::vector<Tensor>&& grads) {
  auto impl = var.lock();
  if (!impl || !grads[0].defined()) return {};
  Tensor v(impl);
  Tensor g = std::move(grads[0]);
  if (g.sizes() != v.sizes()) g = sum_to_size(g, v.sizes());
  if (g.dtype() != v.dtype()) g = g.to(v.dtype());
  AutogradMeta& m = impl->meta();
  if (!m.grad.defined()) {
    // Steal the incoming gradient when nothing else can see its buffer; otherwise own a
    // copy, since it may alias a user tensor or another parameter's gradient.
    // Under create_graph the clone records, so the gradient keeps its graph (PyTorch too).
    const bool sole_owner = g.impl_ptr().use_count() == 1 && g.impl()->storage.use_count() == 1 &&
                            g.is_contiguous() && g.storage_offset() == 0 && !g.impl()->autograd;
    m.grad = sole_owner ? g : g.clone();
  } else if (GradMode::is_enabled()) {
    // create_graph: out of place, so the sum is a node of the graph (as PyTorch's
    // `variable.grad = variable.grad + new_grad`), and a .grad() the user holds is not changed.
    m.grad = add(m.grad, g);
  } else {
    m.grad.add_(g);
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return {};
  TensorImpl* impl = t.impl();
  AutogradMeta& m = impl->meta();
  if (m.grad_fn) return {m.grad_fn, m.output_nr};
  std::shared_ptr<Node> acc = m.grad_accumulator.lock();
  if (!acc) {
    auto a = std::make_shared<AccumulateGrad>();
    a->var = t.impl_ptr();
    a->seq = next_sequence_number();
    acc = a;
    m.grad_accumulator = acc;
  }
  return {acc, 0};
}

void set_history(std::span<Tensor> outputs, const std::shared_ptr<Node>& node) {
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    Tensor& o = outputs[k];
    if (!o.defined() || !is_floating_point(o.dtype())) continue;
    AutogradMeta& m = o.impl()->meta();
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(k);
  }
}

}  // namespace nabla

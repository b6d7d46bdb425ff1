// The backward engine: dependency counting over the graph reachable from the roots, then
// nodes run in reverse creation order as their inputs become complete.
#include <queue>
#include <unordered_map>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
thread_local bool g_grad_enabled = true;

struct BySeq {
  bool operator()(const Node* a, const Node* b) const { return a->seq < b->seq; }
};
}  // namespace

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool enabled) { g_grad_enabled = enabled; }

namespace autograd {

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              bool retain_graph) {
  NABLA_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
              "backward: got {} gradients for {} outputs", grad_outputs.size(), outputs.size());
  std::vector<std::pair<Edge, Tensor>> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    NABLA_CHECK(t.defined(), "backward: output {} is an undefined tensor", i);
    NABLA_CHECK(t.requires_grad(),
                "backward: element {} of tensors does not require grad and does not have a grad_fn "
                "(did you call requires_grad_() on the inputs, or run under NoGradGuard?)",
                i);
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      NABLA_CHECK(t.numel() == 1,
                  "backward: grad can be implicitly created only for scalar outputs, but output {} "
                  "has shape {}; pass a gradient of that shape",
                  i, t.shape_str());
      g = ones_like(t);
    } else {
      NABLA_CHECK(g.sizes() == t.sizes(), "backward: gradient of shape {} does not match output shape {}",
                  g.shape_str(), t.shape_str());
      NABLA_CHECK(g.device() == t.device(), "backward: gradient is on {} but the output is on {}",
                  g.device().str(), t.device().str());
      if (g.dtype() != t.dtype()) g = g.to(t.dtype());
    }
    roots.emplace_back(gradient_edge(t), g.detach());
  }

  NoGradGuard no_grad;
  // Count, for each reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (auto& r : roots) {
    if (!seen[r.first.fn.get()]) {
      seen[r.first.fn.get()] = true;
      stack.push_back(r.first.fn.get());
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next) {
      if (!e.valid()) continue;
      deps[e.fn.get()] += 1;
      if (!seen[e.fn.get()]) {
        seen[e.fn.get()] = true;
        stack.push_back(e.fn.get());
      }
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep;  // holds nodes alive while queued
  auto accumulate = [&](const Edge& e, Tensor g) {
    auto& buf = buffers[e.fn.get()];
    if (buf.empty()) buf.resize(e.fn->num_inputs());
    Tensor& slot = buf[e.input_nr];
    slot = slot.defined() ? add(slot, g) : std::move(g);
    keep[e.fn.get()] = e.fn;
  };
  std::priority_queue<Node*, std::vector<Node*>, BySeq> ready;
  for (auto& r : roots) accumulate(r.first, r.second);
  for (auto& r : roots) {
    if (deps[r.first.fn.get()] == 0) {
      deps[r.first.fn.get()] = -1;  // queued
      ready.push(r.first.fn.get());
    }
  }
  while (!ready.empty()) {
    Node* n = ready.top();
    ready.pop();
    std::shared_ptr<Node> hold = keep[n];
    std::vector<Tensor> in = std::move(buffers[n]);
    buffers.erase(n);
    in.resize(n->num_inputs());
    for (const auto& [k, hook] : n->grad_hooks) {
      if (k < in.size() && in[k].defined()) hook(in[k]);
    }
    std::vector<Tensor> out = n->apply(std::move(in));
    if (!retain_graph) n->release();
    for (std::size_t i = 0; i < n->next.size(); ++i) {
      const Edge& e = n->next[i];
      if (!e.valid()) continue;
      if (i < out.size() && out[i].defined())
        accumulate(e, std::move(out[i]));
      else
        keep[e.fn.get()] = e.fn;
      if (--deps[e.fn.get()] == 0) ready.push(e.fn.get());
    }
    keep.erase(n);
  }
}

}  // namespace autograd
}  // namespace nabla

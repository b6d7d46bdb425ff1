// The backward engine: dependency counting over the graph reachable from the roots, then
// nodes run in reverse creation order as their inputs become complete.
#include <optional>
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
namespace {

// Sets grad mode for a scope: the engine runs the formulas with it on exactly under
// create_graph, whatever the caller's mode.
class GradModeScope {
 public:
  explicit GradModeScope(bool on) : prev_(GradMode::is_enabled()) { GradMode::set_enabled(on); }
  ~GradModeScope() { GradMode::set_enabled(prev_); }
  GradModeScope(const GradModeScope&) = delete;
  GradModeScope& operator=(const GradModeScope&) = delete;

 private:
  bool prev_;
};

// The roots: each output's gradient edge and its incoming gradient. `api` names the caller.
std::vector<std::pair<Edge, Tensor>> make_roots(const char* api, const std::vector<Tensor>& outputs,
                                                const std::vector<Tensor>& grad_outputs, bool create_graph) {
  NABLA_CHECK(grad_outputs.empty() || grad_outputs.size() == outputs.size(),
              "{}: got {} gradients for {} outputs (grad_outputs must have one per output, or be empty)", api,
              grad_outputs.size(), outputs.size());
  std::vector<std::pair<Edge, Tensor>> roots;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    NABLA_CHECK(t.defined(), "{}: output {} is an undefined tensor", api, i);
    NABLA_CHECK(t.requires_grad(),
                "{}: element {} of tensors does not require grad and does not have a grad_fn "
                "(did you call requires_grad_() on the inputs, or run under NoGradGuard?)",
                api, i);
    Tensor g = grad_outputs.empty() ? Tensor() : grad_outputs[i];
    if (!g.defined()) {
      NABLA_CHECK(t.numel() == 1,
                  "{}: grad can be implicitly created only for scalar outputs, but output {} "
                  "has shape {}; pass a gradient of that shape",
                  api, i, t.shape_str());
      g = ones_like(t);
    } else {
      NABLA_CHECK(g.sizes() == t.sizes(),
                  "{}: gradient of shape {} does not match output shape {} (output {})", api, g.shape_str(),
                  t.shape_str(), i);
      NABLA_CHECK(g.device() == t.device(), "{}: gradient is on {} but the output is on {} (output {})", api,
                  g.device().str(), t.device().str(), i);
      NABLA_CHECK(g.is_floating_point(), "{}: gradient {} must be floating point, got {}", api, i,
                  dtype_name(g.dtype()));
      if (g.dtype() != t.dtype()) g = g.to(t.dtype());
    }
    // Under create_graph a gradient that requires grad stays connected (double backward
    // through grad_outputs: Hessian-vector products by the transposed-Jacobian trick).
    roots.emplace_back(gradient_edge(t), create_graph ? g : g.detach());
  }
  return roots;
}

// Where grad() takes a gradient instead of passing it on: the input_nr-th gradient that
// reaches `fn` is the gradient of inputs[index].
struct Capture {
  uint32_t input_nr;
  std::size_t index;
};

// Runs the graph reachable from `roots`. Without captures every node runs (backward). With
// captures (grad) only the nodes from which a captured edge is reachable run, the captured
// nodes' gradients are stored in `captured`, and a node none of whose edges leads to a capture
// (a leaf's accumulator, in particular) does not run.
void execute(std::vector<std::pair<Edge, Tensor>>& roots, bool retain_graph, bool create_graph,
             const std::unordered_map<Node*, std::vector<Capture>>& captures, std::vector<Tensor>* captured) {
  GradModeScope mode(create_graph);
  const bool capturing = !captures.empty();

  // With captures: which nodes lead to one (post-order over the reachable graph).
  std::unordered_map<Node*, bool> needed;
  if (capturing) {
    std::vector<std::pair<Node*, std::size_t>> st;
    std::unordered_map<Node*, bool> visited;
    for (auto& r : roots) {
      Node* n = r.first.fn.get();
      if (visited[n]) continue;
      visited[n] = true;
      st.emplace_back(n, 0);
      while (!st.empty()) {
        Node* top = st.back().first;
        const std::size_t i = st.back().second;
        if (i < top->next.size()) {
          st.back().second += 1;
          Node* c = top->next[i].fn.get();
          if (c != nullptr && !visited[c]) {
            visited[c] = true;
            st.emplace_back(c, 0);
          }
          continue;
        }
        bool need = captures.count(top) != 0;
        for (const Edge& e : top->next) need = need || (e.valid() && needed[e.fn.get()]);
        needed[top] = need;
        st.pop_back();
      }
    }
  }
  const auto is_needed = [&](Node* n) { return !capturing || needed[n]; };
  // A captured node whose edges lead to no further capture only hands its gradient over.
  const auto runs = [&](Node* n) {
    if (!capturing) return true;
    for (const Edge& e : n->next) {
      if (e.valid() && needed[e.fn.get()]) return true;
    }
    return false;
  };

  // Count, for each reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack;
  std::unordered_map<Node*, bool> seen;
  for (auto& r : roots) {
    Node* n = r.first.fn.get();
    if (!seen[n] && is_needed(n)) {
      seen[n] = true;
      stack.push_back(n);
    }
  }
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next) {
      if (!e.valid() || !is_needed(e.fn.get())) continue;
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
  for (auto& r : roots) {
    if (is_needed(r.first.fn.get())) accumulate(r.first, r.second);
  }
  for (auto& r : roots) {
    Node* n = r.first.fn.get();
    if (is_needed(n) && deps[n] == 0) {
      deps[n] = -1;  // queued
      ready.push(n);
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
    if (capturing) {
      auto c = captures.find(n);
      if (c != captures.end()) {
        for (const Capture& cap : c->second) {
          if (cap.input_nr < in.size()) (*captured)[cap.index] = in[cap.input_nr];
        }
      }
      if (!runs(n)) {
        keep.erase(n);
        continue;
      }
    }
    std::vector<Tensor> out = n->apply(std::move(in));
    if (!retain_graph) n->release();
    for (std::size_t i = 0; i < n->next.size(); ++i) {
      const Edge& e = n->next[i];
      if (!e.valid() || !is_needed(e.fn.get())) continue;
      if (i < out.size() && out[i].defined())
        accumulate(e, std::move(out[i]));
      else
        keep[e.fn.get()] = e.fn;
      if (--deps[e.fn.get()] == 0) ready.push(e.fn.get());
    }
    keep.erase(n);
  }
}

}  // namespace

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              std::optional<bool> retain_graph, bool create_graph) {
  std::vector<std::pair<Edge, Tensor>> roots = make_roots("backward", outputs, grad_outputs, create_graph);
  execute(roots, retain_graph.value_or(create_graph), create_graph, {}, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  NABLA_CHECK(!inputs.empty(), "grad: no inputs to differentiate with respect to");
  std::unordered_map<Node*, std::vector<Capture>> captures;
  std::vector<std::shared_ptr<Node>> hold;  // a leaf's accumulator lives only as long as a holder
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    NABLA_CHECK(t.defined(), "grad: input {} is an undefined tensor", i);
    NABLA_CHECK(t.requires_grad(),
                "grad: One of the differentiated Tensors (input {}, shape {}) does not require grad", i,
                t.shape_str());
    Edge e = gradient_edge(t);
    captures[e.fn.get()].push_back({e.input_nr, i});
    hold.push_back(std::move(e.fn));
  }
  std::vector<std::pair<Edge, Tensor>> roots = make_roots("grad", outputs, grad_outputs, create_graph);
  std::vector<Tensor> result(inputs.size());
  execute(roots, retain_graph.value_or(create_graph), create_graph, captures, &result);
  for (std::size_t i = 0; i < result.size(); ++i) {
    NABLA_CHECK(
        result[i].defined() || allow_unused,
        "grad: One of the differentiated Tensors (input {}, shape {}) appears to not have been used in "
        "the graph. Set allow_unused=True if this is the desired behavior.",
        i, inputs[i].shape_str());
    // A leaf's gradient reaches its accumulator summed to its shape already; a non-leaf's is the
    // gradient of that output of its grad_fn, in its own dtype.
    if (result[i].defined() && result[i].dtype() != inputs[i].dtype())
      result[i] = result[i].to(inputs[i].dtype());
  }
  return result;
}

}  // namespace autograd
}  // namespace nabla

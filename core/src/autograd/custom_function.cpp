// Custom autograd functions (autograd::Function<T>, AutogradContext, IValue): the recording
// behind Function<T>::apply, in one non-template place.
//
// The node is a FunctionNode over the Tensor arguments; it owns the context, and the context
// refers back to the node only weakly. Saved outputs are kept as SavedTensor keeps them
// (autograd/node.h): a detached alias, reconnected to the node when unpacked under
// create_graph, so a context that saves an output makes no reference cycle.
#include <cxxabi.h>

#include <cstdlib>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "tensor/tensor_impl.h"

namespace nabla::autograd {

// ---- IValue ----

std::string IValue::tagKind() const {
  static const char* const kinds[] = {"None", "Tensor", "double", "int", "bool", "string", "int[]"};
  return kinds[v_.index()];
}

namespace {
template <class V>
const V& get_as(
    const std::variant<std::monostate, Tensor, double, int64_t, bool, std::string, std::vector<int64_t>>& v,
    const IValue& self, const char* want) {
  const V* p = std::get_if<V>(&v);
  NABLA_CHECK(p != nullptr, "IValue: expected {} but got {}", want, self.tagKind());
  return *p;
}
}  // namespace

const Tensor& IValue::toTensor() const { return get_as<Tensor>(v_, *this, "Tensor"); }
double IValue::toDouble() const {
  if (isInt()) return static_cast<double>(std::get<int64_t>(v_));
  return get_as<double>(v_, *this, "double");
}
int64_t IValue::toInt() const { return get_as<int64_t>(v_, *this, "int"); }
bool IValue::toBool() const { return get_as<bool>(v_, *this, "bool"); }
const std::string& IValue::toStringRef() const { return get_as<std::string>(v_, *this, "string"); }
const std::vector<int64_t>& IValue::toIntVector() const {
  return get_as<std::vector<int64_t>>(v_, *this, "int[]");
}

// ---- AutogradContext ----

struct CustomFunctionState {
  std::string name;
  variable_list to_save;           // as save_for_backward got them (until recorded)
  std::vector<SavedTensor> saved;  // once recorded
  bool recorded = false;
  variable_list dirty, non_differentiable;
  bool materialize = true;
  std::vector<bool> needs;  // per Tensor argument
  std::weak_ptr<Node> node;
};

AutogradContext::AutogradContext() : state_(std::make_unique<CustomFunctionState>()) {}
AutogradContext::~AutogradContext() = default;

void AutogradContext::save_for_backward(variable_list to_save) { state_->to_save = std::move(to_save); }

variable_list AutogradContext::get_saved_variables() const {
  const CustomFunctionState& st = *state_;
  if (!st.recorded) return st.to_save;
  const std::shared_ptr<Node> node = st.node.lock();
  NABLA_CHECK(node != nullptr, "{}: get_saved_variables: the function's graph has been freed", st.name);
  variable_list r;
  for (std::size_t i = 0; i < st.saved.size(); ++i)
    r.push_back(GradMode::is_enabled() ? st.saved[i].unpack_graph(*node, i) : st.saved[i].unpack(*node, i));
  return r;
}

void AutogradContext::mark_dirty(const variable_list& inputs) { state_->dirty = inputs; }
void AutogradContext::mark_non_differentiable(const variable_list& outputs) {
  state_->non_differentiable = outputs;
}
void AutogradContext::set_materialize_grads(bool value) { state_->materialize = value; }

bool AutogradContext::needs_input_grad(std::size_t index) const {
  NABLA_CHECK(index < state_->needs.size(), "{}: needs_input_grad({}): forward has {} Tensor arguments",
              state_->name, index, state_->needs.size());
  return state_->needs[index];
}

namespace detail {

std::string demangle(const char* mangled) {
  int status = 0;
  char* d = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  std::string r = status == 0 && d != nullptr ? d : mangled;
  std::free(d);  // NOLINT: __cxa_demangle's buffer is malloc'ed
  return r;
}

namespace {
// Whether `from` broadcasts to `to` (a gradient in the broadcast shape is summed back).
bool expands_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (std::size_t i = 0; i < from.size(); ++i) {
    const int64_t f = from[from.size() - 1 - i], t = to[to.size() - 1 - i];
    if (f != t && f != 1) return false;
  }
  return true;
}

bool contains(const variable_list& list, const Tensor& t) {
  for (const Tensor& x : list) {
    if (x.defined() && t.defined() && x.impl() == t.impl()) return true;
  }
  return false;
}
}  // namespace

variable_list run_custom_function(const std::shared_ptr<AutogradContext>& ctx, std::string name,
                                  const variable_list& inputs, std::vector<bool> is_tensor,
                                  const std::function<variable_list()>& forward,
                                  std::function<variable_list(AutogradContext*, variable_list)> backward) {
  CustomFunctionState& st = ctx->state();
  st.name = std::move(name);
  const bool grad_on = GradMode::is_enabled();
  bool any = false;
  for (const Tensor& t : inputs) {
    st.needs.push_back(grad_on && t.defined() && t.requires_grad());
    any = any || st.needs.back();
  }
  variable_list outputs;
  {
    NoGradGuard no_grad;  // forward's own ops are not recorded: backward stands for them
    outputs = forward();
  }
  if (!any) return outputs;

  for (const Tensor& d : st.dirty) {
    NABLA_CHECK(contains(inputs, d), "{}: mark_dirty got a tensor that is not an input of forward", st.name);
    NABLA_CHECK(!(d.is_leaf() && d.requires_grad()),
                "{}: a leaf tensor that requires grad is being used in an in-place operation (mark_dirty)",
                st.name);
  }
  auto node = std::make_shared<FunctionNode>();
  node->node_name = "CppNode<" + st.name + ">";
  node->seq = next_sequence_number();
  node->materialize_grads = st.materialize;
  std::vector<TensorMeta> in_meta;
  for (const Tensor& t : inputs) {
    node->next.push_back(gradient_edge(t));
    in_meta.push_back(t.defined() ? TensorMeta{t.sizes(), t.dtype(), t.device()} : TensorMeta{});
  }

  // outputs: dirty inputs keep their impl (their history moves here); the others become fresh
  // aliases, so an input returned unchanged does not lose its own history
  const variable_list original = outputs;
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    Tensor& o = outputs[k];
    node->out_meta.push_back(o.defined() ? TensorMeta{o.sizes(), o.dtype(), o.device()} : TensorMeta{});
    if (!o.defined()) continue;
    if (!contains(st.dirty, o)) o = detached_alias(o);
    if (contains(st.non_differentiable, original[k]) || !is_floating_point(o.dtype())) continue;
    AutogradMeta& m = o.impl()->meta();
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = static_cast<uint32_t>(k);
  }
  for (const Tensor& t : st.to_save) {
    std::size_t k = 0;
    while (k < original.size() && !(t.defined() && original[k].defined() && original[k].impl() == t.impl()))
      ++k;
    if (k < original.size()) {
      SavedTensor s(outputs[k], static_cast<uint32_t>(k));
      s.output_grad = outputs[k].requires_grad();
      st.saved.push_back(std::move(s));
    } else {
      st.saved.push_back(SavedTensor(t));
    }
  }
  st.to_save.clear();
  st.recorded = true;
  st.node = node;

  node->backward = [ctx, is_tensor = std::move(is_tensor), in_meta, backward = std::move(backward)](
                       const FunctionNode& n, const std::vector<Tensor>& grads) {
    const variable_list r = backward(ctx.get(), grads);
    NABLA_CHECK(r.size() >= is_tensor.size(),
                "{}: backward returned {} gradients, expected {} (one per argument of forward)", n.name(),
                r.size(), is_tensor.size());
    for (std::size_t i = is_tensor.size(); i < r.size(); ++i) {
      NABLA_CHECK(!r[i].defined(),
                  "{}: backward returned {} gradients, expected {} (one per argument of forward)", n.name(),
                  r.size(), is_tensor.size());
    }
    std::vector<Tensor> out;
    for (std::size_t i = 0; i < is_tensor.size(); ++i) {
      if (!is_tensor[i]) {
        NABLA_CHECK(!r[i].defined(),
                    "{}: backward returned a gradient for argument {}, which is not a Tensor", n.name(), i);
        continue;
      }
      Tensor g = r[i];
      const TensorMeta& m = in_meta[out.size()];
      if (g.defined() && n.next[out.size()].valid()) {
        if (g.sizes() != m.sizes) {
          NABLA_CHECK(expands_to(m.sizes, g.sizes()),
                      "{}: backward returned a gradient of shape {} for argument {} of shape {}", n.name(),
                      g.shape_str(), i, shape_to_string(m.sizes));
          g = sum_to_size(g, m.sizes);
        }
        if (g.dtype() != m.dtype) g = g.to(m.dtype);
      }
      out.push_back(g);
    }
    return out;
  };
  return outputs;
}

}  // namespace detail
}  // namespace nabla::autograd

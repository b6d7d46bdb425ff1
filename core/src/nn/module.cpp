// Module: registration, traversal, state dicts, modes, moves and printing.
#include "nabla/nn/module.h"

#include <cxxabi.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <ostream>
#include <set>

#include "nabla/autograd.h"
#include "nabla/ops.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn {

namespace detail {
std::string demangle(const char* mangled) {
  int status = 0;
  char* out = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
  if (status != 0 || out == nullptr) return mangled;
  std::string r(out);
  std::free(out);
  return r;
}

Tensor ForwardByValue::forward(Tensor) {
  NABLA_FAIL("{}: forward(x) is not implemented by this module", static_cast<Module*>(this)->type_name());
}
}  // namespace detail

Module::Module(std::string type_name) : type_name_(std::move(type_name)) {}

Module::Module() : named_(false) {}

const std::string& Module::type_name() const {
  // typeid(*this) names the most-derived class only after construction, hence lazily
  if (!named_)
    std::call_once(type_name_once_, [this] { type_name_ = detail::demangle(typeid(*this).name()); });
  return type_name_;
}

Tensor Module::forward(const Tensor& x) {
  // a subclass's by-value forward(Tensor), or the base's "not implemented"
  return static_cast<detail::ForwardByValue*>(this)->forward(x);
}

Tensor Module::run_hooks(const Tensor& x, Tensor y) {
  if (!hooks_.empty()) {
    // a copy: a hook may remove itself (or add others) while the list is being walked
    const auto hooks = hooks_;
    for (const auto& [id, hook] : hooks) hook(*this, x, y);
  }
  // after the forward hooks, as PyTorch: the backward hooks see the output they settled on
  if (!backward_hooks_->empty() && y.defined() && !y.is_leaf()) {
    // the hooks are read when backward runs (a weak link: the module may be gone by then)
    std::weak_ptr<std::vector<std::pair<int, BackwardHook>>> weak = backward_hooks_;
    Module* self = this;
    y.register_hook([weak, self](const Tensor& g) {
      if (auto hooks = weak.lock()) {
        const auto copy = *hooks;
        for (const auto& [id, hook] : copy) hook(*self, g);
      }
    });
  }
  return y;
}

namespace {
// takes the module, not its name: a module built without a name learns it on first use, which
// must not be inside a base-class constructor (typeid would name that base)
void check_name(const std::string& name, const Module& m) {
  NABLA_CHECK(!name.empty() && name.find('.') == std::string::npos,
              "{}: invalid name '{}' (names are non-empty and contain no '.')", m.type_name(), name);
}
}  // namespace

Tensor Module::register_parameter(const std::string& name, Tensor t, bool requires_grad) {
  check_name(name, *this);
  NABLA_CHECK(t.defined(), "{}: parameter '{}' is undefined", type_name(), name);
  for (const auto& p : params_)
    NABLA_CHECK(p.first != name, "{}: parameter '{}' already exists", type_name(), name);
  if (requires_grad) t.requires_grad_(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_name(name, *this);
  for (const auto& b : buffers_)
    NABLA_CHECK(b.first != name, "{}: buffer '{}' already exists", type_name(), name);
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name, *this);
  NABLA_CHECK(m != nullptr, "{}: submodule '{}' is null", type_name(), name);
  for (const auto& c : children_)
    NABLA_CHECK(c.first != name, "{}: submodule '{}' already exists", type_name(), name);
  children_.emplace_back(name, std::move(m));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> m) {
  NABLA_CHECK(m != nullptr, "{}: submodule '{}' is null", type_name(), name);
  for (auto& c : children_) {
    if (c.first == name) {
      c.second = std::move(m);
      return;
    }
  }
  NABLA_CHECK(false, "{}: no submodule '{}' to replace", type_name(), name);
}

std::shared_ptr<Module> Module::remove_child(const std::string& name) {
  const auto it =
      std::find_if(children_.begin(), children_.end(), [&](const auto& c) { return c.first == name; });
  NABLA_CHECK(it != children_.end(), "{}: no submodule '{}' to remove", type_name(), name);
  std::shared_ptr<Module> m = std::move(it->second);
  children_.erase(it);
  return m;
}

void Module::collect(const std::string& prefix, bool params, bool recurse,
                     std::vector<std::pair<std::string, Tensor>>* out) const {
  for (const auto& [name, t] : params ? params_ : buffers_) {
    if (t.defined()) out->emplace_back(prefix + name, t);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_)
    child->collect(prefix + name + ".", params, /*recurse=*/true, out);
}

std::vector<std::pair<std::string, Tensor>> Module::named_parameters(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> r;
  collect("", /*params=*/true, recurse, &r);
  // a parameter shared by two modules is listed once, under its first name (as PyTorch)
  std::set<const TensorImpl*> seen;
  std::vector<std::pair<std::string, Tensor>> unique;
  for (auto& p : r) {
    if (seen.insert(p.second.impl()).second) unique.push_back(std::move(p));
  }
  return unique;
}

std::vector<std::pair<std::string, Tensor>> Module::named_buffers(bool recurse) const {
  std::vector<std::pair<std::string, Tensor>> r;
  collect("", /*params=*/false, recurse, &r);
  return r;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> r;
  for (auto& p : named_parameters(recurse)) r.push_back(p.second);
  return r;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> r{{"", this}};
  for (auto& [name, child] : children_) {
    for (auto& [sub, m] : child->named_modules()) r.emplace_back(sub.empty() ? name : name + "." + sub, m);
  }
  // a module shared by two parents is listed once, under its first name (as PyTorch)
  std::set<const Module*> seen;
  std::vector<std::pair<std::string, Module*>> unique;
  for (auto& e : r) {
    if (seen.insert(e.second).second) unique.push_back(std::move(e));
  }
  return unique;
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (auto& entry : named_modules()) fn(*entry.second);
}

void Module::apply(const std::function<void(const std::string&, Module&)>& fn,
                   const std::string& name_prefix) {
  for (auto& [name, m] : named_modules()) {
    fn(name_prefix.empty() || name.empty() ? name_prefix + name : name_prefix + "." + name, *m);
  }
}

int64_t Module::num_parameters(bool trainable_only) const {
  int64_t n = 0;
  for (const Tensor& p : parameters()) {
    if (!trainable_only || p.requires_grad()) n += p.numel();
  }
  return n;
}

StateDict Module::state_dict() const {
  StateDict sd;
  // PyTorch orders each module's parameters, then its buffers, then its children's.
  std::vector<std::pair<std::string, Tensor>> ordered;
  std::function<void(const Module&, const std::string&)> walk = [&](const Module& m,
                                                                    const std::string& prefix) {
    for (const auto& [n, t] : m.params_) {
      if (t.defined()) ordered.emplace_back(prefix + n, t);
    }
    for (const auto& [n, t] : m.buffers_) {
      if (t.defined()) ordered.emplace_back(prefix + n, t);
    }
    for (const auto& [n, c] : m.children_) walk(*c, prefix + n + ".");
  };
  walk(*this, "");
  for (auto& [n, t] : ordered) sd.set(n, t.detach());
  return sd;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  std::vector<std::pair<std::string, Tensor>> mine;
  collect("", /*params=*/true, /*recurse=*/true, &mine);
  collect("", /*params=*/false, /*recurse=*/true, &mine);
  std::set<std::string> used;
  std::vector<std::string> missing;
  for (auto& [name, t] : mine) {
    const Tensor* src = state.find(name);
    if (src == nullptr) {
      missing.push_back(name);
      continue;
    }
    used.insert(name);
    NABLA_CHECK(src->sizes() == t.sizes(),
                "load_state_dict: size mismatch for '{}': the checkpoint has shape {}, the "
                "module {}",
                name, src->shape_str(), t.shape_str());
  }
  std::vector<std::string> unexpected;
  for (const auto& [name, t] : state) {
    if (!used.count(name)) unexpected.push_back(name);
  }
  if (strict) {
    NABLA_CHECK(
        missing.empty() && unexpected.empty(),
        "load_state_dict: error(s) in loading the state dict for {}: missing keys [{}], unexpected keys [{}]",
        type_name(), fmt::join(missing, ", "), fmt::join(unexpected, ", "));
  }
  NoGradGuard g;
  for (auto& [name, t] : mine) {
    if (const Tensor* src = state.find(name)) {
      Tensor dst = t;
      dst.copy_(*src);
    }
  }
}

void Module::train(bool on) {
  training_ = on;
  for (auto& [name, child] : children_) child->train(on);
}

namespace {
void move_tensor(const Tensor& t, const std::optional<Device>& d, const std::optional<ScalarType>& dt) {
  if (!t.defined()) return;
  NoGradGuard g;
  Tensor moved = t;
  if (dt && t.is_floating_point()) moved = moved.to(*dt);
  if (d) moved = moved.to(*d);
  if (moved.impl() != t.impl()) set_data(t, moved);
  const Tensor grad = t.grad();
  if (grad.defined()) move_tensor(grad, d, dt);
}
}  // namespace

void Module::to(Device device) {
  for (auto* list : {&params_, &buffers_}) {
    for (auto& [n, t] : *list) move_tensor(t, device, std::nullopt);
  }
  for (auto& [n, c] : children_) c->to(device);
}

void Module::to(ScalarType dtype) {
  NABLA_CHECK(is_floating_point(dtype), "Module::to: expected a floating-point dtype, got {}",
              dtype_name(dtype));
  for (auto* list : {&params_, &buffers_}) {
    for (auto& [n, t] : *list) move_tensor(t, std::nullopt, dtype);
  }
  for (auto& [n, c] : children_) c->to(dtype);
}

void Module::zero_grad(bool set_to_none) {
  for (Tensor& p : parameters()) {
    Tensor g = p.grad();
    if (!g.defined()) continue;
    if (set_to_none) {
      p.set_grad(Tensor());
    } else {
      NoGradGuard ng;
      g.zero_();
    }
  }
}

int Module::add_forward_hook(ForwardHook hook) {
  hooks_.emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

int Module::add_backward_hook(BackwardHook hook) {
  backward_hooks_->emplace_back(next_hook_, std::move(hook));
  return next_hook_++;
}

void Module::remove_backward_hook(int handle) {
  auto& h = *backward_hooks_;
  h.erase(std::remove_if(h.begin(), h.end(), [&](const auto& e) { return e.first == handle; }), h.end());
}

void Module::remove_forward_hook(int handle) {
  hooks_.erase(std::remove_if(hooks_.begin(), hooks_.end(), [&](const auto& h) { return h.first == handle; }),
               hooks_.end());
}

void Module::repr_into(std::string* out, int indent) const {
  // as PyTorch: the extra line alone inside the parentheses, or, with children, first in the block
  const std::string extra = extra_repr();
  const std::string pad(static_cast<std::size_t>(indent + 2), ' ');
  *out += type_name() + "(";
  if (children_.empty()) {
    *out += extra;
  } else {
    *out += "\n";
    if (!extra.empty()) *out += pad + extra + "\n";
    for (const auto& [name, child] : children_) {
      *out += pad + "(" + name + "): ";
      child->repr_into(out, indent + 2);
      *out += "\n";
    }
    *out += std::string(static_cast<std::size_t>(indent), ' ');
  }
  *out += ")";
}

std::string Module::repr() const {
  std::string s;
  repr_into(&s, 0);
  return s;
}

std::ostream& operator<<(std::ostream& os, const Module& m) { return os << m.repr(); }

}  // namespace nabla::nn

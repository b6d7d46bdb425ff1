// Optimizer base: parameter groups, options, per-parameter state, state dicts, zero_grad.
#include <set>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/optim.h"
#include "optim/closure.h"

namespace nabla::optim {

Optimizer::Optimizer(std::string name, std::vector<ParamGroup> groups, std::map<std::string, double> defaults)
    : name_(std::move(name)), defaults_(std::move(defaults)) {
  NABLA_CHECK(!groups.empty(), "{}: got an empty parameter list", name_);
  for (auto& g : groups) add_param_group(std::move(g));
}

Tensor Optimizer::step(std::function<Tensor()> closure) {
  Tensor loss = call_closure(closure, name_);
  step();
  return loss;
}

void Optimizer::add_param_group(ParamGroup group) {
  NABLA_CHECK(!group.params.empty(), "{}: a parameter group has no parameters", name_);
  std::set<const void*> seen;
  for (const auto& g : groups_) {
    for (const Tensor& p : g.params) seen.insert(p.impl());
  }
  for (std::size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    NABLA_CHECK(p.defined(), "{}: parameter {} of the group is undefined", name_, i);
    NABLA_CHECK(p.is_floating_point(), "{}: can only optimize floating-point tensors, parameter {} is {}",
                name_, i, dtype_name(p.dtype()));
    NABLA_CHECK(p.is_leaf(), "{}: can't optimize a non-leaf tensor (parameter {}, produced by {})", name_, i,
                p.grad_fn_name());
    NABLA_CHECK(seen.insert(p.impl()).second, "{}: some parameters appear in more than one parameter group",
                name_);
  }
  for (const auto& [k, v] : group.options) {
    NABLA_CHECK(defaults_.count(k), "{}: unknown option '{}' in a parameter group", name_, k);
  }
  for (const auto& [k, v] : defaults_) group.options.emplace(k, v);
  NABLA_CHECK(group.options.at("lr") >= 0.0, "{}: invalid learning rate {}", name_, group.options.at("lr"));
  groups_.push_back(std::move(group));
}

double Optimizer::option(const ParamGroup& g, const std::string& key) const {
  auto it = g.options.find(key);
  NABLA_INTERNAL_ASSERT(it != g.options.end(), "{}: option {} missing", name_, key);
  return it->second;
}

double Optimizer::get_lr(std::size_t group) const {
  NABLA_CHECK(group < groups_.size(), "{}: no parameter group {}", name_, group);
  return option(groups_[group], "lr");
}

void Optimizer::set_lr(double lr) {
  for (std::size_t i = 0; i < groups_.size(); ++i) set_lr(i, lr);
}

void Optimizer::set_lr(std::size_t group, double lr) {
  NABLA_CHECK(group < groups_.size(), "{}: no parameter group {}", name_, group);
  NABLA_CHECK(lr >= 0.0, "{}: invalid learning rate {}", name_, lr);
  groups_[group].options["lr"] = lr;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard g;
  for (auto& group : groups_) {
    for (Tensor& p : group.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none)
        p.set_grad(Tensor());
      else
        grad.zero_();
    }
  }
}

Optimizer::ParamState& Optimizer::state_of(const Tensor& param) { return state_[param.impl()]; }

std::vector<Tensor> Optimizer::params_with_grad(const ParamGroup& g) const {
  std::vector<Tensor> r;
  for (const Tensor& p : g.params) {
    const Tensor grad = p.grad();
    if (!grad.defined()) continue;
    NABLA_CHECK(grad.sizes() == p.sizes(), "{}: gradient shape {} differs from parameter shape {}", name_,
                grad.shape_str(), p.shape_str());
    r.push_back(p);
  }
  return r;
}

StateDict Optimizer::state_dict() const {
  StateDict sd;
  int64_t index = 0;
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    for (const auto& [k, v] : g.options)
      sd.insert(fmt::format("param_groups.{}.{}", gi, k), scalar_tensor(v, kFloat64));
    std::vector<int64_t> ids;
    for (const Tensor& p : g.params) {
      ids.push_back(index);
      auto it = state_.find(p.impl());
      if (it != state_.end()) {
        sd.insert(fmt::format("state.{}.step", index), scalar_tensor(it->second.step, kInt64));
        for (const auto& [name, t] : it->second.buffers)
          sd.insert(fmt::format("state.{}.{}", index, name), t.detach());
      }
      ++index;
    }
    sd.insert(fmt::format("param_groups.{}.params", gi), from_vector(ids));
  }
  return sd;
}

void Optimizer::load_state_dict(const StateDict& sd) {
  // validate everything first, then apply, so a bad state dict leaves the optimizer untouched
  int64_t index = 0;
  std::vector<std::map<std::string, double>> options(groups_.size());
  std::map<const void*, ParamState> state;
  std::set<std::string> used;
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) {
    const std::string ids_key = fmt::format("param_groups.{}.params", gi);
    NABLA_CHECK(sd.contains(ids_key), "{}: load_state_dict: the state has no parameter group {}", name_, gi);
    used.insert(ids_key);
    NABLA_CHECK(sd.at(ids_key).numel() == static_cast<int64_t>(groups_[gi].params.size()),
                "{}: load_state_dict: parameter group {} has {} parameters in the state but {} here", name_,
                gi, sd.at(ids_key).numel(), groups_[gi].params.size());
    for (const auto& [k, v] : groups_[gi].options) {
      const std::string key = fmt::format("param_groups.{}.{}", gi, k);
      NABLA_CHECK(sd.contains(key), "{}: load_state_dict: missing option '{}'", name_, key);
      used.insert(key);
      options[gi][k] = sd.at(key).item<double>();
    }
    for (const Tensor& p : groups_[gi].params) {
      const std::string prefix = fmt::format("state.{}.", index);
      for (const auto& [name, t] : sd) {
        if (name.rfind(prefix, 0) != 0) continue;
        used.insert(name);
        const std::string buf = name.substr(prefix.size());
        ParamState& ps = state[p.impl()];
        if (buf == "step") {
          ps.step = t.item<int64_t>();
        } else {
          NABLA_CHECK(t.sizes() == p.sizes(),
                      "{}: load_state_dict: state '{}' has shape {} but the parameter has {}", name_, name,
                      t.shape_str(), p.shape_str());
          ps.buffers[buf] = t.to(p.options(), /*copy=*/true);
        }
      }
      ++index;
    }
  }
  for (const auto& [name, t] : sd) {
    NABLA_CHECK(used.count(name),
                "{}: load_state_dict: unexpected entry '{}' (is this the state of another "
                "optimizer or of other parameters?)",
                name_, name);
  }
  for (std::size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = options[gi];
  state_ = std::move(state);
}

}  // namespace nabla::optim

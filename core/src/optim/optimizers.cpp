// SGD, Adam, AdamW, RMSprop, Adagrad and Adadelta: state management around one fused kernel call per
// parameter group (per device and dtype). The update rules are in core/math/optim.h.
#include <cmath>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "ops/optim_step.h"
#include "ops/params_optim.h"

namespace nabla::optim {
namespace {

std::vector<ParamGroup> one_group(std::vector<Tensor> params) { return {ParamGroup{std::move(params), {}}}; }

Tensor& buffer(std::map<std::string, Tensor>& buffers, const std::string& name, const Tensor& like,
               double init = 0.0) {
  auto it = buffers.find(name);
  if (it == buffers.end()) {
    it = buffers.emplace(name, full(like.sizes(), init, like.options())).first;
  } else if (it->second.dtype() != like.dtype() || it->second.device() != like.device()) {
    // the parameter was moved (Module::to) after its state was made: the state follows it
    it->second = it->second.to(like.options());
  }
  return it->second;
}

std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> g;
  for (const Tensor& p : params) g.push_back(p.grad().contiguous());
  return g;
}

void check_range(const std::string& opt, const char* what, double v, double lo, double hi) {
  NABLA_CHECK(v >= lo && v <= hi, "{}: invalid {} {} (expected {} to {})", opt, what, v, lo, hi);
}

}  // namespace

// ---- SGD ----------------------------------------------------------------------------------
std::map<std::string, double> SGDOptions::to_map() const {
  check_range("SGD", "learning rate", lr, 0, INFINITY);
  check_range("SGD", "momentum", momentum, 0, INFINITY);
  check_range("SGD", "weight_decay", weight_decay, 0, INFINITY);
  NABLA_CHECK(!nesterov || (momentum > 0 && dampening == 0),
              "SGD: Nesterov momentum requires a momentum and zero dampening");
  return {{"lr", lr},
          {"momentum", momentum},
          {"dampening", dampening},
          {"weight_decay", weight_decay},
          {"nesterov", nesterov ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

SGD::SGD(std::vector<Tensor> params, const SGDOptions& o) : SGD(one_group(std::move(params)), o) {}
SGD::SGD(std::vector<ParamGroup> groups, const SGDOptions& o)
    : Optimizer("SGD", std::move(groups), o.to_map()) {}

void SGD::step() {
  NoGradGuard ng;
  for (const ParamGroup& g : param_groups()) {
    const std::vector<Tensor> params = params_with_grad(g);
    if (params.empty()) continue;
    const double momentum = option(g, "momentum");
    // The first step copies the gradient into a new momentum buffer; later steps blend. The
    // kernel takes one flag, so parameters at their first step go in a call of their own.
    // Which parameters are at their first step is decided before any buffer is made, or a
    // parameter would be updated again in the second call.
    std::vector<bool> is_first;
    for (const Tensor& p : params) {
      is_first.push_back(momentum != 0 && !state_of(p).buffers.count("momentum_buffer"));
    }
    for (bool first : {true, false}) {
      std::vector<Tensor> ps, bufs;
      for (std::size_t i = 0; i < params.size(); ++i) {
        const Tensor& p = params[i];
        ParamState& s = state_of(p);
        if (is_first[i] != first) continue;
        ps.push_back(p);
        bufs.push_back(momentum != 0 ? buffer(s.buffers, "momentum_buffer", p) : Tensor());
        s.step += 1;
      }
      if (ps.empty()) continue;
      const math::SgdUpdate rule{.lr = option(g, "lr"),
                                 .momentum = momentum,
                                 .dampening = option(g, "dampening"),
                                 .weight_decay = option(g, "weight_decay"),
                                 .nesterov = option(g, "nesterov") != 0,
                                 .maximize = option(g, "maximize") != 0,
                                 .first_step = first};
      fused_optimizer_step(Op::sgd_step, ps, grads_of(ps), {bufs}, SgdStepParams{rule}.params());
    }
  }
}

// ---- Adam / AdamW -------------------------------------------------------------------------
std::map<std::string, double> AdamOptions::to_map() const {
  check_range("Adam", "learning rate", lr, 0, INFINITY);
  check_range("Adam", "beta1", beta1, 0, 1 - 1e-12);
  check_range("Adam", "beta2", beta2, 0, 1 - 1e-12);
  check_range("Adam", "epsilon", eps, 0, INFINITY);
  check_range("Adam", "weight_decay", weight_decay, 0, INFINITY);
  return {{"lr", lr},
          {"beta1", beta1},
          {"beta2", beta2},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"amsgrad", amsgrad ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adam::Adam(std::vector<Tensor> params, const AdamOptions& o) : Adam(one_group(std::move(params)), o) {}
Adam::Adam(std::vector<ParamGroup> groups, const AdamOptions& o)
    : Adam("Adam", std::move(groups), o, /*decoupled=*/false) {}
Adam::Adam(std::string name, std::vector<ParamGroup> groups, const AdamOptions& o, bool decoupled)
    : Optimizer(std::move(name), std::move(groups), o.to_map()), decoupled_(decoupled) {}

void Adam::step() {
  NoGradGuard ng;
  for (const ParamGroup& g : param_groups()) {
    const std::vector<Tensor> params = params_with_grad(g);
    if (params.empty()) continue;
    const bool amsgrad = option(g, "amsgrad") != 0;
    // bias correction depends on the step count: one call per distinct count (normally one)
    std::map<int64_t, std::vector<Tensor>> by_step;
    for (const Tensor& p : params) {
      ParamState& s = state_of(p);
      buffer(s.buffers, "exp_avg", p);
      buffer(s.buffers, "exp_avg_sq", p);
      if (amsgrad) buffer(s.buffers, "max_exp_avg_sq", p);
      s.step += 1;
      by_step[s.step].push_back(p);
    }
    for (const auto& [step, ps] : by_step) {
      std::vector<std::vector<Tensor>> states(3);
      for (const Tensor& p : ps) {
        ParamState& s = state_of(p);
        states[0].push_back(s.buffers.at("exp_avg"));
        states[1].push_back(s.buffers.at("exp_avg_sq"));
        states[2].push_back(amsgrad ? s.buffers.at("max_exp_avg_sq") : Tensor());
      }
      if (!amsgrad) states.pop_back();
      const math::AdamUpdate rule{.lr = option(g, "lr"),
                                  .beta1 = option(g, "beta1"),
                                  .beta2 = option(g, "beta2"),
                                  .eps = option(g, "eps"),
                                  .weight_decay = option(g, "weight_decay"),
                                  .step = static_cast<double>(step),
                                  .amsgrad = amsgrad,
                                  .decoupled = decoupled_,
                                  .maximize = option(g, "maximize") != 0};
      fused_optimizer_step(Op::adam_step, ps, grads_of(ps), states, AdamStepParams{rule}.params());
    }
  }
}

AdamW::AdamW(std::vector<Tensor> params, const AdamWOptions& o) : AdamW(one_group(std::move(params)), o) {}
AdamW::AdamW(std::vector<ParamGroup> groups, const AdamWOptions& o)
    : Adam("AdamW", std::move(groups), o, /*decoupled=*/true) {}

// ---- RMSprop ------------------------------------------------------------------------------
std::map<std::string, double> RMSpropOptions::to_map() const {
  check_range("RMSprop", "learning rate", lr, 0, INFINITY);
  check_range("RMSprop", "alpha", alpha, 0, INFINITY);
  check_range("RMSprop", "epsilon", eps, 0, INFINITY);
  check_range("RMSprop", "momentum", momentum, 0, INFINITY);
  check_range("RMSprop", "weight_decay", weight_decay, 0, INFINITY);
  return {{"lr", lr},
          {"alpha", alpha},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"momentum", momentum},
          {"centered", centered ? 1.0 : 0.0},
          {"maximize", maximize ? 1.0 : 0.0}};
}

RMSprop::RMSprop(std::vector<Tensor> params, const RMSpropOptions& o)
    : RMSprop(one_group(std::move(params)), o) {}
RMSprop::RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& o)
    : Optimizer("RMSprop", std::move(groups), o.to_map()) {}

void RMSprop::step() {
  NoGradGuard ng;
  for (const ParamGroup& g : param_groups()) {
    const std::vector<Tensor> ps = params_with_grad(g);
    if (ps.empty()) continue;
    const bool centered = option(g, "centered") != 0, momentum = option(g, "momentum") > 0;
    std::vector<std::vector<Tensor>> states(3);
    for (const Tensor& p : ps) {
      ParamState& s = state_of(p);
      s.step += 1;
      states[0].push_back(buffer(s.buffers, "square_avg", p));
      states[1].push_back(momentum ? buffer(s.buffers, "momentum_buffer", p) : Tensor());
      states[2].push_back(centered ? buffer(s.buffers, "grad_avg", p) : Tensor());
    }
    const math::RmspropUpdate rule{.lr = option(g, "lr"),
                                   .alpha = option(g, "alpha"),
                                   .eps = option(g, "eps"),
                                   .weight_decay = option(g, "weight_decay"),
                                   .momentum = option(g, "momentum"),
                                   .centered = centered,
                                   .maximize = option(g, "maximize") != 0};
    fused_optimizer_step(Op::rmsprop_step, ps, grads_of(ps), states, RmspropStepParams{rule}.params());
  }
}

// ---- Adagrad ------------------------------------------------------------------------------
std::map<std::string, double> AdagradOptions::to_map() const {
  check_range("Adagrad", "learning rate", lr, 0, INFINITY);
  check_range("Adagrad", "lr_decay", lr_decay, 0, INFINITY);
  check_range("Adagrad", "weight_decay", weight_decay, 0, INFINITY);
  check_range("Adagrad", "initial_accumulator_value", initial_accumulator_value, 0, INFINITY);
  check_range("Adagrad", "epsilon", eps, 0, INFINITY);
  return {{"lr", lr},
          {"lr_decay", lr_decay},
          {"weight_decay", weight_decay},
          {"initial_accumulator_value", initial_accumulator_value},
          {"eps", eps},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adagrad::Adagrad(std::vector<Tensor> params, const AdagradOptions& o)
    : Adagrad(one_group(std::move(params)), o) {}
Adagrad::Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& o)
    : Optimizer("Adagrad", std::move(groups), o.to_map()) {}

void Adagrad::step() {
  NoGradGuard ng;
  for (const ParamGroup& g : param_groups()) {
    const std::vector<Tensor> params = params_with_grad(g);
    if (params.empty()) continue;
    std::map<int64_t, std::vector<Tensor>> by_step;
    for (const Tensor& p : params) {
      ParamState& s = state_of(p);
      buffer(s.buffers, "sum", p, option(g, "initial_accumulator_value"));
      s.step += 1;
      by_step[s.step].push_back(p);
    }
    for (const auto& [step, ps] : by_step) {
      std::vector<Tensor> sums;
      for (const Tensor& p : ps) sums.push_back(state_of(p).buffers.at("sum"));
      const math::AdagradUpdate rule{.lr = option(g, "lr"),
                                     .lr_decay = option(g, "lr_decay"),
                                     .weight_decay = option(g, "weight_decay"),
                                     .eps = option(g, "eps"),
                                     .step = static_cast<double>(step),
                                     .maximize = option(g, "maximize") != 0};
      fused_optimizer_step(Op::adagrad_step, ps, grads_of(ps), {sums}, AdagradStepParams{rule}.params());
    }
  }
}

// ---- Adadelta -----------------------------------------------------------------------------
std::map<std::string, double> AdadeltaOptions::to_map() const {
  check_range("Adadelta", "learning rate", lr, 0, INFINITY);
  check_range("Adadelta", "rho", rho, 0, 1);
  check_range("Adadelta", "epsilon", eps, 0, INFINITY);
  check_range("Adadelta", "weight_decay", weight_decay, 0, INFINITY);
  return {{"lr", lr},
          {"rho", rho},
          {"eps", eps},
          {"weight_decay", weight_decay},
          {"maximize", maximize ? 1.0 : 0.0}};
}

Adadelta::Adadelta(std::vector<Tensor> params, const AdadeltaOptions& o)
    : Adadelta(one_group(std::move(params)), o) {}
Adadelta::Adadelta(std::vector<ParamGroup> groups, const AdadeltaOptions& o)
    : Optimizer("Adadelta", std::move(groups), o.to_map()) {}

void Adadelta::step() {
  NoGradGuard ng;
  for (const ParamGroup& g : param_groups()) {
    const std::vector<Tensor> ps = params_with_grad(g);
    if (ps.empty()) continue;
    std::vector<std::vector<Tensor>> states(2);
    for (const Tensor& p : ps) {
      ParamState& s = state_of(p);
      s.step += 1;
      states[0].push_back(buffer(s.buffers, "square_avg", p));
      states[1].push_back(buffer(s.buffers, "acc_delta", p));
    }
    const math::AdadeltaUpdate rule{.lr = option(g, "lr"),
                                    .rho = option(g, "rho"),
                                    .eps = option(g, "eps"),
                                    .weight_decay = option(g, "weight_decay"),
                                    .maximize = option(g, "maximize") != 0};
    fused_optimizer_step(Op::adadelta_step, ps, grads_of(ps), states, AdadeltaStepParams{rule}.params());
  }
}

// ---- regularisation helpers -----------------------------------------------------------------
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type) {
  NABLA_CHECK(max_norm >= 0.0, "clip_grad_norm_: max_norm must be non-negative, got {}", max_norm);
  NoGradGuard ng;
  std::vector<Tensor> grads;
  for (const Tensor& p : params) {
    if (p.grad().defined()) grads.push_back(p.grad());
  }
  if (grads.empty()) return 0.0;
  double total = 0.0;
  if (std::isinf(norm_type)) {
    for (const Tensor& g : grads) total = std::max(total, abs(g).max().to(kFloat64).item<double>());
  } else {
    for (const Tensor& g : grads)
      total += std::pow(norm(g.to(kFloat64), norm_type).item<double>(), norm_type);
    total = std::pow(total, 1.0 / norm_type);
  }
  const double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    for (Tensor g : grads) g.mul_(coef);
  }
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  NABLA_CHECK(clip_value >= 0.0, "clip_grad_value_: clip_value must be non-negative, got {}", clip_value);
  NoGradGuard ng;
  for (const Tensor& p : params) {
    Tensor g = p.grad();
    if (g.defined()) g.clamp_(-clip_value, clip_value);
  }
}

Tensor l1_penalty(const std::vector<Tensor>& params) {
  NABLA_CHECK(!params.empty(), "l1_penalty: no parameters");
  Tensor total = abs(params[0]).sum();
  for (std::size_t i = 1; i < params.size(); ++i) total = total + abs(params[i]).sum();
  return total;
}

Tensor l2_penalty(const std::vector<Tensor>& params) {
  NABLA_CHECK(!params.empty(), "l2_penalty: no parameters");
  Tensor total = (params[0] * params[0]).sum();
  for (std::size_t i = 1; i < params.size(); ++i) total = total + (params[i] * params[i]).sum();
  return total;
}

}  // namespace nabla::optim

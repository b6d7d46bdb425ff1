// The parameters of the fused optimizer-step ops (sgd_step, adam_step, rmsprop_step,
// adagrad_step, adadelta_step in ops.def) and how they travel in OpParams: each op's update rule of
// core/math/optim.h, its hyperparameters packed into OpParams::args in the order the rule's
// each() lists them. Built by nabla::optim's optimizers, read back by both backends (through
// visit_optim_rule). The number of parameters of a call is its number of inputs (their
// gradients).
#pragma once

#include <type_traits>

#include "core/math/optim.h"
#include "dispatch/op.h"
#include "nabla/error.h"

namespace nabla {

template <class Rule>
struct OptimStepParams {
  Rule rule;

  OpParams params() const {
    OpParams p;
    Rule::each(rule, [&](const auto& v) { p.args.push_back(static_cast<double>(v)); });
    return p;
  }
  static OptimStepParams from(const OpParams& p) {
    OptimStepParams s{};
    std::size_t i = 0;
    Rule::each(s.rule, [&](auto& v) {
      NABLA_INTERNAL_ASSERT(i < p.args.size(), "optimizer step: {} hyperparameters, expected more",
                            p.args.size());
      v = static_cast<std::remove_reference_t<decltype(v)>>(p.args[i++]);  // a flag is true where non-zero
    });
    NABLA_INTERNAL_ASSERT(i == p.args.size(), "optimizer step: {} hyperparameters, expected {}",
                          p.args.size(), i);
    return s;
  }
};

using SgdStepParams = OptimStepParams<math::SgdUpdate>;
using AdamStepParams = OptimStepParams<math::AdamUpdate>;
using RmspropStepParams = OptimStepParams<math::RmspropUpdate>;
using AdagradStepParams = OptimStepParams<math::AdagradUpdate>;
using AdadeltaStepParams = OptimStepParams<math::AdadeltaUpdate>;

/// Calls f(rule) with the update rule of optimizer-step op `op`, read back from `p` and ready
/// to apply (Adam's bias corrections computed once for the call): each backend's kernels are
/// one loop over the elements, instantiated per rule here.
template <class F>
void visit_optim_rule(Op op, const OpParams& p, const F& f) {
  switch (op) {
    case Op::sgd_step:
      return f(SgdStepParams::from(p).rule);
    case Op::adam_step:
      return f(AdamStepParams::from(p).rule.prepare());
    case Op::rmsprop_step:
      return f(RmspropStepParams::from(p).rule);
    case Op::adagrad_step:
      return f(AdagradStepParams::from(p).rule);
    case Op::adadelta_step:
      return f(AdadeltaStepParams::from(p).rule);
    default:
      NABLA_INTERNAL_ASSERT(false, "{} is not an optimizer step", op_name(op));
  }
}

}  // namespace nabla

/// Defines, in the enclosing (backend) namespace, `<op>_kernel(c)` of every optimizer step op
/// as a call of that backend's one step kernel, `step(c)` (which visits the rule).
#define NABLA_DEFINE_OPTIM_KERNELS()                         \
  void sgd_step_kernel(const KernelCall& c) { step(c); }     \
  void adam_step_kernel(const KernelCall& c) { step(c); }    \
  void rmsprop_step_kernel(const KernelCall& c) { step(c); } \
  void adagrad_step_kernel(const KernelCall& c) { step(c); } \
  void adadelta_step_kernel(const KernelCall& c) { step(c); }

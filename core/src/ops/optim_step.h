// Front end of the fused optimizer-step ops (internal: called by nabla::optim).
#pragma once

#include <vector>

#include "dispatch/op.h"

namespace nabla {

/// Updates `params` and their state tensors in place with one kernel call of `op`.
/// states[j][i] is state tensor j of parameter i (undefined where the rule has none);
/// `hyper` are the op's hyperparameters, packed by its OptimStepParams (ops/params_optim.h).
void fused_optimizer_step(Op op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          const std::vector<std::vector<Tensor>>& states, const OpParams& hyper);

}  // namespace nabla

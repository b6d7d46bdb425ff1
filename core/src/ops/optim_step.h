// Front end of the fused optimizer-step ops (internal: called by nabla::optim).
#pragma once

#include <vector>

#include "dispatch/op.h"

namespace nabla {

/// Updates `params` and their state tensors in place with one kernel call of `op`.
/// states[j][i] is state tensor j of parameter i (undefined where the rule has none);
/// `args` are the hyperparameters in the order core/math/optim.h documents.
void fused_optimizer_step(Op op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          const std::vector<std::vector<Tensor>>& states, std::vector<double> args);

}  // namespace nabla

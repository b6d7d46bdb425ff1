// nabla's own CUDA batch norm kernels (cuda/kernels/norm.cu), for the cases cuda/cudnn/
// batch_norm.cpp does not hand to cuDNN: bfloat16 input, deterministic mode, an eps below
// cuDNN's minimum, a tensor too large for cuDNN's 32-bit sizes. Internal to cuda/.
#pragma once

#include "dispatch/dispatch.h"

namespace nabla::cuda {

/// batch_norm with ops.def's contract: (x [N, C, L], weight, bias) -> (y, mean, invstd).
void batch_norm_cuda(const KernelCall& c);
/// batch_norm_backward: (grad, x, weight, mean, invstd) -> (grad_x, grad_weight, grad_bias).
void batch_norm_backward_cuda(const KernelCall& c);

}  // namespace nabla::cuda

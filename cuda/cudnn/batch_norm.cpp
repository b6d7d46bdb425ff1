// batch_norm and batch_norm_backward (training mode) on cuDNN's spatial batch norm, x [N, C, L]
// described as N, C, L, 1. Running statistics are the front end's job, so cuDNN gets none
// (and its exponential average factor is unused); it returns the batch mean and the inverse
// standard deviation 1 / sqrt(var + eps), which the backward reads back, as ops.def's contract.
//
// nabla's own kernels (cuda/kernels/norm.cu) run instead where cuDNN does not apply:
//   - bfloat16 input: cuDNN's batch norm takes half, float and double data only;
//   - deterministic mode: cuDNN does not document its batch norm as bitwise repeatable, and
//     nabla's kernels are (fixed-order reductions);
//   - eps below CUDNN_BN_MIN_EPSILON, which cuDNN rejects (0.0 in cuDNN 9, 1e-5 in old releases);
//   - tensors past cuDNN's 32-bit sizes.
// Either path computes the same statistics, so a forward on one and a backward on the other
// agree.
#include <climits>

#include "cuda/cudnn/handle.h"
#include "cuda/kernels/norm.h"
#include "nabla/cuda.h"
#include "ops/params_norm.h"

namespace nabla::cuda {
namespace {

bool use_cudnn(const Tensor& x, double eps) {
  return x.dtype() != kBFloat16 && !deterministic() && eps >= CUDNN_BN_MIN_EPSILON && x.numel() <= INT_MAX;
}

struct BnDescs {
  cudnnTensorDescriptor_t x;      // x, y and their gradients
  cudnnTensorDescriptor_t param;  // weight, bias, mean, invstd and their gradients: 1, C, 1, 1
};

BnDescs descs(const Tensor& x, const char* op) {
  // the parameters and statistics are float for 16-bit data, double for double (cuDNN's rule,
  // and ops.def's)
  const ScalarType st = x.dtype() == kFloat64 ? kFloat64 : kFloat32;
  const std::array<int, 4> d = cudnn::dims32({x.size(0), x.size(1), x.size(2), 1}, op);
  return {cudnn::tensor_desc(x.dtype(), d), cudnn::tensor_desc(st, {1, d[1], 1, 1})};
}

}  // namespace

void batch_norm_kernel(const KernelCall& c) {
  // (x [N, C, L], weight [C], bias [C]) -> (y, mean [C], invstd [C])
  const Tensor& x = c.in[0];
  const double eps = NormParams::from(c.p).eps;
  if (!use_cudnn(x, eps)) return batch_norm_cuda(c);
  if (x.numel() == 0) return;
  const BnDescs d = descs(x, "batch_norm");
  const int dev = x.device().index;
  const auto [one, zero] = cudnn::scaling(x.dtype());
  const cudnnHandle_t h = cudnn::handle(dev);
  set_device(dev);
  NABLA_CUDNN_CHECK(cudnnBatchNormalizationForwardTraining(
      h, CUDNN_BATCHNORM_SPATIAL, one, zero, d.x, x.data_ptr(), d.x, c.out[0].data_ptr(), d.param,
      c.in[1].data_ptr(), c.in[2].data_ptr(), /*exponentialAverageFactor=*/0.0, /*resultRunningMean=*/nullptr,
      /*resultRunningVariance=*/nullptr, eps, c.out[1].data_ptr(), c.out[2].data_ptr()));
}

void batch_norm_backward_kernel(const KernelCall& c) {
  // (grad, x, weight, mean, invstd) -> (grad_x, grad_weight, grad_bias)
  const Tensor& x = c.in[1];
  const double eps = NormParams::from(c.p).eps;
  if (!use_cudnn(x, eps)) return batch_norm_backward_cuda(c);
  if (x.numel() == 0) return;
  const BnDescs d = descs(x, "batch_norm_backward");
  const int dev = x.device().index;
  const auto [one, zero] = cudnn::scaling(x.dtype());
  const cudnnHandle_t h = cudnn::handle(dev);
  set_device(dev);
  NABLA_CUDNN_CHECK(cudnnBatchNormalizationBackward(
      h, CUDNN_BATCHNORM_SPATIAL, /*alphaDataDiff=*/one, /*betaDataDiff=*/zero, /*alphaParamDiff=*/one,
      /*betaParamDiff=*/zero, d.x, x.data_ptr(), d.x, c.in[0].data_ptr(), d.x, c.out[0].data_ptr(), d.param,
      c.in[2].data_ptr(), c.out[1].data_ptr(), c.out[2].data_ptr(), eps, c.in[3].data_ptr(),
      c.in[4].data_ptr()));
}

}  // namespace nabla::cuda

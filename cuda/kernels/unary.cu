// CUDA kernels of the unary family and the activation derivatives: the shared table of
// core/math/unary_ops.h run through cuda_map, as cpu_fallback/unary.cpp runs it through cpu_map.
#include "core/math/unary_ops.h"
#include "cuda/kernels/elementwise.cuh"

namespace nabla::cuda {

NABLA_UNARY_KERNELS(CudaLoop)

}  // namespace nabla::cuda

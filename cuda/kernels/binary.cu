// CUDA kernels of the binary family: the shared table of core/math/binary_ops.h run through
// cuda_map, as cpu_fallback/binary.cpp runs it through cpu_map.
#include "core/math/binary_ops.h"
#include "cuda/kernels/elementwise.cuh"

namespace nabla::cuda {

NABLA_BINARY_KERNELS(CudaLoop)

}  // namespace nabla::cuda

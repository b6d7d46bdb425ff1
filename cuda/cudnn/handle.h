// cuDNN for the CUDA backend: checked calls (NABLA_CUDNN_CHECK), one handle per (thread, device)
// bound to nabla's stream, and a cache of tensor, filter and convolution descriptors keyed by what
// they describe, so repeated calls of one shape build nothing. Included only by cuda/cudnn/
// sources: cudnn.h stays out of every widely included header.
//
// The descriptors are cuDNN's "legacy" API (deprecated in cuDNN 9 in favour of the graph API,
// still complete there); cuDNN 9 is required (its status codes come in families).
#pragma once

#include <cudnn.h>

#include <array>
#include <cstdint>

#include "cuda/runtime.h"
#include "dispatch/op.h"
#include "ops/params_conv.h"

namespace nabla::cuda::cudnn {

[[noreturn]] void throw_cudnn_error(cudnnStatus_t status, const char* call, const char* file, int line);

/// The calling thread's handle for `device`, bound to stream(device) (cuda/handle_pool.h:
/// created on first use or taken from the handles of threads that have ended, never
/// destroyed). A handle is never shared by two threads, as cuDNN requires; keep the returned
/// handle within the calling thread.
cudnnHandle_t handle(int device);

/// cuDNN's data type of a floating-point dtype.
cudnnDataType_t data_type(ScalarType t);

/// The scaling factors 1 and 0 (alpha, beta) for data of dtype `t`, as cuDNN reads them:
/// double for float64 data, float otherwise.
struct Scaling {
  const void* one;
  const void* zero;
};
Scaling scaling(ScalarType t);

/// Sizes as cuDNN's 32-bit ints; a tensor of more than 2^31 - 1 elements is a clear error
/// naming `op` (cuDNN's legacy descriptors cannot describe it).
std::array<int, 4> dims32(const Shape& sizes, std::string_view op);

// Descriptors are built once per distinct key and kept for the life of the process, shared by
// every device and thread (they hold shapes, not memory; cuDNN only reads them).

/// A packed NCHW tensor of `dtype`.
cudnnTensorDescriptor_t tensor_desc(ScalarType dtype, const std::array<int, 4>& nchw);
/// A packed KCRS filter (out channels, in channels per group, kernel rows, kernel cols).
cudnnFilterDescriptor_t filter_desc(ScalarType dtype, const std::array<int, 4>& kcrs);
/// A 2-d cross-correlation with `conv`'s padding, stride, dilation and groups, computing in
/// float for the 16-bit dtypes and in the dtype otherwise, with math type `math`.
cudnnConvolutionDescriptor_t conv_desc(ScalarType dtype, const ConvParams& conv, cudnnMathType_t math);

}  // namespace nabla::cuda::cudnn

/// Checks a cuDNN call; failures become nabla::Error naming the call, cuDNN's message, file and line.
#define NABLA_CUDNN_CHECK(call)                                                          \
  do {                                                                                   \
    const cudnnStatus_t nabla_status_ = (call);                                          \
    if (nabla_status_ != CUDNN_STATUS_SUCCESS) [[unlikely]] {                            \
      ::nabla::cuda::cudnn::throw_cudnn_error(nabla_status_, #call, __FILE__, __LINE__); \
    }                                                                                    \
  } while (0)

// The CUDA runtime layer of the backend: checked CUDA calls, devices, one stream per device.
// Internal to cuda/ (never included by core/).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>

#include "nabla/device.h"
#include "nabla/error.h"

namespace nabla::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line);

/// Number of usable devices (0 without a driver or GPU); probed once.
int cuda_device_count();
/// Makes `index` the current device (checked against the device count).
void set_device(int index);
/// The stream all of nabla's work on `index` runs on (created on first use).
cudaStream_t stream(int index);

}  // namespace nabla::cuda

/// Checks a CUDA runtime call; failures become nabla::Error naming the call, file and line.
#define NABLA_CUDA_CHECK(call)                                                \
  do {                                                                        \
    const cudaError_t nabla_err_ = (call);                                    \
    if (nabla_err_ != cudaSuccess) [[unlikely]] {                             \
      ::nabla::cuda::throw_cuda_error(nabla_err_, #call, __FILE__, __LINE__); \
    }                                                                         \
  } while (0)

/// Checks the last kernel launch.
#define NABLA_CUDA_CHECK_LAUNCH() NABLA_CUDA_CHECK(cudaGetLastError())

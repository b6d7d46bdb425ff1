// CUDA runtime: device discovery, checked calls, per-device streams, and the backend's
// registration (which happens only when a device is present, so libnabla.so runs the CPU
// path on machines without a GPU or driver).
#include "cuda/runtime.h"

#include <array>
#include <mutex>

#include "dispatch/dispatch.h"

namespace nabla::cuda {

void throw_cuda_error(cudaError_t err, const char* call, const char* file, int line) {
  cudaGetLastError();  // clear a sticky non-fatal error so later calls are not blamed for it
  throw Error(fmt::format("CUDA error {} ({}) in {} at {}:{}", cudaGetErrorName(err), cudaGetErrorString(err),
                          call, file, line));
}

int cuda_device_count() {
  static const int count = [] {
    int n = 0;
    // no driver or no device: the CPU path runs alone
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
      cudaGetLastError();
      return 0;
    }
    return n;
  }();
  return count;
}

void set_device(int index) {
  NABLA_CHECK(index >= 0 && index < cuda_device_count(),
              "cuda: device {} does not exist ({} device(s) found)", index, cuda_device_count());
  NABLA_CUDA_CHECK(cudaSetDevice(index));
}

cudaStream_t stream(int index) {
  constexpr int kMaxDevices = 64;
  static std::array<cudaStream_t, kMaxDevices> streams{};
  static std::array<std::once_flag, kMaxDevices> once;
  NABLA_CHECK(index >= 0 && index < cuda_device_count() && index < kMaxDevices,
              "cuda: device {} does not exist ({} device(s) found)", index, cuda_device_count());
  std::call_once(once[index], [&] {
    set_device(index);
    NABLA_CUDA_CHECK(cudaStreamCreateWithFlags(&streams[index], cudaStreamNonBlocking));
  });
  return streams[index];
}

}  // namespace nabla::cuda

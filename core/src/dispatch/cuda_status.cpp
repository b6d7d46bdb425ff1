// nabla::cuda::is_available / device_count as seen by the dispatcher: the CUDA backend
// registers itself only when it finds a device.
#include <atomic>

#include "dispatch/dispatch.h"
#include "nabla/cuda.h"

namespace nabla::cuda {

#ifdef NABLA_HAS_CUDA
int cuda_device_count();  // cuda/runtime: devices found at registration
#endif

bool is_available() { return backend_registered(DeviceType::CUDA); }

int device_count() {
#ifdef NABLA_HAS_CUDA
  return is_available() ? cuda_device_count() : 0;
#else
  return 0;
#endif
}

namespace {
std::atomic<bool> g_cudnn_benchmark{false};
std::atomic<bool> g_deterministic{false};
}  // namespace
// Plain switches, read by the CUDA backend at each call (settable with or without it).
void set_cudnn_benchmark(bool on) { g_cudnn_benchmark = on; }
bool cudnn_benchmark() { return g_cudnn_benchmark; }
void set_deterministic(bool on) { g_deterministic = on; }
bool deterministic() { return g_deterministic; }

#ifndef NABLA_HAS_CUDA
// Built without the CUDA backend: no device memory exists, and there is nothing to wait for.
MemoryStats memory_stats(int device) {
  NABLA_CHECK(device == 0, "cuda: device {} does not exist (nabla was built without CUDA)", device);
  return {};
}
void empty_cache() {}
void synchronize() {}
void* current_stream(int device) {
  NABLA_FAIL("cuda::current_stream: no CUDA device {} (nabla was built without CUDA)", device);
}
void make_stream_wait(std::intptr_t, int device) {
  NABLA_FAIL("cuda::make_stream_wait: no CUDA device {} (nabla was built without CUDA)", device);
}
void wait_stream_quietly(int) noexcept {}
EventTimer::EventTimer(int device) : device_(device) {
  NABLA_FAIL("cuda::EventTimer: no CUDA device (nabla was built without CUDA)");
}
EventTimer::~EventTimer() = default;
void EventTimer::start() {}
double EventTimer::stop() { return 0.0; }
#endif

}  // namespace nabla::cuda

namespace nabla {
namespace {
std::atomic<bool> g_allow_tf32{false};
}  // namespace
void set_allow_tf32(bool allow) { g_allow_tf32 = allow; }
bool allow_tf32() { return g_allow_tf32; }
}  // namespace nabla

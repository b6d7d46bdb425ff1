// nabla::cuda: whether the CUDA backend is usable here. Device discovery, streams and the
// caching allocator arrive with the CUDA backend (cuda/); without it these report no device.
#pragma once

#include <cstddef>
#include <cstdint>

namespace nabla::cuda {

/// True when nabla was built with CUDA and a GPU and driver are present.
bool is_available();
/// Number of usable GPUs (0 without the CUDA backend).
int device_count();

/// Caching-allocator statistics of one device, in bytes (all zero without CUDA).
struct MemoryStats {
  std::size_t allocated = 0;  // in tensors now
  std::size_t reserved = 0;   // held from the driver (allocated + cached)
  std::size_t peak = 0;       // largest `allocated` so far
  std::size_t num_mallocs = 0;
};
MemoryStats memory_stats(int device = 0);
/// Returns cached blocks to the driver.
void empty_cache();
/// Waits for all queued work on every device.
void synchronize();

/// nabla's stream of a device, as an opaque cudaStream_t (for exchange protocols: DLPack).
/// An error without a GPU.
void* current_stream(int device = 0);
/// Makes work queued later on `consumer` wait for everything queued so far on nabla's stream
/// of `device`, without blocking the host (an event recorded on nabla's stream). `consumer`
/// is a cudaStream_t value, or DLPack's 1 (the legacy default stream) or 2 (per-thread
/// default); 0 is ambiguous in DLPack and an error. An error without a GPU.
void make_stream_wait(std::intptr_t consumer, int device = 0);
/// Waits for the work queued so far on nabla's stream of `device`, leaving kernel reports
/// (bad indices) for the next synchronisation point; never throws. Runs before memory that
/// nabla borrowed (from_blob on a GPU) goes back to its owner. A no-op without a GPU.
void wait_stream_quietly(int device) noexcept;

/// Times GPU work on nabla's stream of a device with CUDA events: start(), queue the work,
/// then stop() waits for it and returns the milliseconds between the two events (GPU time,
/// without the host's launch overhead). Constructing one without a GPU is an error.
class EventTimer {
 public:
  explicit EventTimer(int device = 0);
  ~EventTimer();
  EventTimer(const EventTimer&) = delete;
  EventTimer& operator=(const EventTimer&) = delete;
  void start();
  double stop();

 private:
  int device_;
  void* start_ = nullptr;
  void* stop_ = nullptr;
};

}  // namespace nabla::cuda

namespace nabla {
/// Lets float32 matrix products use TF32 tensor cores (faster, ~10-bit mantissa products).
/// Off by default, as numerics come first.
void set_allow_tf32(bool allow);
bool allow_tf32();
}  // namespace nabla

namespace nabla::cuda {

/// cuDNN benchmark mode (PyTorch's torch.backends.cudnn.benchmark): the first convolution of
/// each shape, dtype and geometry times the algorithms cuDNN offers and keeps the fastest for
/// every later call of that kind. Off by default: cuDNN's heuristics then pick an algorithm
/// without running any (cheaper for shapes that change often, possibly slower per call).
void set_cudnn_benchmark(bool on);
bool cudnn_benchmark();

/// Deterministic mode (as torch.backends.cudnn.deterministic): convolutions use only the cuDNN
/// algorithms cuDNN reports as bitwise repeatable, and batch norm runs nabla's own fixed-order
/// kernels, so repeated runs give bitwise-equal results. nabla's other CUDA kernels are
/// repeatable in either mode. Off by default, as the fastest algorithms may reduce with atomics.
void set_deterministic(bool on);
bool deterministic();

}  // namespace nabla::cuda

// The per-device report slots of cuda/kernel_report.h: device memory the kernels write, a
// pinned host copy read after the stream wait that a synchronisation point does anyway.
#include "cuda/kernel_report.h"

#include <array>
#include <mutex>

namespace nabla::cuda {
namespace {

struct ReportSlot {
  std::mutex mutex;
  std::once_flag once;
  KernelReport* device = nullptr;  // all zero while nothing is reported
  KernelReport* host = nullptr;    // pinned
  bool pending = false;            // a checked op ran since the last read
};

constexpr int kMaxDevices = 64;

ReportSlot& slot_of(int device) {
  static std::array<ReportSlot, kMaxDevices>* slots =
      new std::array<ReportSlot, kMaxDevices>();  // never freed
  NABLA_CHECK(device >= 0 && device < kMaxDevices, "cuda: device {} out of range", device);
  ReportSlot& s = (*slots)[device];
  std::call_once(s.once, [&] {
    set_device(device);
    NABLA_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s.device), sizeof(KernelReport)));
    NABLA_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&s.host), sizeof(KernelReport)));
    NABLA_CUDA_CHECK(cudaMemsetAsync(s.device, 0, sizeof(KernelReport), stream(device)));
  });
  return s;
}

std::string message(const KernelReport& r) {
  switch (static_cast<ReportOp>(r.op)) {
    case ReportOp::gather:
    case ReportOp::index_select:
    case ReportOp::scatter_add:
    case ReportOp::index_add: {
      constexpr std::array<const char*, 4> names{"gather", "index_select", "scatter_add", "index_add"};
      return fmt::format("{}: index {} is out of bounds for dim {} with size {}",
                         names[static_cast<std::size_t>(r.op - static_cast<int>(ReportOp::gather))], r.value,
                         r.extra, r.limit);
    }
    case ReportOp::one_hot:
      return fmt::format("one_hot: class index {} is out of range [0, {})", r.value, r.limit);
    case ReportOp::cross_entropy:
      return fmt::format(
          "cross_entropy: target {} is out of range for {} classes (and is not ignore_index {})", r.value,
          r.limit, r.extra);
    case ReportOp::none:
      break;
  }
  return fmt::format("cuda: a kernel reported the bad value {} (valid range [0, {}))", r.value, r.limit);
}

}  // namespace

KernelReport* report_slot(int device) {
  ReportSlot& s = slot_of(device);
  std::lock_guard<std::mutex> lock(s.mutex);
  s.pending = true;
  return s.device;
}

void synchronize_stream(int device) {
  const cudaStream_t st = stream(device);
  ReportSlot& s = slot_of(device);
  std::unique_lock<std::mutex> lock(s.mutex);
  if (!s.pending) {
    lock.unlock();
    NABLA_CUDA_CHECK(cudaStreamSynchronize(st));
    return;
  }
  // the read rides on the wait this synchronisation point does anyway; the lock is held over
  // the wait so no other thread's read overwrites the pinned copy meanwhile
  set_device(device);
  NABLA_CUDA_CHECK(cudaMemcpyAsync(s.host, s.device, sizeof(KernelReport), cudaMemcpyDeviceToHost, st));
  NABLA_CUDA_CHECK(cudaStreamSynchronize(st));
  s.pending = false;
  const KernelReport r = *s.host;
  if (r.reported == 0) return;
  NABLA_CUDA_CHECK(
      cudaMemsetAsync(s.device, 0, sizeof(KernelReport), st));  // in stream order: later ops start clean
  throw Error(message(r) + " (reported by a CUDA kernel queued before this synchronisation point)");
}

}  // namespace nabla::cuda

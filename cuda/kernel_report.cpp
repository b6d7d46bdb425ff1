// The per-device report slots of cuda/kernel_report.h: device memory the kernels write, a
// pinned host copy the op reads after one stream sync.
#include "cuda/kernel_report.h"

#include <array>

namespace nabla::cuda {

struct ReportSlot {
  std::mutex mutex;
  std::once_flag once;
  KernelReport* device = nullptr;  // cleared (all zero) between ops
  KernelReport* host = nullptr;    // pinned
  bool clean = false;              // false while an op that may have left a report is unread
};

namespace {
constexpr int kMaxDevices = 64;

ReportSlot& slot_of(int device) {
  static std::array<ReportSlot, kMaxDevices>* slots = new std::array<ReportSlot, kMaxDevices>();  // never freed
  NABLA_CHECK(device >= 0 && device < kMaxDevices, "cuda: device {} out of range", device);
  ReportSlot& s = (*slots)[device];
  std::call_once(s.once, [&] {
    set_device(device);
    NABLA_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s.device), sizeof(KernelReport)));
    NABLA_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&s.host), sizeof(KernelReport)));
  });
  return s;
}

void clear(ReportSlot& s, int device) {
  NABLA_CUDA_CHECK(cudaMemsetAsync(s.device, 0, sizeof(KernelReport), stream(device)));
  s.clean = true;
}
}  // namespace

ReportScope::ReportScope(int device) : device_(device), slot_(&slot_of(device)), lock_(slot_->mutex) {
  set_device(device);
  // the first use, or an op that threw before reading its report: clear, in stream order
  if (!slot_->clean) clear(*slot_, device);
  slot_->clean = false;
}

KernelReport* ReportScope::slot() const { return slot_->device; }

std::optional<int64_t> ReportScope::wait() {
  const cudaStream_t s = stream(device_);
  NABLA_CUDA_CHECK(cudaMemcpyAsync(slot_->host, slot_->device, sizeof(KernelReport), cudaMemcpyDeviceToHost, s));
  NABLA_CUDA_CHECK(cudaStreamSynchronize(s));
  const KernelReport r = *slot_->host;
  if (r.reported == 0) {
    slot_->clean = true;
    return std::nullopt;
  }
  clear(*slot_, device_);
  return static_cast<int64_t>(r.value);
}

}  // namespace nabla::cuda

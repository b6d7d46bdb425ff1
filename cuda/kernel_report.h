// Kernels that meet a bad value they cannot handle (an out-of-range index, an invalid class
// target) report it through a per-device slot, and the op turns the report into nabla::Error
// before it returns. Internal to cuda/.
//
// Cost per checked op: one 16-byte device->host copy into pinned memory and one sync of the
// op's stream (the host waits for the work queued before the op, so launches stop running
// ahead of the GPU there). No fill kernel and no allocation: the slot rests cleared between
// ops and is cleared again (one cudaMemsetAsync) only after a report.
#pragma once

#include <cstdint>
#include <mutex>
#include <optional>

#include "cuda/runtime.h"

namespace nabla::cuda {

/// What a kernel reports: one bad value it met (`reported` says whether there is one; a
/// sentinel value would hide a bad index equal to it).
struct KernelReport {
  unsigned long long reported;
  long long value;
};

#ifdef __CUDACC__
/// Records `v` unless another thread has reported first.
__device__ inline void report_bad(KernelReport* r, int64_t v) {
  if (atomicCAS(&r->reported, 0ull, 1ull) == 0ull) r->value = static_cast<long long>(v);
}
#endif

struct ReportSlot;

/// Holds device `device`'s report slot for the launches of one op (ops on one device that run
/// from several threads take turns here).
class ReportScope {
 public:
  explicit ReportScope(int device);
  ReportScope(const ReportScope&) = delete;
  ReportScope& operator=(const ReportScope&) = delete;

  /// The slot kernels pass to report_bad.
  KernelReport* slot() const;
  /// Waits for the op's stream once; the reported value, if any kernel reported one.
  std::optional<int64_t> wait();

 private:
  int device_;
  ReportSlot* slot_;
  std::unique_lock<std::mutex> lock_;
};

}  // namespace nabla::cuda

// Kernels that meet a bad value they cannot handle (an out-of-range index, an invalid class
// target) report it through a per-device slot without stopping the host: the report is read
// at the next point where nabla waits for the device anyway (a device<->host copy, so item()
// and to_vector, and cuda::synchronize()) and becomes nabla::Error there. Internal to cuda/.
//
// Cost per checked op: nothing on the host (no sync, no copy, no fill kernel); a kernel that
// meets a bad value does one atomicCAS. Cost per synchronisation point after a checked op:
// one 40-byte device->host copy into pinned memory, queued before the wait it shares. The
// report is self-describing (op, bad value, valid range), so it needs no host bookkeeping
// per op, and the first offending op in stream order wins: later kernels find the slot taken.
#pragma once

#include <cstdint>

#include "cuda/runtime.h"

namespace nabla::cuda {

/// Which op reported, which selects the message.
enum class ReportOp : int { none = 0, gather, index_select, scatter_add, index_add, one_hot, cross_entropy };

/// What a launch tells its kernel about the values it checks: the op and the valid range
/// [0, limit), plus `extra` for the message (the dim of an index op, cross_entropy's
/// ignore_index).
struct ReportSite {
  ReportOp op;
  int64_t limit;
  int64_t extra;
};

/// One bad value a kernel met (`reported` says whether there is one: a sentinel value would
/// hide a bad index equal to it), with its site.
struct KernelReport {
  unsigned long long reported;
  long long value;
  long long limit;
  long long extra;
  int op;
};

#ifdef __CUDACC__
/// Records `v` unless another thread (of this op or of an earlier one) has reported first.
__device__ inline void report_bad(KernelReport* r, const ReportSite& site, int64_t v) {
  if (atomicCAS(&r->reported, 0ull, 1ull) == 0ull) {
    r->value = static_cast<long long>(v);
    r->limit = static_cast<long long>(site.limit);
    r->extra = static_cast<long long>(site.extra);
    r->op = static_cast<int>(site.op);
  }
}
#endif

/// Device `device`'s report slot for the launches of one op; marks the device as having a
/// report to read at its next synchronisation point.
KernelReport* report_slot(int device);

/// Waits for device `device`'s stream and throws the first bad value a kernel reported since
/// the last wait, naming the op, the value and the valid range (the slot is cleared first, so
/// the next wait is clean). Every host wait of the backend goes through here.
void synchronize_stream(int device);

}  // namespace nabla::cuda

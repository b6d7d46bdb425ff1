// Registers the CUDA backend when a device is present: its allocator and the CUDA kernel of
// every op of ops.def. Like the CPU backend it is complete by construction: an op without a
// `nabla::cuda::<name>_kernel` fails to link. (An op may instead be listed cpu-only, with its
// reason, in core/src/dispatch/dispatch.cpp; then it must be left out here.)
#include "cuda/runtime.h"
#include "dispatch/dispatch.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace cuda {
std::shared_ptr<Storage> cuda_allocate(std::size_t nbytes, Device device);  // cuda/allocator.cpp

#define NABLA_OP(name, family, diff) void name##_kernel(const KernelCall& c);
#include "dispatch/ops.def"
#undef NABLA_OP
}  // namespace cuda

void register_cuda() {
  if (cuda::cuda_device_count() == 0) return;  // no GPU or driver: the CPU path runs alone
  set_storage_allocator(DeviceType::CUDA, &cuda::cuda_allocate);
#define NABLA_OP(name, family, diff)                                   \
  register_family_kernel<OpFamily::family>(Op::name, DeviceType::CUDA, \
                                           [](auto) { return &cuda::name##_kernel; });
#include "dispatch/ops.def"
#undef NABLA_OP
  mark_backend_registered(DeviceType::CUDA);
}

}  // namespace nabla

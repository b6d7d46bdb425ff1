// Registers the CUDA backend when a device is present: its allocator and every kernel it has.
// An op of ops.def missing here is reported by the coverage test on any machine with a GPU
// (tests/test_ops.cpp), unless listed cpu-only with a reason in core/src/dispatch/dispatch.cpp.
#include "cuda/runtime.h"
#include "dispatch/dispatch.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace cuda {
std::shared_ptr<Storage> cuda_allocate(std::size_t nbytes, Device device);  // cuda/allocator.cpp

#define NABLA_CUDA_KERNELS(X)                                                                        \
  X(neg) X(abs) X(sign) X(exp) X(log) X(log1p) X(expm1) X(sqrt) X(rsqrt) X(sin) X(cos) X(tanh)       \
  X(sigmoid) X(relu) X(leaky_relu) X(elu) X(gelu) X(softplus) X(clamp) X(pow_scalar) X(reciprocal) \
  X(relu_backward) X(leaky_relu_backward) X(elu_backward) X(gelu_backward) X(softplus_backward)     \
  X(sigmoid_backward) X(tanh_backward)                                                              \
  X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(eq) X(ne) X(lt) X(le) X(gt) X(ge)      \
  X(where)                                                                                          \
  X(copy) X(fill) X(arange)                                                                         \
  X(uniform) X(normal) X(randint)

#define NABLA_DECLARE(name) void name##_kernel(const KernelCall& c);
NABLA_CUDA_KERNELS(NABLA_DECLARE)
#undef NABLA_DECLARE
}  // namespace cuda

void register_cuda() {
  if (cuda::cuda_device_count() == 0) return;  // no GPU or driver: the CPU path runs alone
  set_storage_allocator(DeviceType::CUDA, &cuda::cuda_allocate);
#define NABLA_REGISTER(name) register_kernel(Op::name, DeviceType::CUDA, &cuda::name##_kernel);
  NABLA_CUDA_KERNELS(NABLA_REGISTER)
#undef NABLA_REGISTER
  mark_backend_registered(DeviceType::CUDA);
}

}  // namespace nabla

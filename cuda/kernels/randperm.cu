// randperm on CUDA: the CPU kernel's 64-bit Philox keys, stable-sorted with Thrust (the only
// file of the backend that includes Thrust, so its compile cost stays here). The same seed
// gives the same permutation on both devices.
#include <thrust/execution_policy.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>

#include "core/math/philox.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"

namespace nabla::cuda {
namespace {
__global__ void philox_keys(uint64_t* keys, int64_t n, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    keys[i] = math::random_u64(math::philox_draw(seed, offset, static_cast<uint64_t>(i)));
  }
}
}  // namespace

void randperm_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const int64_t n = out.numel();
  if (n == 0) return;
  const int d = out.device().index;
  set_device(d);
  // uint64 keys live in an int64 buffer of the caching allocator
  const Tensor keys = make_tensor({n}, kInt64, out.device(), "randperm");
  uint64_t* k = reinterpret_cast<uint64_t*>(keys.data_ptr<int64_t>());
  philox_keys<<<static_cast<unsigned>(std::min<int64_t>((n + 255) / 256, 65535)), 256, 0, stream(d)>>>(
      k, n, static_cast<uint64_t>(c.p.i0), static_cast<uint64_t>(c.p.i1));
  NABLA_CUDA_CHECK_LAUNCH();
  int64_t* p = out.data_ptr<int64_t>();
  const auto policy = thrust::cuda::par.on(stream(d));
  thrust::sequence(policy, p, p + n);
  thrust::stable_sort_by_key(policy, k, k + n, p);
  NABLA_CUDA_CHECK_LAUNCH();
}

}  // namespace nabla::cuda

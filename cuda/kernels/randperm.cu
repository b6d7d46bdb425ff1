// randperm on CUDA: the CPU kernel's 64-bit Philox keys with the values 0..n-1, sorted by
// CUB's radix sort (stable, like the CPU's std::stable_sort, so equal keys keep index order
// and the same seed gives the same permutation on both devices). This is the only file of
// the backend that includes CUB's device sort, so its compile cost stays here. All scratch
// (key buffers, CUB's temporary storage) comes from nabla's caching allocator, and CUB's
// status codes go through NABLA_CUDA_CHECK like any CUDA call.
#include <cub/device/device_radix_sort.cuh>

#include "core/math/philox.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_random.h"

namespace nabla::cuda {
namespace {
__global__ void __launch_bounds__(kBlock)
    philox_keys(uint64_t* keys, int64_t* values, int64_t n, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    keys[i] = math::random_u64(math::philox_draw(seed, offset, static_cast<uint64_t>(i)));
    values[i] = i;
  }
}

// uint64 buffers live in int64 tensors of the caching allocator
uint64_t* as_u64(const Tensor& t) { return reinterpret_cast<uint64_t*>(t.data_ptr<int64_t>()); }
}  // namespace

void randperm_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const int64_t n = out.numel();
  if (n == 0) return;
  const PhiloxSlot slot = RandpermParams::from(c.p).slot;
  const int d = out.device().index;
  const Device dev = out.device();
  const Tensor keys_in = make_tensor({n}, kInt64, dev, "randperm");
  const Tensor keys_out = make_tensor({n}, kInt64, dev, "randperm");
  const Tensor values_in = make_tensor({n}, kInt64, dev, "randperm");
  set_device(d);
  const cudaStream_t s = stream(d);
  NABLA_LAUNCH(philox_keys, grid_size(n), kBlock, 0, s, as_u64(keys_in), values_in.data_ptr<int64_t>(), n,
               slot.seed, slot.offset);
  std::size_t scratch_bytes = 0;
  NABLA_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, scratch_bytes, as_u64(keys_in), as_u64(keys_out),
                                                   values_in.data_ptr<int64_t>(), out.data_ptr<int64_t>(), n,
                                                   0, 64, s));
  const Tensor scratch =
      make_tensor({static_cast<int64_t>(std::max<std::size_t>(scratch_bytes, 1))}, kUInt8, dev, "randperm");
  NABLA_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(scratch.data_ptr(), scratch_bytes, as_u64(keys_in),
                                                   as_u64(keys_out), values_in.data_ptr<int64_t>(),
                                                   out.data_ptr<int64_t>(), n, 0, 64, s));
}

}  // namespace nabla::cuda

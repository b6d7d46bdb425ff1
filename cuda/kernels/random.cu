// CUDA kernels of the random family: element i of a draw comes from Philox counter (i, offset)
// (core/math/philox.h), as on the CPU, so one seed gives the same numbers on both devices.
#include "core/math/philox.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_random.h"

namespace nabla::cuda {
namespace {

template <class T, class Gen>
__global__ void __launch_bounds__(kBlock)
    draw_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, Gen gen) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    out[i] = gen.template operator()<T>(math::philox_draw(seed, offset, static_cast<uint64_t>(i)));
  }
}

template <class Gen>
void draw(const KernelCall& c, const PhiloxSlot& slot, const Gen& gen) {
  const Tensor& out = c.out[0];  // contiguous: the front end draws into a fresh tensor
  const int64_t n = out.numel();
  if (n == 0) return;
  visit_numeric(out.dtype(), op_name(c.op).data(), [&]<class T>() {
    const int d = out.device().index;
    set_device(d);
    NABLA_LAUNCH(draw_kernel<T, Gen>, grid_size(n), kBlock, 0, stream(d), out.data_ptr<T>(), n, slot.seed,
                 slot.offset, gen);
  });
}

struct UniformGen {
  double low, high;
  template <class T>
  __device__ T operator()(const math::Philox4& r) const {
    if constexpr (std::is_same_v<T, double>) {
      return math::uniform_from_to(low, high, math::uniform_double(r));
    } else {
      const int bits = std::is_same_v<T, Half> ? 11 : std::is_same_v<T, BFloat16> ? 8 : 24;
      return cvt<T>(math::uniform_from_span(static_cast<float>(low), static_cast<float>(high - low),
                                            math::uniform_bits(r, bits)));
    }
  }
};

struct NormalGen {
  double mean, sd;
  template <class T>
  __device__ T operator()(const math::Philox4& r) const {
    return cvt<T>(math::normal_mean_sd(mean, sd, math::normal_double(r)));
  }
};

struct RandintGen {
  int64_t low;
  uint64_t range;
  template <class T>
  __device__ T operator()(const math::Philox4& r) const {
    return cvt<T>(low + static_cast<int64_t>(math::random_u64(r) % range));
  }
};

}  // namespace

void uniform_kernel(const KernelCall& c) {
  const UniformParams p = UniformParams::from(c.p);
  draw(c, p.slot, UniformGen{p.low, p.high});
}
void normal_kernel(const KernelCall& c) {
  const NormalParams p = NormalParams::from(c.p);
  draw(c, p.slot, NormalGen{p.mean, p.stddev});
}
void randint_kernel(const KernelCall& c) {
  const RandintParams p = RandintParams::from(c.p);
  draw(c, p.slot, RandintGen{p.low, static_cast<uint64_t>(p.high) - static_cast<uint64_t>(p.low)});
}

}  // namespace nabla::cuda

// Reference CPU kernels of the random family. Element i of a draw comes from Philox counter
// (i, offset) (core/math/philox.h), so the values do not depend on how threads split the work,
// and the CUDA kernels produce the same numbers.
#include <algorithm>
#include <numeric>

#include "core/math/philox.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_random.h"

namespace nabla::cpu {
namespace {

// Out is contiguous (the front end draws into a fresh tensor).
template <class Gen>
void draw(const KernelCall& c, const PhiloxSlot& slot, const Gen& gen) {
  visit_numeric(c.out[0].dtype(), op_name(c.op).data(), [&]<class T>() {
    T* p = c.out[0].data_ptr<T>();
    parallel_for(c.out[0].numel(), kGrain / 4, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) {
        p[i] =
            gen.template operator()<T>(math::philox_draw(slot.seed, slot.offset, static_cast<uint64_t>(i)));
      }
    });
  });
}

}  // namespace

void uniform_kernel(const KernelCall& c) {
  const UniformParams p = UniformParams::from(c.p);
  draw(c, p.slot, [=]<class T>(const math::Philox4& r) -> T {
    if constexpr (std::is_same_v<T, double>) {
      return math::uniform_from_to(p.low, p.high, math::uniform_double(r));
    } else {
      const int bits = std::is_same_v<T, Half> ? 11 : std::is_same_v<T, BFloat16> ? 8 : 24;
      return cvt<T>(math::uniform_from_span(static_cast<float>(p.low), static_cast<float>(p.high - p.low),
                                            math::uniform_bits(r, bits)));
    }
  });
}

void normal_kernel(const KernelCall& c) {
  const NormalParams p = NormalParams::from(c.p);
  draw(c, p.slot, [=]<class T>(const math::Philox4& r) -> T {
    return cvt<T>(math::normal_mean_sd(p.mean, p.stddev, math::normal_double(r)));
  });
}

void randint_kernel(const KernelCall& c) {
  const RandintParams p = RandintParams::from(c.p);
  const uint64_t range = static_cast<uint64_t>(p.high) - static_cast<uint64_t>(p.low);
  draw(c, p.slot, [=]<class T>(const math::Philox4& r) -> T {
    return cvt<T>(p.low + static_cast<int64_t>(math::random_u64(r) % range));
  });
}

// A permutation as the stable sort of 64-bit Philox keys: the CUDA backend sorts the same
// keys (Thrust stable_sort_by_key) and gets the same permutation.
void randperm_kernel(const KernelCall& c) {
  const PhiloxSlot slot = RandpermParams::from(c.p).slot;
  const int64_t n = c.out[0].numel();
  std::vector<uint64_t> keys(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    keys[i] = math::random_u64(math::philox_draw(slot.seed, slot.offset, static_cast<uint64_t>(i)));
  }
  int64_t* p = c.out[0].data_ptr<int64_t>();
  std::iota(p, p + n, int64_t{0});
  std::stable_sort(p, p + n, [&](int64_t a, int64_t b) { return keys[a] < keys[b]; });
}

}  // namespace nabla::cpu

// Reference CPU kernels of the copy family: copy between any layouts and dtypes (with
// broadcasting of the source), fill, and arange.
#include "core/math/philox.h"  // arange_at: the same rounding on both devices
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_copy.h"

namespace nabla::cpu {

void copy_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const Tensor& src = c.in[0];
  visit_dtype(out.dtype(), "copy", [&]<class O>() {
    visit_dtype(src.dtype(), "copy",
                [&]<class I>() { cpu_map<O, I>(out, {src}, [](compute_t<I> x) { return x; }); });
  });
}

void fill_kernel(const KernelCall& c) {
  const FillParams p = FillParams::from(c.p);
  visit_dtype(c.out[0].dtype(), "fill", [&]<class T>() {
    const T v = p.value.to<T>();
    cpu_map<T>(c.out[0], {}, [v]() { return v; });
  });
}

// out[i] = start + i * step, computed in double (int64 for integer outputs) per element so
// that no error accumulates along the range.
void arange_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const ArangeParams range = ArangeParams::from(c.p);
  visit_numeric(out.dtype(), "arange", [&]<class T>() {
    T* p = out.data_ptr<T>();
    if constexpr (std::is_integral_v<T>) {
      const int64_t start = range.start.to_int(), step = range.step.to_int();
      parallel_for(out.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] = static_cast<T>(start + i * step);
      });
    } else {
      const double start = range.start.to_double(), step = range.step.to_double();
      parallel_for(out.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) p[i] = cvt<T>(math::arange_at(start, step, i));
      });
    }
  });
}

}  // namespace nabla::cpu

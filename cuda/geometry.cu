// DeviceGeometry: the host-side packing of an elementwise geometry for a CUDA launch.
#include "cuda/kernels/elementwise.cuh"

namespace nabla::cuda {

DeviceGeometry device_geometry(const Tensor& out, std::span<const Tensor> inputs) {
  DeviceGeometry d{};
  // Host scalars are replaced by a broadcast view of `out` (never read) in the geometry and
  // carried by value instead.
  std::array<Tensor, kMaxOperands> ins{};
  for (std::size_t k = 0; k < inputs.size(); ++k) {
    const Tensor& t = inputs[k];
    const bool host_scalar = t.dim() == 0 && t.device().is_cpu() && !out.device().is_cpu();
    d.scalar[k + 1] = host_scalar;
    if (host_scalar) {
      // a CPU 0-dim tensor is read in place: item() would run a dtype conversion and a copy
      // through the dispatcher for every wrapped number of every launch
      visit_dtype(t.dtype(), "cuda elementwise", [&]<class T>() {
        const T v = *t.data_ptr<T>();
        d.value[k + 1] = cvt<double>(v);
        if constexpr (std::is_integral_v<T>) d.ivalue[k + 1] = static_cast<int64_t>(v);
      });
      ins[k] = make_view_tensor(out.impl()->storage, {}, {}, out.storage_offset(), out.dtype());
    } else {
      ins[k] = t;
    }
  }
  const ElementwiseGeometry g =
      make_elementwise_geometry(out, std::span<const Tensor>(ins.data(), inputs.size()));
  NABLA_CHECK(static_cast<int>(g.shape.size()) <= kMaxDims,
              "cuda: an elementwise op over {} non-mergeable dims exceeds the kernel's limit of {}",
              g.shape.size(), kMaxDims);
  d.ndim = static_cast<int>(g.shape.size());
  d.nops = g.nops;
  bool contiguous = d.ndim == 1;
  for (int i = 0; i < d.ndim; ++i) d.sizes[i] = g.shape[i];
  for (int k = 0; k < g.nops; ++k) {
    d.data[k] = g.data[k];
    for (int i = 0; i < d.ndim; ++i) d.strides[k][i] = g.strides[k][i];
    if (!d.scalar[k] && !(d.ndim == 1 && g.strides[k][0] == 1)) contiguous = false;
  }
  d.contiguous = contiguous;
  // 32-bit index math needs every element index and every partial sum of an offset inside
  // int32: the element count and each operand's span (sum of (size - 1) |stride|) below 2^31
  constexpr int64_t kLimit = int64_t{1} << 31;
  int64_t count = 1;
  for (int i = 0; i < d.ndim; ++i) count *= d.sizes[i];
  bool fits = count < kLimit;
  for (int k = 0; k < g.nops && fits; ++k) {
    int64_t span = 0;
    for (int i = 0; i < d.ndim && fits; ++i) {
      const int64_t s = d.strides[k][i] < 0 ? -d.strides[k][i] : d.strides[k][i];
      if (s >= kLimit)
        fits = false;
      else
        span += (d.sizes[i] - 1) * s;
      if (span >= kLimit) fits = false;
    }
  }
  d.index32 = fits;
  return d;
}

}  // namespace nabla::cuda

// CUDA kernels of the copy family: copies between dtypes and layouts on a device, copies
// between host and device (one cudaMemcpyAsync, staged through a contiguous buffer in the
// destination dtype only when the source is not already dense in it),
// fill and arange. A device copy between overlapping parts of one storage goes through a
// temporary (the front end's copy_ clones such a source, but kernels copy directly too).
#include "core/math/philox.h"  // arange_at: the same rounding on both devices
#include "cuda/kernel_report.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"
#include "nabla/autograd.h"
#include "ops/params_copy.h"

namespace nabla::cuda {
namespace {

struct Identity {
  template <class T>
  __device__ T operator()(T x) const {
    return x;
  }
};

// The bytes [first, last) a tensor's elements span in its storage (empty for no elements).
struct ByteRange {
  int64_t first = 0, last = 0;
};
ByteRange byte_range(const Tensor& t) {
  if (t.numel() == 0) return {};
  int64_t lo = t.storage_offset(), hi = t.storage_offset();
  for (int64_t d = 0; d < t.dim(); ++d) {
    const int64_t span = (t.size(d) - 1) * t.stride(d);
    (span < 0 ? lo : hi) += span;
  }
  const auto es = static_cast<int64_t>(element_size(t.dtype()));
  return {lo * es, (hi + 1) * es};
}

// Whether writing dst elementwise may overwrite src elements other threads still have to
// read. The same layout and dtype is safe: each thread reads the element it writes.
bool copy_would_race(const Tensor& dst, const Tensor& src) {
  if (!dst.is_alias_of(src)) return false;
  if (src.dtype() == dst.dtype() && src.storage_offset() == dst.storage_offset() &&
      src.sizes() == dst.sizes() && src.strides() == dst.strides()) {
    return false;
  }
  const ByteRange a = byte_range(dst), b = byte_range(src);
  return a.first < b.last && b.first < a.last;
}

void device_copy(const Tensor& dst, const Tensor& src) {
  if (copy_would_race(dst, src)) {
    // threads run in no particular order: read every source element out before any is overwritten
    const Tensor tmp = make_tensor(src.sizes(), src.dtype(), src.device(), "copy");
    device_copy(tmp, src);
    device_copy(dst, tmp);
    return;
  }
  visit_dtype(dst.dtype(), "copy", [&]<class O>() {
    visit_dtype(src.dtype(), "copy", [&]<class I>() { cuda_map<O, I>(dst, {src}, Identity{}); });
  });
}

}  // namespace

void copy_kernel(const KernelCall& c) {
  const Tensor& dst = c.out[0];
  const Tensor& src = c.in[0];
  NoGradGuard g;
  if (src.device() == dst.device() || (src.dim() == 0 && src.device().is_cpu())) {
    device_copy(dst, src);
    return;
  }
  if (src.device().is_cpu()) {
    // host -> device: convert and densify on the host, one transfer, then place on the device
    const Tensor host = src.to(dst.dtype()).expand(dst.sizes()).contiguous();
    Tensor staged = dst.is_contiguous() ? dst : make_tensor(dst.sizes(), dst.dtype(), dst.device(), "copy");
    const int d = dst.device().index;
    set_device(d);
    NABLA_CUDA_CHECK(cudaMemcpyAsync(staged.data_ptr(), host.data_ptr(), host.nbytes(),
                                     cudaMemcpyHostToDevice, stream(d)));
    synchronize_stream(d);  // `host` is freed on return; also raises queued kernel reports
    if (staged.impl() != dst.impl()) device_copy(dst, staged);
    return;
  }
  // device -> host: convert and densify on the device, one transfer, then place on the host
  NABLA_CHECK(dst.device().is_cpu(), "copy: copies between two CUDA devices ({} -> {}) are not supported yet",
              src.device().str(), dst.device().str());
  // A dense source of dst's dtype and shape is transferred as it is: staging it would cost an
  // allocation, a kernel and a device-side read and write of every byte.
  const bool as_is = src.is_contiguous() && src.dtype() == dst.dtype() && src.sizes() == dst.sizes();
  Tensor dense = as_is ? src : make_tensor(dst.sizes(), dst.dtype(), src.device(), "copy");
  if (!as_is) device_copy(dense, src);
  const bool direct = dst.is_contiguous();
  Tensor host = direct ? dst : make_tensor(dst.sizes(), dst.dtype(), Device::cpu(), "copy");
  const int d = src.device().index;
  set_device(d);
  NABLA_CUDA_CHECK(
      cudaMemcpyAsync(host.data_ptr(), dense.data_ptr(), dense.nbytes(), cudaMemcpyDeviceToHost, stream(d)));
  synchronize_stream(d);  // also raises queued kernel reports (item(), to_vector)
  if (!direct) {
    Tensor target = dst;
    target.copy_(host);
  }
}

namespace {
template <class T>
struct Constant {
  T v;
  __device__ T operator()() const { return v; }
};
}  // namespace

void fill_kernel(const KernelCall& c) {
  const FillParams p = FillParams::from(c.p);
  visit_dtype(c.out[0].dtype(), "fill",
              [&]<class T>() { cuda_map<T>(c.out[0], {}, Constant<T>{p.value.to<T>()}); });
}

namespace {
template <class T>
__global__ void __launch_bounds__(kBlock)
    arange_kernel_impl(T* out, int64_t n, double start, double step, int64_t istart, int64_t istep) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    if constexpr (std::is_integral_v<T>)
      out[i] = static_cast<T>(istart + i * istep);
    else
      out[i] = cvt<T>(math::arange_at(start, step, i));
  }
}
}  // namespace

void arange_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const int64_t n = out.numel();
  if (n == 0) return;
  const ArangeParams range = ArangeParams::from(c.p);
  visit_numeric(out.dtype(), "arange", [&]<class T>() {
    const int d = out.device().index;
    set_device(d);
    NABLA_LAUNCH(arange_kernel_impl<T>, grid_size(n), kBlock, 0, stream(d), out.data_ptr<T>(), n,
                 range.start.to_double(), range.step.to_double(), range.start.to_int(), range.step.to_int());
  });
}

}  // namespace nabla::cuda

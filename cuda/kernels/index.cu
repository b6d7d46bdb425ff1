// CUDA kernels of the index family, over the operand views of tensor/index_views.h (shared
// with the CPU kernels). gather and index_select read through a restrided view (stride 0 along
// dim, as the CPU kernels); scatter_add and index_add give each thread one whole line along
// dim, summed in index order, so results are deterministic without floating-point atomics.
// Out-of-range indices are skipped and reported through the device's report slot; they become
// nabla::Error at the next synchronisation point (cuda/kernel_report.h: no host wait per call).
#include "cuda/kernel_report.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"
#include "nabla/autograd.h"
#include "tensor/index_views.h"

namespace nabla::cuda {
namespace {

template <class T>
struct TakeBody {
  int64_t size, xstride;
  KernelReport* bad;
  ReportSite site;
  __device__ void operator()(const DeviceGeometry& g, const int64_t* off) const {
    const int64_t k = reinterpret_cast<const int64_t*>(g.data[1])[off[1]];
    if (k < 0 || k >= size) {
      report_bad(bad, site, k);
      return;
    }
    reinterpret_cast<T*>(g.data[0])[off[0]] = reinterpret_cast<const T*>(g.data[2])[off[2] + k * xstride];
  }
};

// gather, index_select
void take_along(const KernelCall& c, ReportOp rop) {
  const TakeOperands t = take_operands(c);
  if (t.out.numel() == 0) return;
  const std::array<Tensor, 2> ins{t.index, t.x};
  KernelReport* const slot = report_slot(t.out.device().index);
  visit_dtype(t.x.dtype(), t.name, [&]<class T>() {
    launch_offsets(t.out, std::span<const Tensor>(ins.data(), ins.size()), t.out.numel(),
                   TakeBody<T>{t.size, t.stride, slot, ReportSite{rop, t.size, t.dim}});
  });
}

// dst[.. idx ..] += src[..] along dim, one thread per line: the geometry runs over the index
// shape with dim collapsed to 1, and each thread walks the `len` positions of its line.
template <class T>
struct AddLineBody {
  int64_t len, size, dst_stride, idx_stride, src_stride;
  KernelReport* bad;
  ReportSite site;
  __device__ void operator()(const DeviceGeometry& g, const int64_t* off) const {
    T* dst = reinterpret_cast<T*>(g.data[0]) + off[0];
    const int64_t* idx = reinterpret_cast<const int64_t*>(g.data[1]) + off[1];
    const T* src = reinterpret_cast<const T*>(g.data[2]) + off[2];
    for (int64_t j = 0; j < len; ++j) {
      const int64_t k = idx[j * idx_stride];
      if (k < 0 || k >= size) {
        report_bad(bad, site, k);
        return;
      }
      T& t = dst[k * dst_stride];
      t = cvt<T>(cvt<compute_t<T>>(t) + cvt<compute_t<T>>(src[j * src_stride]));
    }
  }
};

// scatter_add, index_add: out = x, then out += src scattered along dim by index.
void add_along(const KernelCall& c, ReportOp rop) {
  NoGradGuard no_grad;
  AddOperands a = add_operands(c);
  a.out.copy_(c.in[0]);
  const Shape& shape = a.index.sizes();
  Shape line = shape;
  const int64_t len = shape[a.dim];
  line[a.dim] = 1;
  int64_t lines = 1;
  for (int64_t s : line) lines *= s;
  if (lines == 0 || len == 0) return;
  const std::array<Tensor, 2> ins{with_sizes(a.index, line), with_sizes(a.src, line)};
  KernelReport* const slot = report_slot(a.out.device().index);
  const int64_t size = a.out.size(a.dim);
  visit_numeric(a.out.dtype(), a.name, [&]<class T>() {
    launch_offsets(restride(a.out, line, a.dim), std::span<const Tensor>(ins.data(), ins.size()), lines,
                   AddLineBody<T>{len, size, a.out.stride(a.dim), a.index.stride(a.dim), a.src.stride(a.dim),
                                  slot, ReportSite{rop, size, a.dim}});
  });
}

}  // namespace

void gather_kernel(const KernelCall& c) { take_along(c, ReportOp::gather); }
void index_select_kernel(const KernelCall& c) { take_along(c, ReportOp::index_select); }
void scatter_add_kernel(const KernelCall& c) { add_along(c, ReportOp::scatter_add); }
void index_add_kernel(const KernelCall& c) { add_along(c, ReportOp::index_add); }

void cat_kernel(const KernelCall& c) {
  NoGradGuard no_grad;
  for (CatSlice& s : cat_slices(c)) s.dst.copy_(*s.src);
}

namespace {
struct OneHotBody {
  int64_t classes;
  KernelReport* bad;
  ReportSite site;
  __device__ void operator()(const DeviceGeometry& g, const int64_t* off) const {
    const int64_t k = reinterpret_cast<const int64_t*>(g.data[1])[off[1]];
    if (k < 0 || k >= classes) {
      report_bad(bad, site, k);
      return;
    }
    reinterpret_cast<int64_t*>(g.data[0])[off[0] + k] = 1;
  }
};
}  // namespace

void one_hot_kernel(const KernelCall& c) {
  Tensor out = c.out[0];
  out.zero_();
  const Tensor& idx = c.in[0];
  if (idx.numel() == 0) return;
  const int64_t classes = out.size(-1);
  // one thread per index: `rows` is out seen with the class dim collapsed to its first column
  Shape rows_shape = out.sizes();
  rows_shape.back() = 1;
  const Tensor rows =
      make_view_tensor(out.impl()->storage, rows_shape, out.strides(), out.storage_offset(), kInt64);
  const Tensor i = make_view_tensor(
      idx.impl()->storage, rows_shape,
      [&] {
        Shape st = idx.strides();
        st.push_back(0);
        return st;
      }(),
      idx.storage_offset(), kInt64);
  const std::array<Tensor, 1> ins{i};
  launch_offsets(
      rows, std::span<const Tensor>(ins.data(), ins.size()), idx.numel(),
      OneHotBody{classes, report_slot(out.device().index), ReportSite{ReportOp::one_hot, classes, 0}});
}

}  // namespace nabla::cuda

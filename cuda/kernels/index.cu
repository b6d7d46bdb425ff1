// CUDA kernels of the index family. gather and index_select read through a restrided view
// (stride 0 along dim, as the CPU kernels); scatter_add and index_add give each thread one
// whole line along dim, summed in index order, so results are deterministic without
// floating-point atomics. Out-of-range indices are skipped and reported through the device's
// report slot; they become nabla::Error at the next synchronisation point (cuda/kernel_report.h:
// no host wait per call).
#include "cuda/kernel_report.h"
#include "cuda/kernels/elementwise.cuh"
#include "dispatch/dispatch.h"
#include "nabla/autograd.h"

namespace nabla::cuda {
namespace {

Tensor restride(const Tensor& t, const Shape& sizes, int64_t dim) {
  Shape st = t.strides();
  st.resize(sizes.size(), 0);
  st[dim] = 0;
  return make_view_tensor(t.impl()->storage, sizes, st, t.storage_offset(), t.dtype());
}

Tensor index_along(const Tensor& index, const Shape& sizes, int64_t dim) {
  Shape st(sizes.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.stride(0);
  return make_view_tensor(index.impl()->storage, sizes, st, index.storage_offset(), index.dtype());
}

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

void take_along(const Tensor& out, const Tensor& x, const Tensor& idx, int64_t dim, const char* op,
                ReportOp rop) {
  if (out.numel() == 0) return;
  const std::array<Tensor, 2> ins{idx, restride(x, out.sizes(), dim)};
  KernelReport* const slot = report_slot(out.device().index);
  visit_dtype(x.dtype(), op, [&]<class T>() {
    launch_offsets(out, std::span<const Tensor>(ins.data(), ins.size()), out.numel(),
                   TakeBody<T>{x.size(dim), x.stride(dim), slot, ReportSite{rop, x.size(dim), dim}});
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

// out (already a copy of x) += src scattered along dim by idx (both of `shape`).
void add_lines(const Tensor& out, const Tensor& idx, const Tensor& src, int64_t dim, const char* op,
               ReportOp rop) {
  const Shape& shape = idx.sizes();
  Shape line = shape;
  const int64_t len = shape[dim];
  line[dim] = 1;
  int64_t lines = 1;
  for (int64_t s : line) lines *= s;
  if (lines == 0 || len == 0) return;
  const Tensor d = restride(out, line, dim);
  const Tensor i = make_view_tensor(idx.impl()->storage, line, idx.strides(), idx.storage_offset(), idx.dtype());
  const Tensor s = make_view_tensor(src.impl()->storage, line, src.strides(), src.storage_offset(), src.dtype());
  const std::array<Tensor, 2> ins{i, s};
  KernelReport* const slot = report_slot(out.device().index);
  visit_numeric(out.dtype(), op, [&]<class T>() {
    launch_offsets(d, std::span<const Tensor>(ins.data(), ins.size()), lines,
                   AddLineBody<T>{len, out.size(dim), out.stride(dim), idx.stride(dim), src.stride(dim), slot,
                                  ReportSite{rop, out.size(dim), dim}});
  });
}

}  // namespace

void gather_kernel(const KernelCall& c) {
  take_along(c.out[0], c.in[0], c.in[1], c.p.dim, "gather", ReportOp::gather);
}

void index_select_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  take_along(out, c.in[0], index_along(c.in[1], out.sizes(), c.p.dim), c.p.dim, "index_select",
             ReportOp::index_select);
}

void scatter_add_kernel(const KernelCall& c) {
  NoGradGuard g;
  Tensor out = c.out[0];
  out.copy_(c.in[0]);
  const Tensor& index = c.in[1];
  const Tensor src = make_view_tensor(c.in[2].impl()->storage, index.sizes(), c.in[2].strides(),
                                      c.in[2].storage_offset(), c.in[2].dtype());
  add_lines(out, index, src, c.p.dim, "scatter_add", ReportOp::scatter_add);
}

void index_add_kernel(const KernelCall& c) {
  NoGradGuard g;
  Tensor out = c.out[0];
  out.copy_(c.in[0]);
  const Tensor& source = c.in[2];
  add_lines(out, index_along(c.in[1], source.sizes(), c.p.dim), source, c.p.dim, "index_add",
            ReportOp::index_add);
}

void cat_kernel(const KernelCall& c) {
  NoGradGuard g;
  const Tensor& out = c.out[0];
  const int64_t dim = c.p.dim;
  int64_t at = 0;
  for (const Tensor& t : c.in) {
    if (t.numel() == 0 && t.dim() == 1 && out.dim() != 1) continue;
    Tensor dst = make_view_tensor(out.impl()->storage, t.sizes(), out.strides(),
                                  out.storage_offset() + at * out.stride(dim), out.dtype());
    dst.copy_(t);
    at += t.size(dim);
  }
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
  const Tensor rows = make_view_tensor(out.impl()->storage, rows_shape, out.strides(), out.storage_offset(), kInt64);
  const Tensor i = make_view_tensor(idx.impl()->storage, rows_shape, [&] {
    Shape st = idx.strides();
    st.push_back(0);
    return st;
  }(), idx.storage_offset(), kInt64);
  const std::array<Tensor, 1> ins{i};
  launch_offsets(
      rows, std::span<const Tensor>(ins.data(), ins.size()), idx.numel(),
      OneHotBody{classes, report_slot(out.device().index), ReportSite{ReportOp::one_hot, classes, 0}});
}

}  // namespace nabla::cuda

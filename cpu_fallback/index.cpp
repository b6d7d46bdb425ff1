// Reference CPU indexing kernels: gather, scatter_add, index_select, index_add, cat, one_hot.
//
// Each walks an elementwise geometry in which the indexed tensor is restrided so that its
// indexed dim has stride 0 (ATen's trick): the loop then yields, per element, the address of
// the slice's start, and the kernel adds index * stride(dim). Scatters run in order on one
// thread so that additions into the same element happen in a fixed order.
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "tensor/tensor_impl.h"

namespace nabla::cpu {
namespace {

// `t` seen with `sizes`, its own strides, and stride 0 along `dim`.
Tensor restride(const Tensor& t, const Shape& sizes, int64_t dim) {
  Shape st = t.strides();
  st.resize(sizes.size(), 0);
  st[dim] = 0;
  return make_view_tensor(t.impl()->storage, sizes, st, t.storage_offset(), t.dtype());
}

// A 1-D index laid along `dim` of a tensor of `sizes` (stride 0 elsewhere).
Tensor index_along(const Tensor& index, const Shape& sizes, int64_t dim) {
  Shape st(sizes.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.stride(0);
  return make_view_tensor(index.impl()->storage, sizes, st, index.storage_offset(), index.dtype());
}

inline int64_t checked_index(int64_t i, int64_t size, const char* op, int64_t dim) {
  NABLA_CHECK(i >= 0 && i < size, "{}: index {} is out of bounds for dim {} with size {}", op, i, dim, size);
  return i;
}

// dst[.. index ..] (+)= src[..]: iterates over `shape` with dst restrided along dim.
template <class T, bool kAccumulate>
void scatter_loop(const Tensor& dst, const Tensor& idx, const Tensor& src, int64_t dim, const char* op) {
  const Shape& shape = idx.sizes();
  Tensor d = restride(dst, shape, dim);
  const int64_t size = dst.size(dim), dstride = dst.stride(dim) * static_cast<int64_t>(sizeof(T));
  const std::array<Tensor, 2> ins{idx, src};
  const ElementwiseGeometry g = make_elementwise_geometry(d, std::span<const Tensor>(ins.data(), ins.size()));
  for_each_run(g, [&](char** p, const int64_t* s, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t k = checked_index(*reinterpret_cast<const int64_t*>(p[1] + i * s[1]), size, op, dim);
      T& target = *reinterpret_cast<T*>(p[0] + i * s[0] + k * dstride);
      const T v = *reinterpret_cast<const T*>(p[2] + i * s[2]);
      if constexpr (kAccumulate) target = cvt<T>(cvt<compute_t<T>>(target) + cvt<compute_t<T>>(v));
      else target = v;
    }
  }, /*parallel=*/!kAccumulate);
}

void copy_into(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), "copy", [&]<class T>() { cpu_map<T, T>(dst, {src}, [](compute_t<T> x) { return x; }); });
}

// out = x[.. idx ..] along dim, where `idx` is laid over out's shape; the shared loop of
// gather and index_select.
void take_along(const Tensor& out, const Tensor& x, const Tensor& idx, int64_t dim, const char* op) {
  if (out.numel() == 0) return;
  visit_dtype(x.dtype(), op, [&]<class T>() {
    const Tensor xs = restride(x, out.sizes(), dim);
    const int64_t size = x.size(dim), xstride = x.stride(dim) * static_cast<int64_t>(sizeof(T));
    const std::array<Tensor, 2> ins{idx, xs};
    const ElementwiseGeometry g = make_elementwise_geometry(out, std::span<const Tensor>(ins.data(), ins.size()));
    for_each_run(g, [&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k = checked_index(*reinterpret_cast<const int64_t*>(p[1] + i * s[1]), size, op, dim);
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const T*>(p[2] + i * s[2] + k * xstride);
      }
    });
  });
}

}  // namespace

// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim; out has index's shape.
void gather_kernel(const KernelCall& c) { take_along(c.out[0], c.in[0], c.in[1], c.p.dim, "gather"); }

// out = x; out[..., index[..., j, ...], ...] += src[..., j, ...]
void scatter_add_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &index = c.in[1], &src = c.in[2], &out = c.out[0];
  copy_into(out, x);
  if (index.numel() == 0) return;
  visit_numeric(x.dtype(), "scatter_add", [&]<class T>() {
    Tensor s = make_view_tensor(src.impl()->storage, index.sizes(), src.strides(), src.storage_offset(), src.dtype());
    scatter_loop<T, true>(out, index, s, c.p.dim, "scatter_add");
  });
}

// out[..., j, ...] = x[..., index[j], ...]
void index_select_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  take_along(out, c.in[0], index_along(c.in[1], out.sizes(), c.p.dim), c.p.dim, "index_select");
}

// out = x; out[..., index[j], ...] += source[..., j, ...]
void index_add_kernel(const KernelCall& c) {
  const Tensor &x = c.in[0], &index = c.in[1], &source = c.in[2], &out = c.out[0];
  copy_into(out, x);
  if (source.numel() == 0) return;
  visit_numeric(x.dtype(), "index_add", [&]<class T>() {
    Tensor is = index_along(index, source.sizes(), c.p.dim);
    // scatter_loop iterates over the index's shape: here the source's shape
    scatter_loop<T, true>(out, is, source, c.p.dim, "index_add");
  });
}

void cat_kernel(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const int64_t dim = c.p.dim;
  int64_t at = 0;
  for (const Tensor& t : c.in) {
    if (t.numel() == 0 && t.dim() == 1 && out.dim() != 1) continue;  // legacy empty [0] tensors
    Shape st = out.strides();
    const int64_t off = out.storage_offset() + at * out.stride(dim);
    Tensor dst = make_view_tensor(out.impl()->storage, t.sizes(), st, off, out.dtype());
    copy_into(dst, t);
    at += t.size(dim);
  }
}

void one_hot_kernel(const KernelCall& c) {
  const Tensor &idx = c.in[0], &out = c.out[0];
  const int64_t classes = out.size(-1);
  int64_t* o = out.data_ptr<int64_t>();
  std::fill(o, o + out.numel(), int64_t{0});
  const std::vector<int64_t> v = idx.to_vector<int64_t>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    NABLA_CHECK(v[i] >= 0 && v[i] < classes, "one_hot: class index {} is out of range [0, {})", v[i], classes);
    o[static_cast<int64_t>(i) * classes + v[i]] = 1;
  }
}

}  // namespace nabla::cpu

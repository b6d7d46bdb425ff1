// Reference CPU indexing kernels: gather, scatter_add, index_select, index_add, cat, one_hot.
//
// The operands come from tensor/index_views.h (shared with the CUDA kernels): each kernel walks
// an elementwise geometry in which the indexed tensor has stride 0 along its indexed dim, so the
// loop yields, per element, the address of the slice's start, and the kernel adds
// index * stride(dim). Adds run in order on one thread so that additions into the same element
// happen in a fixed order.
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "tensor/index_views.h"

namespace nabla::cpu {
namespace {

inline int64_t checked_index(int64_t i, int64_t size, const char* op, int64_t dim) {
  NABLA_CHECK(i >= 0 && i < size, "{}: index {} is out of bounds for dim {} with size {}", op, i, dim, size);
  return i;
}

void copy_into(const Tensor& dst, const Tensor& src) {
  visit_dtype(dst.dtype(), "copy",
              [&]<class T>() { cpu_map<T, T>(dst, {src}, [](compute_t<T> x) { return x; }); });
}

// gather, index_select
void take_along(const KernelCall& c) {
  const TakeOperands t = take_operands(c);
  if (t.out.numel() == 0) return;
  visit_dtype(t.x.dtype(), t.name, [&]<class T>() {
    const int64_t xstride = t.stride * static_cast<int64_t>(sizeof(T));
    const std::array<Tensor, 2> ins{t.index, t.x};
    const ElementwiseGeometry g =
        make_elementwise_geometry(t.out, std::span<const Tensor>(ins.data(), ins.size()));
    for_each_run(g, [&](char** p, const int64_t* s, int64_t n) {
      for (int64_t i = 0; i < n; ++i) {
        const int64_t k =
            checked_index(*reinterpret_cast<const int64_t*>(p[1] + i * s[1]), t.size, t.name, t.dim);
        *reinterpret_cast<T*>(p[0] + i * s[0]) = *reinterpret_cast<const T*>(p[2] + i * s[2] + k * xstride);
      }
    });
  });
}

// scatter_add, index_add: iterates over the index's shape with out restrided along dim, in order.
void add_along(const KernelCall& c) {
  const AddOperands a = add_operands(c);
  copy_into(a.out, c.in[0]);
  if (a.index.numel() == 0) return;
  visit_numeric(a.out.dtype(), a.name, [&]<class T>() {
    const Tensor d = restride(a.out, a.index.sizes(), a.dim);
    const int64_t size = a.out.size(a.dim), dstride = a.out.stride(a.dim) * static_cast<int64_t>(sizeof(T));
    const std::array<Tensor, 2> ins{a.index, a.src};
    const ElementwiseGeometry g =
        make_elementwise_geometry(d, std::span<const Tensor>(ins.data(), ins.size()));
    for_each_run(
        g,
        [&](char** p, const int64_t* s, int64_t n) {
          for (int64_t i = 0; i < n; ++i) {
            const int64_t k =
                checked_index(*reinterpret_cast<const int64_t*>(p[1] + i * s[1]), size, a.name, a.dim);
            T& target = *reinterpret_cast<T*>(p[0] + i * s[0] + k * dstride);
            const T v = *reinterpret_cast<const T*>(p[2] + i * s[2]);
            target = cvt<T>(cvt<compute_t<T>>(target) + cvt<compute_t<T>>(v));
          }
        },
        /*parallel=*/false);
  });
}

}  // namespace

// out[..., j, ...] = x[..., index[..., j, ...], ...] along dim; out has index's shape.
void gather_kernel(const KernelCall& c) { take_along(c); }

// out[..., j, ...] = x[..., index[j], ...]
void index_select_kernel(const KernelCall& c) { take_along(c); }

// out = x; out[..., index[..., j, ...], ...] += src[..., j, ...]
void scatter_add_kernel(const KernelCall& c) { add_along(c); }

// out = x; out[..., index[j], ...] += source[..., j, ...]
void index_add_kernel(const KernelCall& c) { add_along(c); }

void cat_kernel(const KernelCall& c) {
  for (const CatSlice& s : cat_slices(c)) copy_into(s.dst, *s.src);
}

void one_hot_kernel(const KernelCall& c) {
  const Tensor &idx = c.in[0], &out = c.out[0];
  const int64_t classes = out.size(-1);
  int64_t* o = out.data_ptr<int64_t>();
  std::fill(o, o + out.numel(), int64_t{0});
  const std::vector<int64_t> v = idx.to_vector<int64_t>();
  for (std::size_t i = 0; i < v.size(); ++i) {
    NABLA_CHECK(v[i] >= 0 && v[i] < classes, "one_hot: class index {} is out of range [0, {})", v[i],
                classes);
    o[static_cast<int64_t>(i) * classes + v[i]] = 1;
  }
}

}  // namespace nabla::cpu

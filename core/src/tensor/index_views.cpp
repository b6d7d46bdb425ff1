// The index family's operand views (tensor/index_views.h), shared by the CPU and CUDA kernels.
#include "tensor/index_views.h"

#include "ops/params_index.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// A 1-D index laid along `dim` of a tensor of `sizes` (stride 0 elsewhere).
Tensor index_along(const Tensor& index, const Shape& sizes, int64_t dim) {
  Shape st(sizes.size(), 0);
  st[dim] = index.dim() == 0 ? 0 : index.stride(0);
  return make_view_tensor(index.impl()->storage, sizes, st, index.storage_offset(), index.dtype());
}

}  // namespace

Tensor restride(const Tensor& t, const Shape& sizes, int64_t dim) {
  Shape st = t.strides();
  st.resize(sizes.size(), 0);
  st[dim] = 0;
  return make_view_tensor(t.impl()->storage, sizes, st, t.storage_offset(), t.dtype());
}

Tensor with_sizes(const Tensor& t, const Shape& sizes) {
  return make_view_tensor(t.impl()->storage, sizes, t.strides(), t.storage_offset(), t.dtype());
}

TakeOperands take_operands(const KernelCall& c) {
  TakeOperands t;
  const Tensor& x = c.in[0];
  t.out = c.out[0];
  t.dim = IndexParams::from(c.p).dim;
  t.index = c.op == Op::index_select ? index_along(c.in[1], t.out.sizes(), t.dim) : c.in[1];
  t.x = restride(x, t.out.sizes(), t.dim);
  t.size = x.size(t.dim);
  t.stride = x.stride(t.dim);
  t.name = op_name(c.op).data();
  return t;
}

AddOperands add_operands(const KernelCall& c) {
  AddOperands a;
  a.out = c.out[0];
  a.dim = IndexParams::from(c.p).dim;
  const Tensor &index = c.in[1], &src = c.in[2];
  if (c.op == Op::index_add) {
    a.index = index_along(index, src.sizes(), a.dim);
    a.src = src;
  } else {
    a.index = index;
    a.src = with_sizes(src, index.sizes());
  }
  a.name = op_name(c.op).data();
  return a;
}

std::vector<CatSlice> cat_slices(const KernelCall& c) {
  const Tensor& out = c.out[0];
  const int64_t dim = IndexParams::from(c.p).dim;
  std::vector<CatSlice> slices;
  int64_t at = 0;
  for (const Tensor& t : c.in) {
    if (t.numel() == 0 && t.dim() == 1 && out.dim() != 1) continue;  // legacy empty [0] tensors
    const int64_t off = out.storage_offset() + at * out.stride(dim);
    slices.push_back({make_view_tensor(out.impl()->storage, t.sizes(), out.strides(), off, out.dtype()), &t});
    at += t.size(dim);
  }
  return slices;
}

}  // namespace nabla

// Builds ElementwiseGeometry (broadcast strides) and ReduceGeometry (kept and reduced dims):
// both drop size-1 dims and merge adjacent dims through the one merge_dims below.
#include "tensor/iter.h"

#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// Merges each dim into the one before it where every stride list is linear across the pair
// (stride[d - 1] == stride[d] * size[d]), which keeps the row-major order of the elements.
void merge_dims(Shape& sizes, std::span<Shape> strides) {
  if (sizes.empty()) return;
  std::size_t w = 0;
  for (std::size_t d = 1; d < sizes.size(); ++d) {
    bool merge = true;
    for (const Shape& st : strides) merge = merge && st[w] == st[d] * sizes[d];
    if (merge) {
      sizes[w] *= sizes[d];
    } else {
      ++w;
      sizes[w] = sizes[d];
    }
    for (Shape& st : strides) st[w] = st[d];
  }
  sizes.resize(w + 1);
  for (Shape& st : strides) st.resize(w + 1);
}

// A geometry with no dim left walks one element.
void at_least_one_dim(Shape& sizes, std::span<Shape> strides) {
  if (!sizes.empty()) return;
  sizes.push_back(1);
  for (Shape& st : strides) st.push_back(0);
}

}  // namespace

ElementwiseGeometry make_elementwise_geometry(const Tensor& out, std::span<const Tensor> inputs) {
  ElementwiseGeometry g;
  g.nops = 1 + static_cast<int>(inputs.size());
  NABLA_INTERNAL_ASSERT(g.nops <= kMaxOperands, "too many operands: {}", g.nops);
  const Shape& os = out.sizes();
  const int64_t nd = static_cast<int64_t>(os.size());
  g.numel = out.numel();
  std::array<const Tensor*, kMaxOperands> ops{};
  ops[0] = &out;
  for (std::size_t i = 0; i < inputs.size(); ++i) ops[i + 1] = &inputs[i];

  std::array<Shape, kMaxOperands> full;
  for (int k = 0; k < g.nops; ++k) {
    const Tensor& t = *ops[k];
    full[k].assign(nd, 0);
    const int64_t td = t.dim();
    NABLA_INTERNAL_ASSERT(td <= nd, "operand {} has more dims than the output", k);
    for (int64_t d = 0; d < td; ++d) {
      const int64_t od = nd - td + d;
      const int64_t sz = t.sizes()[d];
      NABLA_INTERNAL_ASSERT(sz == os[od] || sz == 1, "operand {} does not broadcast to {}", k,
                            shape_to_string(os));
      full[k][od] = sz == 1 ? 0 : t.strides()[d];
    }
    g.data[k] = static_cast<char*>(t.impl()->data());
    g.elsize[k] = static_cast<int64_t>(element_size(t.dtype()));
  }
  for (int64_t d = 0; d < nd; ++d) {
    if (os[d] == 1) continue;
    g.shape.push_back(os[d]);
    for (int k = 0; k < g.nops; ++k) g.strides[k].push_back(full[k][d]);
  }
  const std::span<Shape> strides(g.strides.data(), static_cast<std::size_t>(g.nops));
  merge_dims(g.shape, strides);
  at_least_one_dim(g.shape, strides);
  return g;
}

ReduceGeometry make_reduce_geometry(const Tensor& x, std::span<const int64_t> dims, bool merge_reduced) {
  ReduceGeometry g;
  std::vector<bool> reduced(static_cast<std::size_t>(x.dim()), false);
  for (int64_t d : dims) reduced[static_cast<std::size_t>(d)] = true;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const int64_t s = x.sizes()[d];
    const bool r = reduced[static_cast<std::size_t>(d)];
    (r ? g.k : g.m) *= s;
    if (s == 1) continue;
    (r ? g.inner_sizes : g.outer_sizes).push_back(s);
    (r ? g.inner_strides : g.outer_strides).push_back(x.strides()[d]);
  }
  merge_dims(g.outer_sizes, std::span<Shape>(&g.outer_strides, 1));
  if (merge_reduced) merge_dims(g.inner_sizes, std::span<Shape>(&g.inner_strides, 1));
  at_least_one_dim(g.inner_sizes, std::span<Shape>(&g.inner_strides, 1));
  return g;
}

}  // namespace nabla

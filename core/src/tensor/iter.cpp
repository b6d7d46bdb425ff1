// Builds ElementwiseGeometry: broadcast strides, dropping size-1 dims, merging dims.
#include "tensor/iter.h"

#include "tensor/tensor_impl.h"

namespace nabla {

bool ElementwiseGeometry::is_flat() const { return shape.size() == 1; }

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
      NABLA_INTERNAL_ASSERT(sz == os[od] || sz == 1, "operand {} does not broadcast to {}", k, shape_to_string(os));
      full[k][od] = sz == 1 ? 0 : t.strides()[d];
    }
    g.data[k] = static_cast<char*>(t.impl()->data());
    g.elsize[k] = static_cast<int64_t>(element_size(t.dtype()));
  }
  // Drop size-1 dims, then merge dim d into d+1 when every operand is linear across both.
  Shape shape;
  std::array<Shape, kMaxOperands> st;
  for (int64_t d = 0; d < nd; ++d) {
    if (os[d] == 1) continue;
    shape.push_back(os[d]);
    for (int k = 0; k < g.nops; ++k) st[k].push_back(full[k][d]);
  }
  Shape ms;
  std::array<Shape, kMaxOperands> mst;
  for (std::size_t d = 0; d < shape.size(); ++d) {
    if (!ms.empty()) {
      bool merge = true;
      for (int k = 0; k < g.nops && merge; ++k) merge = mst[k].back() == st[k][d] * shape[d];
      if (merge) {
        ms.back() *= shape[d];
        for (int k = 0; k < g.nops; ++k) mst[k].back() = st[k][d];
        continue;
      }
    }
    ms.push_back(shape[d]);
    for (int k = 0; k < g.nops; ++k) mst[k].push_back(st[k][d]);
  }
  if (ms.empty()) {
    ms.push_back(1);
    for (int k = 0; k < g.nops; ++k) mst[k].push_back(0);
  }
  g.shape = std::move(ms);
  for (int k = 0; k < g.nops; ++k) g.strides[k] = std::move(mst[k]);
  return g;
}

}  // namespace nabla

// Advanced (tensor) indexing: index (x[idx0, idx1, ...] with integer or bool index tensors) and
// index_put / index_put_ (x[idx0, idx1, ...] = values), with NumPy's and PyTorch's rules.
//
// Both are composites of index_select, index_add and where rather than ops.def primitives: the
// tensor indices are linearised into one row index over the indexed dims (flattened into one),
// so every case becomes a single index_select or index_add along dim 0. That way autograd (the
// backward formulas of those primitives) and the CUDA backend (their kernels) come for free, and
// there is no second scatter kernel to keep in step with index_add's. The price is that the
// linear index is built on the host: the index values are copied out once (a synchronisation on
// a GPU, as PyTorch's own bounds checks and bool masks need), which also lets the bounds error
// name the offending value and dim and gives accumulate=false a deterministic rule for
// duplicate indices.
#include <algorithm>
#include <numeric>

#include "nabla/factories.h"
#include "ops/op_helpers.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// What an index list selects: x's indexed dims moved to the front and flattened into one
// (`rows`: [N, rest...]), the row each index element picks (`linear`, int64 [M] on x's device,
// and the same values on the host), and where the broadcast index dims go in the result.
struct IndexPlan {
  Shape perm;                   // x's dims, indexed ones first
  Shape permuted;               // x.permute(perm).sizes()
  Tensor rows;                  // x.permute(perm).reshape([N, rest...])
  Shape index_shape;            // the broadcast shape of the index tensors
  Shape rest;                   // sizes of the dims not indexed, in order
  int64_t position = 0;         // dim of the result where index_shape starts
  int64_t num_rows = 1;         // N
  std::vector<int64_t> linear;  // M row numbers, on the host
  Tensor linear_tensor;         // the same, int64 on x's device
  Shape result_shape() const {  // x[indices].sizes()
    Shape r(rest.begin(), rest.begin() + position);
    r.insert(r.end(), index_shape.begin(), index_shape.end());
    r.insert(r.end(), rest.begin() + position, rest.end());
    return r;
  }
};

// The coordinates of a bool mask's true elements, one int64 tensor per mask dim (nonzero, on
// the host: the count is data).
std::vector<Tensor> mask_coordinates(const Tensor& mask) {
  const std::vector<uint8_t> m = mask.to(kUInt8).to_vector<uint8_t>();
  const int64_t nd = mask.dim();
  std::vector<std::vector<int64_t>> coords(static_cast<std::size_t>(nd));
  std::vector<int64_t> at(static_cast<std::size_t>(nd), 0);
  for (uint8_t v : m) {
    if (v != 0) {
      for (int64_t d = 0; d < nd; ++d) coords[d].push_back(at[d]);
    }
    for (int64_t d = nd - 1; d >= 0; --d) {  // next row-major coordinate
      if (++at[d] < mask.size(d)) break;
      at[d] = 0;
    }
  }
  std::vector<Tensor> r;
  for (auto& c : coords) r.push_back(from_vector(c));
  return r;
}

IndexPlan plan_index(const Tensor& x, const std::vector<Tensor>& indices, std::string_view op) {
  check_defined(x, op);
  // Bool masks stand for the coordinates of their true elements, one index per dim they cover.
  int64_t covered = 0;
  for (const Tensor& t : indices) {
    covered += t.defined() && (t.dtype() == kBool || t.dtype() == kUInt8) ? t.dim() : 1;
  }
  NABLA_CHECK(covered <= x.dim(), "{}: too many indices for a tensor of {} dims ({} given, covering {} dims)",
              op, x.dim(), indices.size(), covered);
  std::vector<Tensor> per_dim;  // one entry per leading dim of x; undefined: the whole dim
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const Tensor& t = indices[i];
    if (!t.defined()) {
      per_dim.emplace_back();
      continue;
    }
    const ScalarType dt = t.dtype();
    NABLA_CHECK(dt == kInt64 || dt == kInt32 || dt == kBool || dt == kUInt8,
                "{}: index {} has dtype {}; indices must be int64, int32 or bool (mask) tensors", op, i,
                dtype_name(dt));
    if (dt == kInt64 || dt == kInt32) {
      per_dim.push_back(t);
      continue;
    }
    // (Python's x[True] adds a dim first, then indexes it with a 1-D mask: the binding's job.)
    NABLA_CHECK(t.dim() > 0, "{}: index {} is a 0-dim bool tensor; a mask needs at least one dim", op, i);
    const Tensor& mask = t;
    const auto first = static_cast<int64_t>(per_dim.size());
    for (int64_t d = 0; d < mask.dim(); ++d) {
      NABLA_CHECK(
          mask.size(d) == x.size(first + d),
          "{}: the mask of shape {} (index {}) does not match the indexed tensor of shape {} at dim {}", op,
          mask.shape_str(), i, x.shape_str(), first + d);
    }
    for (Tensor& c : mask_coordinates(mask)) per_dim.push_back(std::move(c));
  }
  IndexPlan p;
  std::vector<int64_t> indexed, others;
  for (int64_t d = 0; d < x.dim(); ++d) {
    const bool has = d < static_cast<int64_t>(per_dim.size()) && per_dim[d].defined();
    (has ? indexed : others).push_back(d);
    if (has) p.index_shape = broadcast_shapes(p.index_shape, per_dim[d].sizes(), op);
  }
  // NumPy's rule: index dims next to each other keep their place; separated ones go first.
  const bool adjacent =
      indexed.empty() || indexed.back() - indexed.front() + 1 == static_cast<int64_t>(indexed.size());
  p.position = adjacent && !indexed.empty() ? indexed.front() : 0;
  p.perm = indexed;
  p.perm.insert(p.perm.end(), others.begin(), others.end());
  for (int64_t d : indexed) p.num_rows *= x.size(d);
  for (int64_t d : others) p.rest.push_back(x.size(d));
  const Tensor xp = x.permute(p.perm);
  p.permuted = xp.sizes();
  Shape rows_shape{p.num_rows};
  rows_shape.insert(rows_shape.end(), p.rest.begin(), p.rest.end());
  p.rows = xp.reshape(rows_shape);

  const int64_t m = checked_numel(p.index_shape, op);
  p.linear.assign(static_cast<std::size_t>(m), 0);
  int64_t row_stride = 1;  // row-major over the indexed dims, from the last (a size may be 0)
  for (auto it = indexed.rbegin(); it != indexed.rend(); row_stride *= x.size(*it), ++it) {
    const int64_t d = *it, size = x.size(d);
    const std::vector<int64_t> v = per_dim[d].expand(p.index_shape).to_vector<int64_t>();
    for (std::size_t j = 0; j < v.size(); ++j) {
      NABLA_CHECK(v[j] >= -size && v[j] < size, "{}: index {} is out of bounds for dim {} with size {}", op,
                  v[j], d, size);
      p.linear[j] += (v[j] < 0 ? v[j] + size : v[j]) * row_stride;
    }
  }
  p.linear_tensor = from_vector(p.linear, TensorOptions(kInt64).device(x.device()));
  return p;
}

// The permutation that undoes `perm`.
Shape inverse(const Shape& perm) {
  Shape inv(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    inv[static_cast<std::size_t>(perm[i])] = static_cast<int64_t>(i);
  return inv;
}

// [M, rest...] rows laid out as x[indices]: index dims, then moved to `position`.
Tensor rows_to_result(const IndexPlan& p, const Tensor& r) {
  Shape shape = p.index_shape;
  shape.insert(shape.end(), p.rest.begin(), p.rest.end());
  const Tensor v = r.reshape(shape);
  if (p.position == 0) return v;
  const auto nb = static_cast<int64_t>(p.index_shape.size());
  Shape perm;
  for (int64_t i = 0; i < p.position; ++i) perm.push_back(nb + i);
  for (int64_t i = 0; i < nb; ++i) perm.push_back(i);
  for (int64_t i = nb + p.position; i < v.dim(); ++i) perm.push_back(i);
  return v.permute(perm);
}

// The adjoint layout: values shaped as x[indices] -> [M, rest...].
Tensor result_to_rows(const IndexPlan& p, const Tensor& v) {
  Tensor r = v;
  if (p.position != 0) {
    const auto nb = static_cast<int64_t>(p.index_shape.size());
    Shape perm;
    for (int64_t i = 0; i < nb; ++i) perm.push_back(p.position + i);
    for (int64_t i = 0; i < p.position; ++i) perm.push_back(i);
    for (int64_t i = p.position + nb; i < v.dim(); ++i) perm.push_back(i);
    r = v.permute(perm);
  }
  Shape shape{static_cast<int64_t>(p.linear.size())};
  shape.insert(shape.end(), p.rest.begin(), p.rest.end());
  return r.reshape(shape);
}

}  // namespace

Tensor index(const Tensor& x, const std::vector<Tensor>& indices) {
  const IndexPlan p = plan_index(x, indices, "index");
  return rows_to_result(p, index_select(p.rows, 0, p.linear_tensor));
}

Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  check_defined(values, "index_put", "values");
  IndexPlan p = plan_index(x, indices, "index_put");
  NABLA_CHECK(values.dtype() == x.dtype(), "index_put: values of dtype {} differ from the tensor's dtype {}",
              dtype_name(values.dtype()), dtype_name(x.dtype()));
  NABLA_CHECK(values.device() == x.device(), "index_put: values on {} but the tensor is on {}",
              values.device().str(), x.device().str());
  const Shape target = p.result_shape();
  bool fits = values.dim() <= static_cast<int64_t>(target.size());
  for (int64_t i = 1; fits && i <= values.dim(); ++i) {
    const int64_t have = values.size(-i), want = target[target.size() - static_cast<std::size_t>(i)];
    fits = have == want || have == 1;
  }
  NABLA_CHECK(fits, "index_put: values of shape {} cannot be broadcast to the indexed shape {}",
              values.shape_str(), shape_to_string(target));
  if (p.linear.empty()) return x.clone();
  const Tensor v = result_to_rows(p, values.expand(target));
  Tensor out_rows;
  if (accumulate) {
    out_rows = index_add(p.rows, 0, p.linear_tensor, v);
  } else {
    // Duplicate indices: the last write wins (the highest position in the broadcast index, in
    // row-major order), as a sequential loop of assignments would leave it. PyTorch leaves the
    // winner undefined; a fixed rule keeps CPU and CUDA results, and gradients, identical.
    // Each row of x reads its winner's value row (a gather, whose backward sends each
    // winner's gradient back to it alone), and rows not written keep x's.
    std::vector<int64_t> winner(static_cast<std::size_t>(p.num_rows), 0);
    std::vector<bool> written(static_cast<std::size_t>(p.num_rows), false);
    for (std::size_t j = 0; j < p.linear.size(); ++j) {
      winner[static_cast<std::size_t>(p.linear[j])] = static_cast<int64_t>(j);
      written[static_cast<std::size_t>(p.linear[j])] = true;
    }
    Shape mask_shape(p.rest.size() + 1, 1);
    mask_shape[0] = p.num_rows;
    const Tensor mask = from_vector(written, mask_shape, TensorOptions(kBool).device(x.device()));
    const Tensor picked = index_select(v, 0, from_vector(winner, TensorOptions(kInt64).device(x.device())));
    out_rows = where(mask, picked, p.rows);
  }
  return out_rows.reshape(p.permuted).permute(inverse(p.perm));
}

Tensor Tensor::index_put(const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) const {
  return nabla::index_put(*this, indices, values, accumulate);
}

Tensor& Tensor::index_put_(const std::vector<Tensor>& indices, const Tensor& values, bool accumulate) {
  const bool ag = inplace_needs_autograd(*this, {&values});
  check_inplace(*this, "index_put_", ag);
  return commit_inplace(*this, nabla::index_put(*this, indices, values, accumulate), "index_put_");
}

}  // namespace nabla

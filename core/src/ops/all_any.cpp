// all and any (libtorch's Tensor::all / any): composites of ne and sum rather than ops.def
// primitives, so both backends run them with no kernel of their own. A bool result never
// carries a gradient, so there is no backward either. NaN is nonzero, hence true, as in PyTorch.
#include "nabla/ops.h"
#include "ops/op_helpers.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

// The number of nonzero elements, over every element or along dim.
Tensor count_nonzero(const Tensor& x, const char* op) {
  check_defined(x, op);
  return sum(ne(x, 0));
}
Tensor count_nonzero(const Tensor& x, int64_t dim, bool keepdim, const char* op) {
  check_defined(x, op);
  return sum(ne(x, 0), wrap_dim(dim, x.dim(), op), keepdim);
}
int64_t dim_size(const Tensor& x, int64_t dim, const char* op) {
  return x.dim() == 0 ? 1 : x.size(wrap_dim(dim, x.dim(), op));
}

// PyTorch's one exception: a uint8 input gives a uint8 result (its legacy bool type).
Tensor as_result(const Tensor& x, const Tensor& r) { return x.dtype() == kUInt8 ? r.to(kUInt8) : r; }

}  // namespace

Tensor Tensor::all() const { return as_result(*this, nabla::eq(count_nonzero(*this, "all"), numel())); }
Tensor Tensor::all(int64_t dim, bool keepdim) const {
  return as_result(*this, nabla::eq(count_nonzero(*this, dim, keepdim, "all"), dim_size(*this, dim, "all")));
}
Tensor Tensor::any() const { return as_result(*this, nabla::gt(count_nonzero(*this, "any"), 0)); }
Tensor Tensor::any(int64_t dim, bool keepdim) const {
  return as_result(*this, nabla::gt(count_nonzero(*this, dim, keepdim, "any"), 0));
}

}  // namespace nabla

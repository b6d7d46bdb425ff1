// Front ends of softmax and log_softmax (numerically stable, along one dim).
#include "ops/op_helpers.h"
#include "ops/params_softmax.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

Tensor softmax_like(Op op, const Tensor& x, int64_t dim) {
  const std::string_view name = op_name(op);
  check_defined(x, name);
  NABLA_CHECK(is_floating_point(x.dtype()), "{}: expected a floating-point input, got {}", name,
              dtype_name(x.dtype()));
  const int64_t d = wrap_dim(dim, x.dim(), name);
  if (x.dim() == 0) return softmax_like(op, x.view({1}), 0).view({});
  const Tensor xc = x.contiguous();
  return run_op(op, {xc}, make_tensor(xc.sizes(), xc.dtype(), xc.device(), name), SoftmaxParams{d}.params());
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_like(Op::softmax, x, dim); }
Tensor log_softmax(const Tensor& x, int64_t dim) { return softmax_like(Op::log_softmax, x, dim); }

}  // namespace nabla

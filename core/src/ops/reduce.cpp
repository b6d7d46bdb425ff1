// Front ends of the reduction family: dim lists, output dtypes (int64 sums of integers,
// float-only statistics), empty-input rules, and max/min with indices.
#include "nabla/factories.h"
#include "ops/op_helpers.h"
#include "ops/params_reduce.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

enum class Empty { Allowed, Error };

Tensor reduce(Op op, const Tensor& x, const IntList& dims_in, bool keepdim, ReduceParams p,
              ScalarType out_dtype, Empty empty = Empty::Allowed) {
  const std::string_view name = op_name(op);
  check_defined(x, name);
  const std::vector<int64_t> dims = reduction_dims(x, dims_in, name);
  if (empty == Empty::Error) {
    int64_t k = 1;
    for (int64_t d : dims) k *= x.size(d);
    NABLA_CHECK(x.numel() > 0 || !dims.empty(),
                "{}: cannot reduce an empty tensor (shape {}): the result has no identity", name,
                x.shape_str());
    NABLA_CHECK(k > 0, "{}: cannot reduce over a zero-size dim (input shape {}, dims {})", name,
                x.shape_str(), shape_to_string(dims));
  }
  p.dims = dims;
  Tensor out = make_tensor(reduced_shape(x.sizes(), dims, keepdim), out_dtype, x.device(), name);
  return run_op(op, {x}, out, p.params());
}

ScalarType sum_dtype(ScalarType t) { return is_integral(t, true) ? kInt64 : t; }

ScalarType float_input(const Tensor& x, std::string_view op) {
  check_defined(x, op);
  NABLA_CHECK(is_floating_point(x.dtype()),
              "{}: expected a floating-point input, got {} (convert with .to(nabla::kFloat32))", op,
              dtype_name(x.dtype()));
  return x.dtype();
}

const IntList kAll = std::vector<int64_t>{};

ReduceParams correction(bool unbiased) {
  ReduceParams p;
  p.correction = unbiased ? 1 : 0;
  return p;
}

}  // namespace

Tensor sum(const Tensor& x) { return sum(x, kAll, false); }
Tensor sum(const Tensor& x, IntList dims, bool keepdim) {
  check_defined(x, "sum");
  return reduce(Op::sum, x, dims, keepdim, {}, sum_dtype(x.dtype()));
}
Tensor mean(const Tensor& x) { return mean(x, kAll, false); }
Tensor mean(const Tensor& x, IntList dims, bool keepdim) {
  return reduce(Op::mean, x, dims, keepdim, {}, float_input(x, "mean"));
}
Tensor prod(const Tensor& x) { return prod(x, kAll, false); }
Tensor prod(const Tensor& x, IntList dims, bool keepdim) {
  check_defined(x, "prod");
  return reduce(Op::prod, x, dims, keepdim, {}, sum_dtype(x.dtype()));
}

namespace {
Tensor extremum(Op op, const Tensor& x, const IntList& dims, bool keepdim) {
  check_defined(x, op_name(op));
  NABLA_CHECK(x.dtype() != kBool, "{}: not supported for bool tensors", op_name(op));
  return reduce(op, x, dims, keepdim, {}, x.dtype(), Empty::Error);
}
Tensor arg_extremum(Op op, const Tensor& x, const IntList& dims, bool keepdim) {
  check_defined(x, op_name(op));
  NABLA_CHECK(x.dtype() != kBool, "{}: not supported for bool tensors", op_name(op));
  return reduce(op, x, dims, keepdim, {}, kInt64, Empty::Error);
}
std::tuple<Tensor, Tensor> extremum_dim(Op arg, const Tensor& x, int64_t dim, bool keepdim) {
  check_defined(x, arg == Op::argmax ? "max" : "min");
  Tensor idx = arg_extremum(arg, x, dim, /*keepdim=*/true);
  const int64_t d = wrap_dim(dim, x.dim(), op_name(arg));
  if (x.dim() == 0) return {x.clone(), idx};
  Tensor values = gather(x, d, idx);
  if (!keepdim) return {values.squeeze(d), idx.squeeze(d)};
  return {values, idx};
}
}  // namespace

Tensor amax(const Tensor& x, IntList dims, bool keepdim) { return extremum(Op::amax, x, dims, keepdim); }
Tensor amin(const Tensor& x, IntList dims, bool keepdim) { return extremum(Op::amin, x, dims, keepdim); }
Tensor max(const Tensor& x) { return extremum(Op::amax, x, kAll, false); }
Tensor min(const Tensor& x) { return extremum(Op::amin, x, kAll, false); }
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(Op::argmax, x, dim, keepdim);
}
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return extremum_dim(Op::argmin, x, dim, keepdim);
}
Tensor argmax(const Tensor& x) { return arg_extremum(Op::argmax, x, kAll, false); }
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extremum(Op::argmax, x, dim, keepdim);
}
Tensor argmin(const Tensor& x) { return arg_extremum(Op::argmin, x, kAll, false); }
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_extremum(Op::argmin, x, dim, keepdim);
}

Tensor var(const Tensor& x, IntList dims, bool unbiased, bool keepdim) {
  return reduce(Op::var, x, dims, keepdim, correction(unbiased), float_input(x, "var"));
}
Tensor std(const Tensor& x, IntList dims, bool unbiased, bool keepdim) {
  return reduce(Op::std, x, dims, keepdim, correction(unbiased), float_input(x, "std"));
}

Tensor logsumexp(const Tensor& x, IntList dims, bool keepdim) {
  check_defined(x, "logsumexp");
  const Tensor xf = is_floating_point(x.dtype()) ? x : x.to(default_dtype());
  return reduce(Op::logsumexp, xf, dims, keepdim, {}, xf.dtype());
}

Tensor norm(const Tensor& x, double p) { return norm(x, p, kAll, false); }
Tensor norm(const Tensor& x, double p, IntList dims, bool keepdim) {
  NABLA_CHECK(p >= 0.0, "norm: p must be non-negative (or INFINITY), got {}", p);
  ReduceParams params;
  params.p = p;
  return reduce(Op::norm, x, dims, keepdim, params, float_input(x, "norm"));
}

}  // namespace nabla

// Front ends of the binary family: broadcasting, type promotion (numbers are weaker than
// tensors), true division, comparisons, where/masked_fill, sum_to_size, and in-place forms.
#include <algorithm>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "ops/op_helpers.h"
#include "ops/params_binary.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

bool is_comparison(Op op) {
  return op == Op::eq || op == Op::ne || op == Op::lt || op == Op::le || op == Op::gt || op == Op::ge;
}

struct BinaryPlan {
  ScalarType compute;  // dtype both inputs are converted to
  ScalarType out;      // result dtype
  bool bool_via_uint8 = false;
};

BinaryPlan plan_binary(Op op, ScalarType rt) {
  const std::string_view name = op_name(op);
  if (is_comparison(op)) return {rt, kBool};
  if (op == Op::div && !is_floating_point(rt)) return {default_dtype(), default_dtype()};  // true division
  if (rt == kBool) {
    NABLA_CHECK(op != Op::sub, "sub: subtracting bool tensors is not supported; use logical ops or ne()");
    NABLA_CHECK(op != Op::pow, "pow: not supported for bool tensors");
    return {kUInt8, kBool, true};
  }
  (void)name;
  return {rt, rt};
}

Device pick_device(const Tensor& a, const Tensor& b) {
  if (a.dim() == 0 && a.device().is_cpu()) return b.device();
  return a.device();
}

Tensor to_dtype(const Tensor& t, ScalarType dt) { return t.dtype() == dt ? t : t.to(dt); }

// out (when given) must already have the broadcast shape and plan.out dtype.
Tensor binary(Op op, const Tensor& a, const Tensor& b, const OpParams& p, Tensor out = Tensor()) {
  check_defined(a, op_name(op), "input 0");
  check_defined(b, op_name(op), "input 1");
  const BinaryPlan plan = plan_binary(op, result_type({TypeOperand::of(a), TypeOperand::of(b)}));
  const Shape shape = broadcast_shapes(a.sizes(), b.sizes(), op_name(op));
  if ((op == Op::add || op == Op::sub) && is_integral(plan.compute, true)) {
    NABLA_CHECK(!AlphaParams::from(p).alpha.is_floating_point(),
                "{}: alpha must not be a floating-point number for integer inputs", op_name(op));
  }
  const Tensor ac = to_dtype(a, plan.compute), bc = to_dtype(b, plan.compute);
  if (!out.defined()) {
    out = make_tensor(shape, plan.bool_via_uint8 ? kUInt8 : plan.out, pick_device(a, b), op_name(op));
  }
  run_op(op, {ac, bc}, out, p);
  return plan.bool_via_uint8 ? out.to(kBool) : out;
}

bool is_16bit(ScalarType t) { return t == kFloat16 || t == kBFloat16; }

Tensor binary_scalar(Op op, const Tensor& a, const Scalar& s, const OpParams& p) {
  check_defined(a, op_name(op));
  const BinaryPlan plan = plan_binary(op, result_type({TypeOperand::of(a), TypeOperand::of(s)}));
  if (is_16bit(plan.compute)) {
    // As PyTorch: 16-bit values meet a number in float32, so the number keeps its precision
    // (7e4 is inf in float16, 1e-8 is 0) and the result is rounded once, at the end.
    const Tensor r = binary(op, a.to(kFloat32), wrapped_scalar(s, kFloat32), p);
    return r.dtype() == kFloat32 ? r.to(plan.out) : r;
  }
  return binary(op, a, wrapped_scalar(s, plan.compute), p);
}

OpParams alpha_params(const Scalar& alpha) { return AlphaParams{alpha}.params(); }

// a op= b: directly into a when autograd is not involved and types/shapes/memory allow,
// otherwise out of place and committed.
Tensor& binary_inplace(Tensor& self, Op op, const Tensor& other, const OpParams& p, std::string_view name) {
  check_defined(other, name, "other");
  const bool ag = inplace_needs_autograd(self, {&other});
  check_inplace(self, name, ag);
  if (!ag) {
    const BinaryPlan plan = plan_binary(op, result_type({TypeOperand::of(self), TypeOperand::of(other)}));
    if (plan.out == self.dtype() && plan.compute == self.dtype() && !plan.bool_via_uint8 &&
        broadcast_shapes(self.sizes(), other.sizes(), name) == self.sizes() &&
        safe_to_write_over(self, other)) {
      run_op(op, {self, to_dtype(other, plan.compute)}, self, p);
      return self;
    }
  }
  // Under autograd the op reads a clone of self: mul/div save their inputs for backward, and
  // an alias of self would be overwritten by the commit (PyTorch's `original_self`).
  return commit_inplace(self, binary(op, ag ? self.clone() : self, other, p), name);
}

Tensor& binary_inplace_scalar(Tensor& self, Op op, const Scalar& s, const OpParams& p,
                              std::string_view name) {
  check_defined(self, name, "self");
  const BinaryPlan plan = plan_binary(op, result_type({TypeOperand::of(self), TypeOperand::of(s)}));
  if (is_16bit(plan.compute)) {
    const bool ag = inplace_needs_autograd(self, {});
    check_inplace(self, name, ag);
    return commit_inplace(self, binary_scalar(op, ag ? self.clone() : self, s, p), name);
  }
  return binary_inplace(self, op, wrapped_scalar(s, plan.compute), p, name);
}

}  // namespace

Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return binary(Op::add, a, b, alpha_params(alpha));
}
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return binary_scalar(Op::add, a, b, alpha_params(alpha));
}
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  return binary(Op::sub, a, b, alpha_params(alpha));
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  return binary_scalar(Op::sub, a, b, alpha_params(alpha));
}
Tensor mul(const Tensor& a, const Tensor& b) { return binary(Op::mul, a, b, {}); }
Tensor mul(const Tensor& a, const Scalar& b) { return binary_scalar(Op::mul, a, b, {}); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(Op::div, a, b, {}); }
Tensor div(const Tensor& a, const Scalar& b) { return binary_scalar(Op::div, a, b, {}); }
Tensor pow(const Tensor& a, const Tensor& b) { return binary(Op::pow, a, b, {}); }
Tensor pow(const Scalar& a, const Tensor& b) {
  check_defined(b, "pow");
  const BinaryPlan plan = plan_binary(Op::pow, result_type({TypeOperand::of(a), TypeOperand::of(b)}));
  if (is_16bit(plan.compute))
    return binary(Op::pow, wrapped_scalar(a, kFloat32), b.to(kFloat32), {}).to(plan.out);
  return binary(Op::pow, wrapped_scalar(a, plan.compute), b, {});
}
Tensor maximum(const Tensor& a, const Tensor& b) { return binary(Op::maximum, a, b, {}); }
Tensor minimum(const Tensor& a, const Tensor& b) { return binary(Op::minimum, a, b, {}); }
Tensor eq(const Tensor& a, const Tensor& b) { return binary(Op::eq, a, b, {}); }
Tensor ne(const Tensor& a, const Tensor& b) { return binary(Op::ne, a, b, {}); }
Tensor lt(const Tensor& a, const Tensor& b) { return binary(Op::lt, a, b, {}); }
Tensor le(const Tensor& a, const Tensor& b) { return binary(Op::le, a, b, {}); }
Tensor gt(const Tensor& a, const Tensor& b) { return binary(Op::gt, a, b, {}); }
Tensor ge(const Tensor& a, const Tensor& b) { return binary(Op::ge, a, b, {}); }
Tensor eq(const Tensor& a, const Scalar& b) { return binary_scalar(Op::eq, a, b, {}); }
Tensor ne(const Tensor& a, const Scalar& b) { return binary_scalar(Op::ne, a, b, {}); }
Tensor lt(const Tensor& a, const Scalar& b) { return binary_scalar(Op::lt, a, b, {}); }
Tensor le(const Tensor& a, const Scalar& b) { return binary_scalar(Op::le, a, b, {}); }
Tensor gt(const Tensor& a, const Scalar& b) { return binary_scalar(Op::gt, a, b, {}); }
Tensor ge(const Tensor& a, const Scalar& b) { return binary_scalar(Op::ge, a, b, {}); }

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  check_defined(cond, "where", "condition");
  check_defined(a, "where", "input");
  check_defined(b, "where", "other");
  NABLA_CHECK(cond.dtype() == kBool, "where: expected a bool condition, got {}", dtype_name(cond.dtype()));
  const ScalarType rt = result_type({TypeOperand::of(a), TypeOperand::of(b)});
  const Shape shape =
      broadcast_shapes(broadcast_shapes(cond.sizes(), a.sizes(), "where"), b.sizes(), "where");
  Device dev = a.dim() == 0 && a.device().is_cpu()
                   ? (b.dim() == 0 && b.device().is_cpu() ? cond.device() : b.device())
                   : a.device();
  Tensor out = make_tensor(shape, rt, dev, "where");
  const std::array<Tensor, 3> in{cond, to_dtype(a, rt), to_dtype(b, rt)};
  run_op(Op::where, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1));
  return out;
}

Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  check_defined(a, "where", "input");
  return where(cond, a, wrapped_scalar(b, result_type({TypeOperand::of(a), TypeOperand::of(b)})));
}

Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  check_defined(b, "where", "other");
  return where(cond, wrapped_scalar(a, result_type({TypeOperand::of(a), TypeOperand::of(b)})), b);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  check_defined(x, "masked_fill");
  check_defined(mask, "masked_fill", "mask");
  NABLA_CHECK(mask.dtype() == kBool, "masked_fill: expected a bool mask, got {}", dtype_name(mask.dtype()));
  NABLA_CHECK(!(is_integral(x.dtype(), true) && value.is_floating_point()),
              "masked_fill: cannot fill an {} tensor with the floating-point value {}", dtype_name(x.dtype()),
              value.str());
  const Shape shape = broadcast_shapes(x.sizes(), mask.sizes(), "masked_fill");
  NABLA_CHECK(shape == x.sizes(), "masked_fill: mask of shape {} does not broadcast to the input shape {}",
              mask.shape_str(), x.shape_str());
  return where(mask, wrapped_scalar(value, x.dtype()), x);
}

Tensor& Tensor::masked_fill_(const Tensor& mask, const Scalar& value) {
  const bool ag = inplace_needs_autograd(*this, {});
  check_inplace(*this, "masked_fill_", ag);
  return commit_inplace(*this, nabla::masked_fill(*this, mask, value), "masked_fill_");
}

Tensor sum_to_size(const Tensor& x, const Shape& shape) {
  check_defined(x, "sum_to_size");
  if (x.sizes() == shape) return x;
  const int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  NABLA_CHECK(lead >= 0, "sum_to_size: shape {} has more dims than the input {}", shape_to_string(shape),
              x.shape_str());
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < x.dim(); ++d) {
    if (d < lead) {
      dims.push_back(d);
      continue;
    }
    const int64_t want = shape[d - lead];
    NABLA_CHECK(want == x.size(d) || want == 1,
                "sum_to_size: the input of shape {} does not broadcast from {}", x.shape_str(),
                shape_to_string(shape));
    if (want == 1 && x.size(d) != 1) dims.push_back(d);
  }
  Tensor r = dims.empty() ? x : sum(x, dims, /*keepdim=*/true);
  return r.dim() == static_cast<int64_t>(shape.size()) && r.sizes() == shape ? r : r.view(shape);
}

std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& tensors) {
  Shape shape;
  for (const Tensor& t : tensors) {
    check_defined(t, "broadcast_tensors");
    shape = broadcast_shapes(shape, t.sizes(), "broadcast_tensors");
  }
  std::vector<Tensor> r;
  for (const Tensor& t : tensors) r.push_back(t.expand(shape));
  return r;
}

// ---- in place -----------------------------------------------------------------------------
Tensor& Tensor::add_(const Tensor& o, const Scalar& alpha) {
  return binary_inplace(*this, Op::add, o, alpha_params(alpha), "add_");
}
Tensor& Tensor::add_(const Scalar& o, const Scalar& alpha) {
  return binary_inplace_scalar(*this, Op::add, o, alpha_params(alpha), "add_");
}
Tensor& Tensor::sub_(const Tensor& o, const Scalar& alpha) {
  return binary_inplace(*this, Op::sub, o, alpha_params(alpha), "sub_");
}
Tensor& Tensor::sub_(const Scalar& o, const Scalar& alpha) {
  return binary_inplace_scalar(*this, Op::sub, o, alpha_params(alpha), "sub_");
}
Tensor& Tensor::mul_(const Tensor& o) { return binary_inplace(*this, Op::mul, o, {}, "mul_"); }
Tensor& Tensor::mul_(const Scalar& o) { return binary_inplace_scalar(*this, Op::mul, o, {}, "mul_"); }
Tensor& Tensor::div_(const Tensor& o) { return binary_inplace(*this, Op::div, o, {}, "div_"); }
Tensor& Tensor::div_(const Scalar& o) { return binary_inplace_scalar(*this, Op::div, o, {}, "div_"); }

}  // namespace nabla

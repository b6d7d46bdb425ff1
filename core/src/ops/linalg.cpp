// Front ends of matrix products: matmul's 1-D/2-D/batched cases with batch broadcasting are
// reduced to the bmm and addmm primitives here.
#include "ops/op_helpers.h"
#include "ops/params_linalg.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {

void check_matmul_dtypes(const Tensor& a, const Tensor& b, std::string_view op) {
  NABLA_CHECK(a.dtype() == b.dtype(), "{}: expected both operands to have the same dtype, got {} and {}", op,
              dtype_name(a.dtype()), dtype_name(b.dtype()));
  NABLA_CHECK(a.dtype() != kBool, "{}: not supported for bool tensors", op);
}

}  // namespace

Tensor bmm(const Tensor& a, const Tensor& b) {
  check_defined(a, "bmm", "input");
  check_defined(b, "bmm", "mat2");
  NABLA_CHECK(a.dim() == 3 && b.dim() == 3, "bmm: expected 3-D tensors, got shapes {} and {}", a.shape_str(),
              b.shape_str());
  NABLA_CHECK(a.size(0) == b.size(0), "bmm: batch sizes differ: {} and {} (shapes {} and {})", a.size(0),
              b.size(0), a.shape_str(), b.shape_str());
  NABLA_CHECK(a.size(2) == b.size(1), "bmm: shapes {} and {} cannot be multiplied ({} != {})", a.shape_str(),
              b.shape_str(), a.size(2), b.size(1));
  check_matmul_dtypes(a, b, "bmm");
  Tensor out = make_tensor({a.size(0), a.size(1), b.size(2)}, a.dtype(), a.device(), "bmm");
  return run_op(Op::bmm, {a, b}, out);
}

Tensor mm(const Tensor& a, const Tensor& b) {
  check_defined(a, "mm", "input");
  check_defined(b, "mm", "mat2");
  NABLA_CHECK(a.dim() == 2 && b.dim() == 2, "mm: expected 2-D matrices, got shapes {} and {}", a.shape_str(),
              b.shape_str());
  NABLA_CHECK(a.size(1) == b.size(0), "mm: shapes {} and {} cannot be multiplied ({} != {})", a.shape_str(),
              b.shape_str(), a.size(1), b.size(0));
  return bmm(a.unsqueeze(0), b.unsqueeze(0)).squeeze(0);
}

Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, const Scalar& beta, const Scalar& alpha) {
  check_defined(input, "addmm", "input");
  check_defined(a, "addmm", "mat1");
  check_defined(b, "addmm", "mat2");
  NABLA_CHECK(a.dim() == 2 && b.dim() == 2, "addmm: expected 2-D matrices, got shapes {} and {}",
              a.shape_str(), b.shape_str());
  NABLA_CHECK(a.size(1) == b.size(0), "addmm: shapes {} and {} cannot be multiplied ({} != {})",
              a.shape_str(), b.shape_str(), a.size(1), b.size(0));
  check_matmul_dtypes(a, b, "addmm");
  check_matmul_dtypes(input, a, "addmm");
  const Shape shape{a.size(0), b.size(1)};
  NABLA_CHECK(broadcast_shapes(input.sizes(), shape, "addmm") == shape,
              "addmm: input of shape {} does not broadcast to the product's shape {}", input.shape_str(),
              shape_to_string(shape));
  Tensor out = make_tensor(shape, a.dtype(), a.device(), "addmm");
  const std::array<Tensor, 3> in{input, a, b};
  run_op(Op::addmm, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(&out, 1),
         AddmmParams{beta.to_double(), alpha.to_double()}.params());
  return out;
}

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_defined(a, "matmul", "input");
  check_defined(b, "matmul", "other");
  const int64_t da = a.dim(), db = b.dim();
  NABLA_CHECK(da > 0 && db > 0, "matmul: both arguments need at least 1 dim, got shapes {} and {}",
              a.shape_str(), b.shape_str());
  check_matmul_dtypes(a, b, "matmul");
  const int64_t k_a = a.size(-1), k_b = db == 1 ? b.size(0) : b.size(-2);
  NABLA_CHECK(k_a == k_b, "matmul: shapes {} and {} cannot be multiplied ({} != {})", a.shape_str(),
              b.shape_str(), k_a, k_b);
  if (da == 1 && db == 1) return mm(a.unsqueeze(0), b.unsqueeze(1)).view({});
  if (da == 2 && db == 1) return mm(a, b.unsqueeze(1)).squeeze(1);
  if (da == 1 && db == 2) return mm(a.unsqueeze(0), b).squeeze(0);
  if (da == 2 && db == 2) return mm(a, b);
  if (da >= 3 && db <= 2) {
    // fold the batch into the rows: one GEMM instead of a batch of small ones
    Shape out_shape(a.sizes().begin(), a.sizes().end() - 1);
    const Tensor bm = db == 1 ? b.unsqueeze(1) : b;
    Tensor r = mm(a.reshape({-1, k_a}), bm);
    if (db == 2) out_shape.push_back(b.size(1));
    return r.reshape(out_shape);
  }
  // general batched case with broadcasting of the batch dims
  const Tensor aa = da == 1 ? a.unsqueeze(0) : a;
  const Tensor bb = db == 1 ? b.unsqueeze(1) : b;
  const Shape ba(aa.sizes().begin(), aa.sizes().end() - 2), bbs(bb.sizes().begin(), bb.sizes().end() - 2);
  const Shape batch = broadcast_shapes(ba, bbs, "matmul");
  const int64_t n = aa.size(-2), m = bb.size(-1);
  int64_t nb = 1;
  for (int64_t s : batch) nb *= s;
  Shape ea = batch, eb = batch;
  ea.insert(ea.end(), {n, k_a});
  eb.insert(eb.end(), {k_a, m});
  Tensor r = bmm(aa.expand(ea).reshape({nb, n, k_a}), bb.expand(eb).reshape({nb, k_a, m}));
  Shape out_shape = batch;
  if (da != 1) out_shape.push_back(n);
  if (db != 1) out_shape.push_back(m);
  return r.reshape(out_shape);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined(x, "linear", "input");
  check_defined(weight, "linear", "weight");
  NABLA_CHECK(weight.dim() == 2, "linear: expected a 2-D weight [out_features, in_features], got shape {}",
              weight.shape_str());
  NABLA_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
              "linear: input of shape {} does not match weight of shape {} (in_features {})", x.shape_str(),
              weight.shape_str(), weight.size(1));
  if (bias.defined()) {
    NABLA_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0),
                "linear: expected a bias of shape [{}], got {}", weight.size(0), bias.shape_str());
    if (x.dim() == 2) return addmm(bias, x, weight.t());
    return add(matmul(x, weight.t()), bias);
  }
  return matmul(x, weight.t());
}

}  // namespace nabla

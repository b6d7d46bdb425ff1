// Backward formulas of the reductions. The incoming gradient has the output's shape, with or
// without the reduced dims; it is reshaped to the keepdim shape and broadcast over the input.
#include <cmath>

#include "autograd/derivatives.h"
#include "ops/op_helpers.h"
#include "ops/params_reduce.h"

namespace nabla {
namespace {

using G = std::vector<Tensor>;

// The reduced dims of the node's call.
std::vector<int64_t> reduced_dims(const BackwardCtx& c) { return ReduceParams::from(c.p).dims; }

Shape keep_shape(const BackwardCtx& c) {
  return reduced_shape(c.in_meta[0].sizes, reduced_dims(c), /*keepdim=*/true);
}

// A reduction output (grad or result) broadcast back over the input's shape.
Tensor spread(const BackwardCtx& c, const Tensor& t) {
  return t.reshape(keep_shape(c)).expand(c.in_meta[0].sizes);
}

int64_t reduced_count(const BackwardCtx& c) {
  int64_t n = 1;
  for (int64_t d : reduced_dims(c)) n *= c.in_meta[0].sizes[d];
  return n;
}

// Gradient of amax/amin/inf-norm style selections: split evenly among the tied elements.
Tensor even_split(const BackwardCtx& c, const Tensor& mask_bool) {
  const Tensor mask = mask_bool.to(c.in_meta[0].dtype);
  const Tensor count = sum(mask, reduced_dims(c), /*keepdim=*/true);
  return spread(c, c.grad()) * mask / count;
}

}  // namespace

void register_reduce_derivatives() {
  set_derivative(Op::sum, {[](const BackwardCtx& c) { return G{spread(c, c.grad())}; }});
  set_derivative(Op::mean, {[](const BackwardCtx& c) {
                   return G{spread(c, c.grad()) / static_cast<double>(reduced_count(c))};
                 }});
  // Zeros need care: with one zero in a slice, its gradient is the product of the others;
  // with two or more, every gradient in the slice is 0.
  set_derivative(Op::prod, {[](const BackwardCtx& c) {
                              const Tensor& x = c.in[0];
                              const Tensor is_zero = eq(x, 0.0);
                              const Tensor g = spread(c, c.grad());
                              const Tensor y = spread(c, c.out[0]);
                              const Tensor nonzero_prod =
                                  spread(c, prod(where(is_zero, Scalar(1.0), x), reduced_dims(c), true));
                              const Tensor zeros_in_slice = spread(c, sum(is_zero, reduced_dims(c), true));
                              const Tensor at_zero =
                                  where(eq(zeros_in_slice, 1), g * nonzero_prod, Scalar(0.0));
                              return G{where(is_zero, at_zero, g * y / where(is_zero, Scalar(1.0), x))};
                            },
                            kIn0, kOut0});
  set_derivative(
      Op::amax,
      {[](const BackwardCtx& c) { return G{even_split(c, eq(c.in[0], spread(c, c.out[0])))}; }, kIn0, kOut0});
  set_derivative(
      Op::amin,
      {[](const BackwardCtx& c) { return G{even_split(c, eq(c.in[0], spread(c, c.out[0])))}; }, kIn0, kOut0});
  set_derivative(Op::var, {[](const BackwardCtx& c) {
                             const Tensor& x = c.in[0];
                             const double denom =
                                 static_cast<double>(reduced_count(c) - ReduceParams::from(c.p).correction);
                             const Tensor centered = x - mean(x, reduced_dims(c), true);
                             return G{spread(c, c.grad()) * centered * (2.0 / denom)};
                           },
                           kIn0, 0});
  set_derivative(Op::std, {[](const BackwardCtx& c) {
                             const Tensor& x = c.in[0];
                             const double denom =
                                 static_cast<double>(reduced_count(c) - ReduceParams::from(c.p).correction);
                             const Tensor centered = x - mean(x, reduced_dims(c), true);
                             return G{spread(c, c.grad()) * centered / (spread(c, c.out[0]) * denom)};
                           },
                           kIn0, kOut0});
  set_derivative(Op::logsumexp, {[](const BackwardCtx& c) {
                                   return G{spread(c, c.grad()) * exp(c.in[0] - spread(c, c.out[0]))};
                                 },
                                 kIn0, kOut0});
  set_derivative(Op::norm, {[](const BackwardCtx& c) {
                              const Tensor& x = c.in[0];
                              const double p = ReduceParams::from(c.p).p;
                              const Tensor g = spread(c, c.grad());
                              const Tensor y = spread(c, c.out[0]);
                              if (p == 0.0) return G{zeros_like(x)};
                              if (p == 1.0) return G{g * sign(x)};
                              if (std::isinf(p)) return G{even_split(c, eq(abs(x), y)) * sign(x)};
                              // d/dx (sum |x|^p)^(1/p) = sign(x) |x|^(p-1) / y^(p-1), 0 where y = 0
                              const Tensor safe_y = where(eq(y, 0.0), Scalar(1.0), y);
                              const Tensor r = p == 2.0
                                                   ? x / safe_y
                                                   : sign(x) * pow(abs(x), p - 1.0) / pow(safe_y, p - 1.0);
                              return G{where(eq(y, 0.0), Scalar(0.0), g * r)};
                            },
                            kIn0, kOut0});
}

}  // namespace nabla

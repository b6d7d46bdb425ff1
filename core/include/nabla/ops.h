// The op API: free functions with PyTorch's names, argument order and semantics.
//
// Every function validates its arguments (throwing nabla::Error naming the op and the
// offending shapes, dtypes, dims or devices), then runs the kernel registered for its device
// and, when an input requires grad, records an autograd node. Where the ops live:
// core/src/ops/<family>.cpp (front ends), cpu_fallback/<family>.cpp (kernels),
// core/src/autograd/derivatives_<family>.cpp (backward formulas).
#pragma once

#include <optional>
#include <tuple>
#include <type_traits>
#include <vector>

#include "nabla/tensor.h"

namespace nabla {

// ---- unary (float results; integer inputs are promoted to float32) ------------------------
Tensor neg(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sign(const Tensor& x);
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor rsqrt(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor elu(const Tensor& x, double alpha = 1.0);
/// Exact form: x * Phi(x) = 0.5 x (1 + erf(x / sqrt(2))).
Tensor gelu(const Tensor& x);
/// x * sigmoid(x) (SiLU, also called swish).
Tensor silu(const Tensor& x);
/// log(1 + exp(beta x)) / beta, linear where beta x > threshold.
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor clamp(const Tensor& x, std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
Tensor pow(const Tensor& x, const Scalar& exponent);
Tensor reciprocal(const Tensor& x);

// ---- binary, with NumPy broadcasting and PyTorch type promotion ---------------------------
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha = 1);
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha = 1);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Scalar& b);
/// True division: integer inputs give a float result.
Tensor div(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Scalar& b);
Tensor pow(const Tensor& a, const Tensor& b);
Tensor pow(const Scalar& a, const Tensor& b);
Tensor maximum(const Tensor& a, const Tensor& b);
Tensor minimum(const Tensor& a, const Tensor& b);
// comparisons give bool tensors
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Scalar& b);
/// cond ? a : b, elementwise with broadcasting; cond must be bool.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);
/// Sums `x` over broadcast dims so that it has `shape` (the adjoint of expand).
Tensor sum_to_size(const Tensor& x, const Shape& shape);

// ---- reductions: over every element, or over `dims` (keepdim keeps them as size 1) ----------
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, IntList dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, IntList dims, bool keepdim = false);
Tensor prod(const Tensor& x);
Tensor prod(const Tensor& x, IntList dims, bool keepdim = false);
Tensor amax(const Tensor& x, IntList dims, bool keepdim = false);
Tensor amin(const Tensor& x, IntList dims, bool keepdim = false);
Tensor max(const Tensor& x);
/// (values, indices) along dim, as torch.max(x, dim).
std::tuple<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor min(const Tensor& x);
std::tuple<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
/// Index of the first maximum of the flattened tensor (int64).
Tensor argmax(const Tensor& x);
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor var(const Tensor& x, IntList dims, bool unbiased = true, bool keepdim = false);
Tensor std(const Tensor& x, IntList dims, bool unbiased = true, bool keepdim = false);
/// Over every element. Templates that take only a real bool, so that var(x, 1) means
/// "along dim 1" as in PyTorch rather than converting 1 to unbiased = true.
inline Tensor var(const Tensor& x) {
  return var(x, IntList(std::vector<int64_t>{}), /*unbiased=*/true, /*keepdim=*/false);
}
template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
Tensor var(const Tensor& x, B unbiased) {
  return var(x, IntList(std::vector<int64_t>{}), unbiased, /*keepdim=*/false);
}
inline Tensor std(const Tensor& x) {
  return std(x, IntList(std::vector<int64_t>{}), /*unbiased=*/true, /*keepdim=*/false);
}
template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
Tensor std(const Tensor& x, B unbiased) {
  return std(x, IntList(std::vector<int64_t>{}), unbiased, /*keepdim=*/false);
}
Tensor logsumexp(const Tensor& x, IntList dims, bool keepdim = false);
/// p-norm (p > 0, or INFINITY for the max-norm).
Tensor norm(const Tensor& x, double p = 2.0);
Tensor norm(const Tensor& x, double p, IntList dims, bool keepdim = false);

// ---- linear algebra (OpenBLAS GEMM on the CPU) -------------------------------------------
/// torch.matmul: 1-D dot/matrix-vector, 2-D matrix product, N-D batched with broadcasting.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);
Tensor bmm(const Tensor& a, const Tensor& b);
/// beta * input + alpha * (a @ b); input broadcasts to the [n, m] result.
Tensor addmm(const Tensor& input, const Tensor& a, const Tensor& b, const Scalar& beta = 1,
             const Scalar& alpha = 1);
/// x @ weight^T + bias, weight [out, in].
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

// ---- softmax --------------------------------------------------------------------------------
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- indexing, joining, splitting ---------------------------------------------------------
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);
/// x with src added at index along dim (out-of-place scatter_add).
Tensor scatter_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);
/// x with source's slices added at rows `index` along dim (out-of-place index_add).
Tensor index_add(const Tensor& x, int64_t dim, const Tensor& index, const Tensor& source);
/// x[indices] with tensor indices (libtorch's at::index): indices[i] indexes dim i of x, an
/// undefined tensor takes the whole dim. Integer (int64, int32) indices broadcast together and
/// may be negative; a bool mask stands for the coordinates of its true elements over the dims
/// it covers. Index dims next to each other keep their place in the result, separated ones go
/// first (NumPy's rule). A copy; differentiable in x.
Tensor index(const Tensor& x, const std::vector<Tensor>& indices);
/// x with x[indices] = values (out of place; indices as in index), values broadcast to the
/// shape of x[indices] and of x's dtype and device; accumulate adds instead (duplicates add up).
/// Without accumulate, of duplicate indices the last one (in row-major order of the broadcast
/// indices) wins. Differentiable in x and values.
Tensor index_put(const Tensor& x, const std::vector<Tensor>& indices, const Tensor& values,
                 bool accumulate = false);
Tensor cat(const std::vector<Tensor>& tensors, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& tensors, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const Shape& split_sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
/// int64 class indices -> int64 one-hot rows; num_classes = -1 infers max + 1.
Tensor one_hot(const Tensor& indices, int64_t num_classes = -1);

// ---- views (share storage with the input) -------------------------------------------------
Tensor view(const Tensor& x, const Shape& shape);
Tensor reshape(const Tensor& x, const Shape& shape);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, const Shape& dims);
Tensor slice(const Tensor& x, int64_t dim, std::optional<int64_t> start = std::nullopt,
             std::optional<int64_t> end = std::nullopt, int64_t step = 1);
Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length);
Tensor select(const Tensor& x, int64_t dim, int64_t index);
Tensor expand(const Tensor& x, const Shape& sizes);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor as_strided(const Tensor& x, const Shape& sizes, const Shape& strides,
                  std::optional<int64_t> storage_offset = std::nullopt);

// ---- broadcasting helpers -----------------------------------------------------------------
/// The NumPy broadcast of two shapes; throws naming both when they do not broadcast.
Shape broadcast_shapes(const Shape& a, const Shape& b);
std::vector<Tensor> broadcast_tensors(const std::vector<Tensor>& tensors);
/// PyTorch's result_type over tensors (0-dim tensors rank below dimensioned ones).
ScalarType result_type(const Tensor& a, const Tensor& b);

}  // namespace nabla

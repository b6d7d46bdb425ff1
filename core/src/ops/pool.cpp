// Front ends of the pooling ops (nabla::nn::functional): argument checks as PyTorch's and the
// output size from core/math/pool.h, then the pool primitives of ops.def.
#include "core/math/pool.h"

#include "nabla/nn/functional.h"
#include "ops/op_helpers.h"
#include "ops/params_pool.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn::functional {
namespace {

Tensor pool_input(const Tensor& x, std::string_view op) {
  check_defined(x, op, "input");
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4,
              "{}: expected a 3-D (unbatched) or 4-D (batched) input, got shape {}", op, x.shape_str());
  NABLA_CHECK(x.is_floating_point(), "{}: expected a floating-point input, got {}", op,
              dtype_name(x.dtype()));
  const Tensor b = x.dim() == 3 ? x.unsqueeze(0) : x;
  NABLA_CHECK(b.size(2) > 0 && b.size(3) > 0, "{}: expected a non-empty spatial size, got input of shape {}",
              op, x.shape_str());
  return b.contiguous();
}

PoolParams pool_params(Size2 kernel, Size2 stride, Size2 padding, Size2 dilation, bool ceil_mode,
                       std::string_view op) {
  NABLA_CHECK(kernel.given && kernel.h > 0 && kernel.w > 0, "{}: kernel_size must be positive, got ({}, {})",
              op, kernel.h, kernel.w);
  if (!stride.given) stride = kernel;
  NABLA_CHECK(stride.h > 0 && stride.w > 0, "{}: stride must be positive, got ({}, {})", op, stride.h,
              stride.w);
  NABLA_CHECK(dilation.h > 0 && dilation.w > 0, "{}: dilation must be positive, got ({}, {})", op, dilation.h,
              dilation.w);
  NABLA_CHECK(padding.h >= 0 && padding.w >= 0 && padding.h <= kernel.h / 2 && padding.w <= kernel.w / 2,
              "{}: padding ({}, {}) must be non-negative and at most half the kernel size ({}, {})", op,
              padding.h, padding.w, kernel.h, kernel.w);
  PoolParams p;
  p.kernel = {kernel.h, kernel.w};
  p.stride = {stride.h, stride.w};
  p.padding = {padding.h, padding.w};
  p.dilation = {dilation.h, dilation.w};
  p.ceil_mode = ceil_mode;
  return p;
}

Shape pool_output(const Tensor& x, const PoolParams& p, std::string_view op) {
  Shape out{x.size(0), x.size(1), 0, 0};
  for (int d = 0; d < 2; ++d) {
    const int64_t span = p.dilation[d] * (p.kernel[d] - 1) + 1;
    NABLA_CHECK(span <= x.size(2 + d) + 2 * p.padding[d],
                "{}: kernel {}x{} (dilation ({}, {})) is larger than the padded input {}x{}", op, p.kernel[0],
                p.kernel[1], p.dilation[0], p.dilation[1], x.size(2) + 2 * p.padding[0],
                x.size(3) + 2 * p.padding[1]);
    out[2 + d] = math::pool_out_size(x.size(2 + d), p.kernel[d], p.stride[d], p.padding[d], p.dilation[d],
                                     p.ceil_mode);
  }
  return out;
}

Tensor unbatch(const Tensor& y, const Tensor& input) { return input.dim() == 3 ? y.squeeze(0) : y; }

}  // namespace

std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size, Size2 stride,
                                                  Size2 padding, Size2 dilation, bool ceil_mode) {
  constexpr std::string_view op = "max_pool2d";
  const Tensor x = pool_input(input, op);
  const PoolParams p = pool_params(kernel_size, stride, padding, dilation, ceil_mode, op);
  const Shape out = pool_output(x, p, op);
  std::array<Tensor, 2> y{make_tensor(out, x.dtype(), x.device(), op),
                          make_tensor(out, kInt64, x.device(), op)};
  run_op(Op::max_pool2d, std::span<const Tensor>(&x, 1), std::span<Tensor>(y.data(), y.size()), p.params());
  return {unbatch(y[0], input), unbatch(y[1], input)};
}

Tensor max_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride, Size2 padding, Size2 dilation,
                  bool ceil_mode) {
  return max_pool2d_with_indices(x, kernel_size, stride, padding, dilation, ceil_mode).first;
}

Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, Size2 stride, Size2 padding, bool ceil_mode,
                  bool count_include_pad) {
  constexpr std::string_view op = "avg_pool2d";
  const Tensor x = pool_input(input, op);
  PoolParams p = pool_params(kernel_size, stride, padding, 1, ceil_mode, op);
  p.count_include_pad = count_include_pad;
  Tensor y = make_tensor(pool_output(x, p, op), x.dtype(), x.device(), op);
  return unbatch(run_op(Op::avg_pool2d, {x}, y, p.params()), input);
}

Tensor adaptive_avg_pool2d(const Tensor& input, Size2 output_size) {
  constexpr std::string_view op = "adaptive_avg_pool2d";
  const Tensor x = pool_input(input, op);
  NABLA_CHECK(output_size.given && output_size.h > 0 && output_size.w > 0,
              "adaptive_avg_pool2d: output_size must be positive, got ({}, {})", output_size.h,
              output_size.w);
  Tensor y = make_tensor({x.size(0), x.size(1), output_size.h, output_size.w}, x.dtype(), x.device(), op);
  return unbatch(run_op(Op::adaptive_avg_pool2d, {x}, y, {}), input);
}

}  // namespace nabla::nn::functional

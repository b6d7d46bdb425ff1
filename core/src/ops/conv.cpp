// Front ends of conv2d and conv_transpose2d (nabla::nn::functional): argument checks as
// PyTorch's, then the conv primitives of ops.def. A transposed convolution is the gradient of
// a convolution with respect to its input, so conv_transpose2d runs conv2d_backward_input
// (the same cuDNN call on the GPU); the bias is a broadcast add.
#include "core/math/pool.h"
#include "nabla/nn/functional.h"
#include "ops/nn_ops.h"
#include "ops/op_helpers.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace detail {

Tensor conv2d_primitive(const Tensor& x, const Tensor& w, const ConvParams& conv) {
  const int64_t oh =
      math::conv_out_size(x.size(2), w.size(2), conv.stride[0], conv.padding[0], conv.dilation[0]);
  const int64_t ow =
      math::conv_out_size(x.size(3), w.size(3), conv.stride[1], conv.padding[1], conv.dilation[1]);
  Tensor y = make_tensor({x.size(0), w.size(0), oh, ow}, x.dtype(), x.device(), "conv2d");
  return run_op(Op::conv2d, {x.contiguous(), w.contiguous()}, y, conv.params());
}

Tensor conv2d_input_grad(const Tensor& grad, const Tensor& w, const Shape& input_size,
                         const ConvParams& conv) {
  Tensor gx = make_tensor(input_size, grad.dtype(), grad.device(), "conv2d_backward_input");
  return run_op(Op::conv2d_backward_input, {grad.contiguous(), w.contiguous()}, gx, conv.params());
}

Tensor conv2d_weight_grad(const Tensor& x, const Tensor& grad, const Shape& weight_size,
                          const ConvParams& conv) {
  Tensor gw = make_tensor(weight_size, x.dtype(), x.device(), "conv2d_backward_weight");
  return run_op(Op::conv2d_backward_weight, {x.contiguous(), grad.contiguous()}, gw, conv.params());
}

}  // namespace detail

namespace nn::functional {
namespace {

// A 3-D [C, H, W] input is one sample.
Tensor as_batch(const Tensor& x, std::string_view op) {
  NABLA_CHECK(x.dim() == 3 || x.dim() == 4,
              "{}: expected a 3-D (unbatched) or 4-D (batched) input, got shape {}", op, x.shape_str());
  return x.dim() == 3 ? x.unsqueeze(0) : x;
}

void check_operands(const Tensor& x, const Tensor& w, const Tensor& bias, std::string_view op) {
  check_defined(x, op, "input");
  check_defined(w, op, "weight");
  NABLA_CHECK(x.is_floating_point(), "{}: expected a floating-point input, got {}", op,
              dtype_name(x.dtype()));
  NABLA_CHECK(w.dtype() == x.dtype(), "{}: input ({}) and weight ({}) must have the same dtype", op,
              dtype_name(x.dtype()), dtype_name(w.dtype()));
  NABLA_CHECK(w.device() == x.device(), "{}: input is on {} but weight is on {}", op, x.device().str(),
              w.device().str());
  NABLA_CHECK(w.dim() == 4, "{}: expected a 4-D weight, got shape {}", op, w.shape_str());
  NABLA_CHECK(w.size(2) > 0 && w.size(3) > 0, "{}: the kernel size must be positive, got weight of shape {}",
              op, w.shape_str());
  if (bias.defined()) {
    NABLA_CHECK(bias.dtype() == x.dtype() && bias.device() == x.device(),
                "{}: bias ({} on {}) must match the input ({} on {})", op, dtype_name(bias.dtype()),
                bias.device().str(), dtype_name(x.dtype()), x.device().str());
  }
}

ConvParams conv_params(Size2 stride, Size2 padding, Size2 dilation, int64_t groups, std::string_view op) {
  NABLA_CHECK(stride.h > 0 && stride.w > 0, "{}: stride must be positive, got ({}, {})", op, stride.h,
              stride.w);
  NABLA_CHECK(padding.h >= 0 && padding.w >= 0, "{}: padding must be non-negative, got ({}, {})", op,
              padding.h, padding.w);
  NABLA_CHECK(dilation.h > 0 && dilation.w > 0, "{}: dilation must be positive, got ({}, {})", op, dilation.h,
              dilation.w);
  NABLA_CHECK(groups > 0, "{}: groups must be positive, got {}", op, groups);
  return {{stride.h, stride.w}, {padding.h, padding.w}, {dilation.h, dilation.w}, groups};
}

Tensor add_bias(const Tensor& y, const Tensor& bias, std::string_view op) {
  if (!bias.defined()) return y;
  NABLA_CHECK(bias.dim() == 1 && bias.size(0) == y.size(1), "{}: expected a bias of shape [{}], got {}", op,
              y.size(1), bias.shape_str());
  return y + bias.view({1, y.size(1), 1, 1});
}

}  // namespace

Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride, Size2 padding,
              Size2 dilation, int64_t groups) {
  constexpr std::string_view op = "conv2d";
  check_operands(input, weight, bias, op);
  const Tensor x = as_batch(input, op);
  const ConvParams conv = conv_params(stride, padding, dilation, groups, op);
  const int64_t out_ch = weight.size(0);
  NABLA_CHECK(out_ch % groups == 0,
              "conv2d: out_channels {} (weight of shape {}) must be divisible by groups {}", out_ch,
              weight.shape_str(), groups);
  NABLA_CHECK(x.size(1) == weight.size(1) * groups,
              "conv2d: input of shape {} has {} channels, but weight of shape {} with groups={} expects {}",
              input.shape_str(), x.size(1), weight.shape_str(), groups, weight.size(1) * groups);
  for (int d = 0; d < 2; ++d) {
    const int64_t padded = x.size(2 + d) + 2 * conv.padding[d];
    const int64_t span = conv.dilation[d] * (weight.size(2 + d) - 1) + 1;
    NABLA_CHECK(
        span <= padded,
        "conv2d: kernel {}x{} (dilated: {}) is larger than the padded input {}x{} (input of shape {}, "
        "padding ({}, {}))",
        weight.size(2), weight.size(3), span, x.size(2) + 2 * conv.padding[0],
        x.size(3) + 2 * conv.padding[1], input.shape_str(), conv.padding[0], conv.padding[1]);
  }
  Tensor y = add_bias(detail::conv2d_primitive(x, weight, conv), bias, op);
  return input.dim() == 3 ? y.squeeze(0) : y;
}

Tensor conv_transpose2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
                        Size2 padding, Size2 output_padding, int64_t groups, Size2 dilation) {
  constexpr std::string_view op = "conv_transpose2d";
  check_operands(input, weight, bias, op);
  const Tensor x = as_batch(input, op);
  const ConvParams conv = conv_params(stride, padding, dilation, groups, op);
  NABLA_CHECK(output_padding.h >= 0 && output_padding.w >= 0,
              "conv_transpose2d: output_padding must be non-negative, got ({}, {})", output_padding.h,
              output_padding.w);
  NABLA_CHECK(output_padding.h < stride.h && output_padding.w < stride.w,
              "conv_transpose2d: output_padding ({}, {}) must be smaller than stride ({}, {})",
              output_padding.h, output_padding.w, stride.h, stride.w);
  NABLA_CHECK(weight.size(0) % groups == 0,
              "conv_transpose2d: weight of shape {} has {} input channels, not divisible by groups {}",
              weight.shape_str(), weight.size(0), groups);
  NABLA_CHECK(x.size(1) == weight.size(0),
              "conv_transpose2d: input of shape {} has {} channels, but weight of shape {} expects {}",
              input.shape_str(), x.size(1), weight.shape_str(), weight.size(0));
  const int64_t out_ch = weight.size(1) * groups;
  const int64_t oh = math::conv_transpose_out_size(x.size(2), weight.size(2), conv.stride[0], conv.padding[0],
                                                   conv.dilation[0], output_padding.h);
  const int64_t ow = math::conv_transpose_out_size(x.size(3), weight.size(3), conv.stride[1], conv.padding[1],
                                                   conv.dilation[1], output_padding.w);
  NABLA_CHECK(oh > 0 && ow > 0,
              "conv_transpose2d: the output size {}x{} is not positive (input of shape {}, weight {}, "
              "padding ({}, {}))",
              oh, ow, input.shape_str(), weight.shape_str(), conv.padding[0], conv.padding[1]);
  Tensor y = detail::conv2d_input_grad(x, weight, {x.size(0), out_ch, oh, ow}, conv);
  y = add_bias(y, bias, op);
  return input.dim() == 3 ? y.squeeze(0) : y;
}

}  // namespace nn::functional
}  // namespace nabla

// Layers of convolutional networks: Conv2d, ConvTranspose2d, pooling, BatchNorm1d/2d,
// LayerNorm and Dropout2d, with PyTorch's names, defaults, initialisation and state-dict
// entries (batch norm's running_mean, running_var and num_batches_tracked buffers).
#pragma once

#include <vector>

#include "nabla/nn/functional.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

using functional::Size2;

/// 2-d convolution over [N, C, H, W] (or [C, H, W]). weight [out, in/groups, kh, kw] and bias
/// [out], both uniform on +-1/sqrt(fan_in) as torch.nn.Conv2d (fan_in = in/groups * kh * kw).
class Conv2d : public Module {
 public:
  Conv2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1, Size2 padding = 0,
         Size2 dilation = 1, int64_t groups = 1, bool bias = true);
  explicit Conv2d(const Conv2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t in_channels, out_channels, groups;
  Size2 kernel_size, stride, padding, dilation;
  Tensor weight, bias;
};

/// 2-d transposed convolution. weight [in, out/groups, kh, kw]; initialised as
/// torch.nn.ConvTranspose2d (fan_in computed from the weight's dim 1, as PyTorch does).
class ConvTranspose2d : public Module {
 public:
  ConvTranspose2d(int64_t in_channels, int64_t out_channels, Size2 kernel_size, Size2 stride = 1,
                  Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1, bool bias = true,
                  Size2 dilation = 1);
  explicit ConvTranspose2d(const ConvTranspose2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t in_channels, out_channels, groups;
  Size2 kernel_size, stride, padding, output_padding, dilation;
  Tensor weight, bias;
};

class MaxPool2d : public Module {
 public:
  explicit MaxPool2d(Size2 kernel_size, Size2 stride = {}, Size2 padding = 0, Size2 dilation = 1,
                     bool ceil_mode = false);
  explicit MaxPool2d(const MaxPool2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Size2 kernel_size, stride, padding, dilation;
  bool ceil_mode;
};

class AvgPool2d : public Module {
 public:
  explicit AvgPool2d(Size2 kernel_size, Size2 stride = {}, Size2 padding = 0, bool ceil_mode = false,
                     bool count_include_pad = true);
  explicit AvgPool2d(const AvgPool2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Size2 kernel_size, stride, padding;
  bool ceil_mode, count_include_pad;
};

class AdaptiveAvgPool2d : public Module {
 public:
  explicit AdaptiveAvgPool2d(Size2 output_size);
  explicit AdaptiveAvgPool2d(const AdaptiveAvgPool2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Size2 output_size;
};

/// Batch normalization over the channel dim. Training: batch statistics, and the running
/// statistics updated with `momentum` (unbiased variance) and num_batches_tracked counted;
/// eval: the running statistics. weight = 1, bias = 0 (when affine); running_mean = 0,
/// running_var = 1 (when track_running_stats; otherwise batch statistics in both modes).
class BatchNorm : public Module {
 public:
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
  Tensor weight, bias, running_mean, running_var, num_batches_tracked;

 protected:
  BatchNorm(std::string type, int64_t num_features, double eps, double momentum, bool affine,
            bool track_running_stats, int64_t min_dim, int64_t max_dim);
  BatchNorm(std::string type, const BatchNormOptions& options, int64_t min_dim, int64_t max_dim);

 private:
  int64_t min_dim_, max_dim_;
};
/// Over [N, C] or [N, C, L].
class BatchNorm1d : public BatchNorm {
 public:
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true);
  explicit BatchNorm1d(const BatchNorm1dOptions& options);
};
/// Over [N, C, H, W].
class BatchNorm2d : public BatchNorm {
 public:
  explicit BatchNorm2d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true);
  explicit BatchNorm2d(const BatchNorm2dOptions& options);
};

/// Normalises over the last dims (normalized_shape); weight = 1 and bias = 0 of that shape.
class LayerNorm : public Module {
 public:
  explicit LayerNorm(std::vector<int64_t> normalized_shape, double eps = 1e-5,
                     bool elementwise_affine = true);
  explicit LayerNorm(const LayerNormOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::vector<int64_t> normalized_shape;
  double eps;
  bool elementwise_affine;
  Tensor weight, bias;
};

/// Zeroes whole channels with probability p in training mode; the identity in eval mode.
/// inplace: as Dropout's.
class Dropout2d : public Module {
 public:
  explicit Dropout2d(double p = 0.5, bool inplace = false);
  explicit Dropout2d(const Dropout2dOptions& options);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p;
  bool inplace;
};

}  // namespace nabla::nn

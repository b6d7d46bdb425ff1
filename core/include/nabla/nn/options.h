// Named-argument builders for nabla's layers, as libtorch's option classes:
// `Conv2d(Conv2dOptions(1, 64, 4).stride(2).padding(1).bias(false))`. Each option is a setter
// that returns the builder (so calls chain) and a getter of the same name (`opts.stride()`).
// A layer made from its options equals the one made positionally (same parameters, same
// initialisation draws, same checks); the builders exist because positional arguments swap
// silently (dilation and groups sit in different places in Conv2d and ConvTranspose2d).
//
// Options libtorch has and nabla's layers do not implement are accepted here and refused
// with a nabla::Error when the layer is made from them (a non-default value only).
//
// RNN's builder is RNNLayerOptions here (nabla's RNNOptions is the aggregate that RNN, LSTM and
// GRU share; torch_compat names it torch::nn::RNNOptions). The builders of CrossEntropyLoss and
// NLLLoss, the functional FuncOptions and the optimizers' options are in
// nabla/torch_compat/options.h: nabla has aggregates of libtorch's names there.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "nabla/nn/functional.h"
#include "nabla/tensor.h"

/// One option of a builder, as libtorch's TORCH_ARG: `name(value)` sets it and returns the
/// builder, `name()` returns it. Write `NABLA_ARG(T, name) = default_value;`.
#define NABLA_ARG(T, name)                                 \
 public:                                                   \
  auto name(T new_##name)->decltype(*this) {               \
    this->name##_ = std::move(new_##name);                 \
    return *this;                                          \
  }                                                        \
  const T& name() const noexcept { return this->name##_; } \
  T& name() noexcept { return this->name##_; }             \
                                                           \
 private:                                                  \
  T name##_

namespace nabla::nn {

using functional::Reduction;
using functional::Size2;

// ---- dense layers and activations -------------------------------------------------------------

struct LinearOptions {
  LinearOptions(int64_t in, int64_t out) : in_features_(in), out_features_(out) {}
  NABLA_ARG(int64_t, in_features);
  NABLA_ARG(int64_t, out_features);
  NABLA_ARG(bool, bias) = true;
};

struct FlattenOptions {
  NABLA_ARG(int64_t, start_dim) = 1;
  NABLA_ARG(int64_t, end_dim) = -1;
};

/// Dropout's and Dropout2d's (libtorch: Dropout2dOptions is DropoutOptions).
struct DropoutOptions {
  DropoutOptions(double prob = 0.5) : p_(prob) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(double, p);
  NABLA_ARG(bool, inplace) = false;
};
using Dropout2dOptions = DropoutOptions;

struct ReLUOptions {
  ReLUOptions(bool in_place = false) : inplace_(in_place) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(bool, inplace);
};
struct LeakyReLUOptions {
  NABLA_ARG(double, negative_slope) = 1e-2;
  NABLA_ARG(bool, inplace) = false;
};
struct ELUOptions {
  NABLA_ARG(double, alpha) = 1.0;
  NABLA_ARG(bool, inplace) = false;
};
struct SoftplusOptions {
  NABLA_ARG(double, beta) = 1.0;
  NABLA_ARG(double, threshold) = 20.0;
};
struct SoftmaxOptions {
  SoftmaxOptions(int64_t d) : dim_(d) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(int64_t, dim);
};
struct LogSoftmaxOptions {
  LogSoftmaxOptions(int64_t d) : dim_(d) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(int64_t, dim);
};

// ---- convolution, pooling, normalization ------------------------------------------------------

struct Conv2dOptions {
  Conv2dOptions(int64_t in, int64_t out, Size2 kernel)
      : in_channels_(in), out_channels_(out), kernel_size_(kernel) {}
  NABLA_ARG(int64_t, in_channels);
  NABLA_ARG(int64_t, out_channels);
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride) = 1;
  NABLA_ARG(Size2, padding) = 0;
  NABLA_ARG(Size2, dilation) = 1;
  NABLA_ARG(int64_t, groups) = 1;
  NABLA_ARG(bool, bias) = true;
};

struct ConvTranspose2dOptions {
  ConvTranspose2dOptions(int64_t in, int64_t out, Size2 kernel)
      : in_channels_(in), out_channels_(out), kernel_size_(kernel) {}
  NABLA_ARG(int64_t, in_channels);
  NABLA_ARG(int64_t, out_channels);
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride) = 1;
  NABLA_ARG(Size2, padding) = 0;
  NABLA_ARG(Size2, output_padding) = 0;
  NABLA_ARG(int64_t, groups) = 1;
  NABLA_ARG(bool, bias) = true;
  NABLA_ARG(Size2, dilation) = 1;
};

/// stride defaults to the kernel size, as libtorch's.
struct MaxPool2dOptions {
  MaxPool2dOptions(Size2 kernel) : kernel_size_(kernel), stride_(kernel) {}  // NOLINT: implicit
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride);
  NABLA_ARG(Size2, padding) = 0;
  NABLA_ARG(Size2, dilation) = 1;
  NABLA_ARG(bool, ceil_mode) = false;
};

/// divisor_override is libtorch's and not nabla's: a layer made with one set is an error.
struct AvgPool2dOptions {
  AvgPool2dOptions(Size2 kernel) : kernel_size_(kernel), stride_(kernel) {}  // NOLINT: implicit
  NABLA_ARG(Size2, kernel_size);
  NABLA_ARG(Size2, stride);
  NABLA_ARG(Size2, padding) = 0;
  NABLA_ARG(bool, ceil_mode) = false;
  NABLA_ARG(bool, count_include_pad) = true;
  NABLA_ARG(std::optional<int64_t>, divisor_override) = std::nullopt;
};

struct AdaptiveAvgPool2dOptions {
  AdaptiveAvgPool2dOptions(Size2 out) : output_size_(out) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(Size2, output_size);
};

/// BatchNorm1d's and BatchNorm2d's. momentum unset (libtorch's cumulative moving average) is
/// not supported by nabla's BatchNorm: an error when the layer is made.
struct BatchNormOptions {
  BatchNormOptions(int64_t n) : num_features_(n) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(int64_t, num_features);
  NABLA_ARG(double, eps) = 1e-5;
  NABLA_ARG(std::optional<double>, momentum) = 0.1;
  NABLA_ARG(bool, affine) = true;
  NABLA_ARG(bool, track_running_stats) = true;
};
using BatchNorm1dOptions = BatchNormOptions;
using BatchNorm2dOptions = BatchNormOptions;

struct LayerNormOptions {
  LayerNormOptions(std::vector<int64_t> shape)  // NOLINT: implicit, as libtorch's
      : normalized_shape_(std::move(shape)) {}
  NABLA_ARG(std::vector<int64_t>, normalized_shape);
  NABLA_ARG(double, eps) = 1e-5;
  NABLA_ARG(bool, elementwise_affine) = true;
};

// ---- recurrent layers and embeddings ----------------------------------------------------------

/// LSTM's (proj_size is libtorch's and not nabla's: a non-zero one is an error).
struct LSTMOptions {
  LSTMOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(int64_t, num_layers) = 1;
  NABLA_ARG(bool, bias) = true;
  NABLA_ARG(bool, batch_first) = false;
  NABLA_ARG(double, dropout) = 0.0;
  NABLA_ARG(bool, bidirectional) = false;
  NABLA_ARG(int64_t, proj_size) = 0;
};
struct GRUOptions {
  GRUOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(int64_t, num_layers) = 1;
  NABLA_ARG(bool, bias) = true;
  NABLA_ARG(bool, batch_first) = false;
  NABLA_ARG(double, dropout) = 0.0;
  NABLA_ARG(bool, bidirectional) = false;
};
/// The Elman RNN's: libtorch's torch::nn::RNNOptions (torch_compat names it so). nonlinearity
/// "tanh" or "relu" (torch::kTanh / torch::kReLU convert to these).
struct RNNLayerOptions {
  RNNLayerOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(int64_t, num_layers) = 1;
  NABLA_ARG(std::string, nonlinearity) = "tanh";
  NABLA_ARG(bool, bias) = true;
  NABLA_ARG(bool, batch_first) = false;
  NABLA_ARG(double, dropout) = 0.0;
  NABLA_ARG(bool, bidirectional) = false;
};

struct RNNCellOptions {
  RNNCellOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(bool, bias) = true;
  NABLA_ARG(std::string, nonlinearity) = "tanh";
};
struct LSTMCellOptions {
  LSTMCellOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(bool, bias) = true;
};
struct GRUCellOptions {
  GRUCellOptions(int64_t input, int64_t hidden) : input_size_(input), hidden_size_(hidden) {}
  NABLA_ARG(int64_t, input_size);
  NABLA_ARG(int64_t, hidden_size);
  NABLA_ARG(bool, bias) = true;
};

/// max_norm, a norm_type other than 2, scale_grad_by_freq and sparse are libtorch's and not
/// nabla's Embedding's: a layer made with them set is an error.
struct EmbeddingOptions {
  EmbeddingOptions(int64_t num, int64_t dim) : num_embeddings_(num), embedding_dim_(dim) {}
  NABLA_ARG(int64_t, num_embeddings);
  NABLA_ARG(int64_t, embedding_dim);
  NABLA_ARG(std::optional<int64_t>, padding_idx) = std::nullopt;
  NABLA_ARG(std::optional<double>, max_norm) = std::nullopt;
  NABLA_ARG(double, norm_type) = 2.0;
  NABLA_ARG(bool, scale_grad_by_freq) = false;
  NABLA_ARG(bool, sparse) = false;
};

// ---- losses -----------------------------------------------------------------------------------

struct MSELossOptions {
  MSELossOptions(Reduction r = Reduction::Mean) : reduction_(r) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(Reduction, reduction);
};
struct L1LossOptions {
  L1LossOptions(Reduction r = Reduction::Mean) : reduction_(r) {}  // NOLINT: implicit, as libtorch's
  NABLA_ARG(Reduction, reduction);
};
struct SmoothL1LossOptions {
  SmoothL1LossOptions(Reduction r = Reduction::Mean) : reduction_(r) {}  // NOLINT: implicit
  NABLA_ARG(Reduction, reduction);
  NABLA_ARG(double, beta) = 1.0;
};
struct BCELossOptions {
  NABLA_ARG(Tensor, weight) = {};
  NABLA_ARG(Reduction, reduction) = Reduction::Mean;
};
struct BCEWithLogitsLossOptions {
  NABLA_ARG(Tensor, weight) = {};
  NABLA_ARG(Reduction, reduction) = Reduction::Mean;
  NABLA_ARG(Tensor, pos_weight) = {};
};
struct HingeEmbeddingLossOptions {
  NABLA_ARG(double, margin) = 1.0;
  NABLA_ARG(Reduction, reduction) = Reduction::Mean;
};
struct MultiMarginLossOptions {
  NABLA_ARG(int64_t, p) = 1;
  NABLA_ARG(double, margin) = 1.0;
  NABLA_ARG(Tensor, weight) = {};
  NABLA_ARG(Reduction, reduction) = Reduction::Mean;
};

}  // namespace nabla::nn

// nabla::nn::functional: stateless layers and losses, as torch.nn.functional.
#pragma once

#include <optional>

#include "nabla/ops.h"
#include "nabla/random.h"
#include "nabla/tensor.h"

namespace nabla::nn::functional {

// activations and linear, from nabla/ops.h
using nabla::elu;
using nabla::gelu;
using nabla::leaky_relu;
using nabla::linear;
using nabla::log_softmax;
using nabla::relu;
using nabla::sigmoid;
using nabla::softmax;
using nabla::softplus;
using nabla::tanh;

/// Zeroes elements with probability p (Philox masks) and scales the rest by 1 / (1 - p)
/// when training; the identity otherwise. gen: a private generator (default: the global one).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

enum class Reduction { None, Mean, Sum };

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// Quadratic below beta, linear above.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);

struct CrossEntropyOptions {
  Tensor weight;              // [C] class weights (undefined: all 1)
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
  double label_smoothing = 0.0;
};
/// input: logits [N, C] (or [N, C, d1, ...], or [C]); target: int64 class indices [N] (or
/// [N, d1, ...]) or class probabilities of input's shape. Index targets run the fused
/// softmax + NLL kernel pair.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const CrossEntropyOptions& options = {});

struct NLLLossOptions {
  Tensor weight;
  int64_t ignore_index = -100;
  Reduction reduction = Reduction::Mean;
};
/// input: log-probabilities [N, C]; target: int64 [N].
Tensor nll_loss(const Tensor& input, const Tensor& target, const NLLLossOptions& options = {});

/// input: probabilities in [0, 1]; log terms are clamped at -100, as PyTorch.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                            Reduction reduction = Reduction::Mean);
/// Sigmoid + binary cross-entropy in one stable expression (no overflow for large logits).
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                                        const Tensor& pos_weight = Tensor(), Reduction reduction = Reduction::Mean);
/// target in {1, -1}: x where target is 1, max(0, margin - x) where it is -1.
Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, double margin = 1.0,
                            Reduction reduction = Reduction::Mean);
/// Multi-class hinge: sum over c != y of max(0, margin - x_y + x_c)^p / C (p is 1 or 2).
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int p = 1, double margin = 1.0,
                         const Tensor& weight = Tensor(), Reduction reduction = Reduction::Mean);

}  // namespace nabla::nn::functional

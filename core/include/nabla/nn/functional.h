// nabla::nn::functional: stateless layers and losses, as torch.nn.functional.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

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
using nabla::silu;
using nabla::softmax;
using nabla::softplus;
using nabla::tanh;

/// Zeroes elements with probability p (Philox masks) and scales the rest by 1 / (1 - p)
/// when training; the identity otherwise. gen: a private generator (default: the global one).
Tensor dropout(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

// ---- in place (torch.nn.functional's relu_, leaky_relu_, elu_, and inplace=True) ----------
// Each writes the op's result into x and returns x; x's version counter is bumped, so a tensor
// an earlier op saved for backward fails that backward with a version error. Under autograd the
// result carries the out-of-place op's gradient (the op runs on a copy of x's old values, which
// its backward keeps). Refused: a leaf that requires grad (with grad mode on), a view that
// shares its storage with another live tensor when autograd records (a view of a temporary, as
// batch_norm returns, is fine), and a tensor whose elements share memory (expand()).

Tensor& relu_(Tensor& x);
Tensor& leaky_relu_(Tensor& x, double negative_slope = 0.01);
Tensor& elu_(Tensor& x, double alpha = 1.0);
Tensor& silu_(Tensor& x);
/// The same mask as dropout() draws for the same generator state; identity (x untouched, no
/// version bump) when not training or p == 0.
Tensor& dropout_(Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

enum class Reduction { None, Mean, Sum };

Tensor mse_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
Tensor l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean);
/// Quadratic below beta, linear above.
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, Reduction reduction = Reduction::Mean,
                      double beta = 1.0);

struct CrossEntropyOptions {
  Tensor weight;  // [C] class weights (undefined: all 1)
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
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = Tensor(), const Tensor& pos_weight = Tensor(),
                                        Reduction reduction = Reduction::Mean);
/// target in {1, -1}: x where target is 1, max(0, margin - x) where it is -1.
Tensor hinge_embedding_loss(const Tensor& input, const Tensor& target, double margin = 1.0,
                            Reduction reduction = Reduction::Mean);
/// Multi-class hinge: sum over c != y of max(0, margin - x_y + x_c)^p / C (p is 1 or 2).
Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int p = 1, double margin = 1.0,
                         const Tensor& weight = Tensor(), Reduction reduction = Reduction::Mean);

// ---- convolution, pooling, normalization (NCHW; an unbatched [C, H, W] input also works) ----

/// A 2-d size argument: one number for both dims (`2`) or {height, width} (`{2, 3}`).
/// Default-constructed, it is "not given" (pooling's stride then defaults to the kernel).
struct Size2 {
  int64_t h = 0, w = 0;
  bool given = false;
  Size2() = default;
  Size2(int64_t v) : h(v), w(v), given(true) {}  // NOLINT: implicit, as PyTorch's int-or-tuple
  Size2(int64_t height, int64_t width) : h(height), w(width), given(true) {}
};

/// x [N, C, H, W], weight [O, C/groups, kh, kw], bias [O] (optional).
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = 1,
              Size2 padding = 0, Size2 dilation = 1, int64_t groups = 1);
/// The gradient of conv2d with respect to its input, as a layer: x [N, C, H, W],
/// weight [C, O/groups, kh, kw], bias [O]; output size
/// (H - 1) stride - 2 padding + dilation (kh - 1) + output_padding + 1. Argument order as PyTorch.
Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
                        Size2 stride = 1, Size2 padding = 0, Size2 output_padding = 0, int64_t groups = 1,
                        Size2 dilation = 1);

/// Max pooling; stride defaults to kernel_size; padding at most half the kernel.
Tensor max_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride = {}, Size2 padding = 0,
                  Size2 dilation = 1, bool ceil_mode = false);
/// Max pooling returning (values, indices): indices are flat h * W + w within each plane.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& x, Size2 kernel_size, Size2 stride = {},
                                                  Size2 padding = 0, Size2 dilation = 1,
                                                  bool ceil_mode = false);
Tensor avg_pool2d(const Tensor& x, Size2 kernel_size, Size2 stride = {}, Size2 padding = 0,
                  bool ceil_mode = false, bool count_include_pad = true);
/// Averages over windows [floor(i H / OH), ceil((i + 1) H / OH)) giving an OH x OW output.
Tensor adaptive_avg_pool2d(const Tensor& x, Size2 output_size);

/// x [N, C] or [N, C, *]. training: normalise with the batch statistics and, when running
/// stats are given, update them in place (running = (1 - momentum) running + momentum batch,
/// the variance unbiased); evaluation: normalise with the running statistics.
Tensor batch_norm(const Tensor& x, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);
/// Normalises over the last normalized_shape.size() dims, which must equal normalized_shape.
Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);
/// Zeroes whole channels (x [N, C, *] or [C, *]) with probability p and scales the rest by
/// 1 / (1 - p) when training; the identity otherwise.
Tensor dropout2d(const Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);
/// In place, as dropout_.
Tensor& dropout2d_(Tensor& x, double p = 0.5, bool training = true, Generator* gen = nullptr);

// ---- recurrent networks (core/src/ops/rnn.cpp) --------------------------------------------

/// The arguments torch.nn.RNN / LSTM / GRU share (input_size and hidden_size aside).
struct RNNOptions {
  int64_t num_layers = 1;
  bool bias = true;
  bool batch_first = false;  // input and output [B, T, F] instead of [T, B, F]
  double dropout = 0.0;      // between layers, in training only
  bool bidirectional = false;
  std::string nonlinearity = "tanh";  // RNN only: "tanh" or "relu"
};

/// What a whole-sequence recurrent function returns: the output sequence [T, B, D * H]
/// ([B, T, D * H] with batch_first; [T, D * H] for an unbatched input) and the final states
/// [L * D, B, H] ([L * D, H] unbatched). c_n is defined for LSTM only.
struct RNNOutput {
  Tensor output, h_n, c_n;
};

/// A multi-layer Elman RNN over a whole sequence. input: [T, B, I] (or [B, T, I] with
/// batch_first, or unbatched [T, I]); hx: initial state [L * D, B, H] (undefined: zeros);
/// weights: PyTorch's flat list (for each layer, for each direction: weight_ih [H, I_l],
/// weight_hh [H, H], and with options.bias bias_ih [H], bias_hh [H]). One fused op, forward
/// and backward: cuDNN on the GPU, an explicit time loop on the CPU. training: apply dropout.
RNNOutput rnn(const Tensor& input, const Tensor& hx, const std::vector<Tensor>& weights,
              const RNNOptions& options, bool training = true);
/// A multi-layer LSTM (gates i, f, g, o in PyTorch's order: weights [4H, ...]); h0 and c0
/// may be undefined (zeros).
RNNOutput lstm(const Tensor& input, const Tensor& h0, const Tensor& c0, const std::vector<Tensor>& weights,
               const RNNOptions& options, bool training = true);
/// A multi-layer GRU (gates r, z, n: weights [3H, ...]).
RNNOutput gru(const Tensor& input, const Tensor& hx, const std::vector<Tensor>& weights,
              const RNNOptions& options, bool training = true);

/// One step of an Elman cell: act(x W_ih^T + b_ih + h W_hh^T + b_hh). input [B, I] or [I];
/// hx [B, H] or [H] (undefined: zeros); biases optional.
Tensor rnn_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor(),
                const std::string& nonlinearity = "tanh");
/// One LSTM step: returns (h', c').
std::pair<Tensor, Tensor> lstm_cell(const Tensor& input, const Tensor& hx, const Tensor& cx,
                                    const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih = Tensor(),
                                    const Tensor& b_hh = Tensor());
/// One GRU step: returns h'.
Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih = Tensor(), const Tensor& b_hh = Tensor());

// ---- attention (core/src/ops/attention.cpp) -----------------------------------------------

/// softmax(q k^T scale + mask) v as PyTorch 2's torch.nn.functional.scaled_dot_product_attention,
/// in one fused op (online softmax over key blocks; the backward recomputes the scores).
/// query [..., L, E], key [..., S, E], value [..., S, Ev] -> [..., L, Ev]; the leading dims of
/// all three and of the mask broadcast. attn_mask broadcasts to [..., L, S]: bool (true: the key
/// takes part) or additive, of query's dtype (differentiable). is_causal: query i sees keys
/// j <= i (top-left aligned); an error together with attn_mask. scale: default 1 / sqrt(E).
/// A query row in which no key takes part gives 0 and passes no gradient (PyTorch >= 2.5's math
/// path; older ones gave NaN). dropout_p: drops attention weights (always, as PyTorch: pass 0
/// outside training), from gen (default: the global generator), one draw per call.
Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask = Tensor(), double dropout_p = 0.0,
                                    bool is_causal = false, std::optional<double> scale = std::nullopt,
                                    Generator* gen = nullptr);

/// Rows of `weight` [num_embeddings, dim] picked by the int64 `input` (any shape): output
/// input.shape + [dim]. Positions equal to padding_idx get weight's row but pass no gradient
/// to it.
Tensor embedding(const Tensor& input, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);

}  // namespace nabla::nn::functional

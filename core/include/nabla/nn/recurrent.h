// Recurrent layers (RNN, LSTM, GRU, their single-step cells) and Embedding, with PyTorch's
// names, parameter names, gate order, defaults and initialisation, so a state dict moves
// between nabla and PyTorch unchanged.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "nabla/nn/functional.h"
#include "nabla/nn/module.h"
#include "nabla/nn/options.h"

namespace nabla::nn {

using functional::RNNOptions;
using functional::RNNOutput;

/// The common base of RNN, LSTM and GRU: parameters weight_ih_l{k}[_reverse],
/// weight_hh_l{k}[_reverse], bias_ih_l{k}[_reverse], bias_hh_l{k}[_reverse] (per layer, the
/// forward direction's four, then the reverse direction's), all initialised uniform on
/// +-1/sqrt(hidden_size) as torch.nn.RNNBase.
class RNNBase : public Module {
 public:
  /// The output sequence (forward() of a single-input module; initial states are zeros).
  Tensor forward(const Tensor& x) override;
  /// The output sequence and the final states; h0 (and c0 for LSTM) may be undefined (zeros).
  virtual RNNOutput forward_with_state(const Tensor& x, const Tensor& h0 = Tensor(),
                                       const Tensor& c0 = Tensor()) = 0;
  std::string extra_repr() const override;
  /// The weights in PyTorch's flat order (what functional::rnn/lstm/gru take).
  const std::vector<Tensor>& flat_weights() const { return weights_; }
  /// A no-op, for code written against torch.nn.RNNBase.flatten_parameters: on the CPU there
  /// is nothing to pack, and on CUDA the cuDNN kernel packs the weights into cuDNN's flat
  /// buffer itself on the first call and again only after a parameter changed (see
  /// cuda/cudnn/rnn.cpp), so there is no separate step to run.
  void flatten_parameters() {}

  int64_t input_size, hidden_size;
  RNNOptions options;

 protected:
  RNNBase(std::string type_name, int64_t gates, int64_t input_size, int64_t hidden_size,
          const RNNOptions& options);
  std::vector<Tensor> weights_;
};

/// Elman RNN: h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (options.nonlinearity "relu" for ReLU).
class RNN : public RNNBase {
 public:
  RNN(int64_t input_size, int64_t hidden_size, const RNNOptions& options = {});
  explicit RNN(const RNNLayerOptions& options);
  RNNOutput forward_with_state(const Tensor& x, const Tensor& h0 = Tensor(),
                               const Tensor& c0 = Tensor()) override;
};

/// Long short-term memory (gates i, f, g, o). forward_with_state returns output, h_n, c_n.
class LSTM : public RNNBase {
 public:
  LSTM(int64_t input_size, int64_t hidden_size, const RNNOptions& options = {});
  explicit LSTM(const LSTMOptions& options);
  RNNOutput forward_with_state(const Tensor& x, const Tensor& h0 = Tensor(),
                               const Tensor& c0 = Tensor()) override;
};

/// Gated recurrent unit (gates r, z, n).
class GRU : public RNNBase {
 public:
  GRU(int64_t input_size, int64_t hidden_size, const RNNOptions& options = {});
  explicit GRU(const GRUOptions& options);
  RNNOutput forward_with_state(const Tensor& x, const Tensor& h0 = Tensor(),
                               const Tensor& c0 = Tensor()) override;
};

/// The cells' common parameters: weight_ih [G * H, I], weight_hh [G * H, H], bias_ih, bias_hh
/// [G * H], uniform on +-1/sqrt(hidden_size).
class RNNCellBase : public Module {
 public:
  std::string extra_repr() const override;
  int64_t input_size, hidden_size;
  Tensor weight_ih, weight_hh, bias_ih, bias_hh;

 protected:
  RNNCellBase(std::string type_name, int64_t gates, int64_t input_size, int64_t hidden_size, bool bias);
};

/// One Elman step: forward(x) starts from a zero state; step(x, h) continues from h.
class RNNCell : public RNNCellBase {
 public:
  RNNCell(int64_t input_size, int64_t hidden_size, bool bias = true, std::string nonlinearity = "tanh");
  explicit RNNCell(const RNNCellOptions& options)
      : RNNCell(options.input_size(), options.hidden_size(), options.bias(), options.nonlinearity()) {}
  Tensor forward(const Tensor& x) override { return step(x, Tensor()); }
  Tensor step(const Tensor& x, const Tensor& h);
  std::string extra_repr() const override;
  std::string nonlinearity;
};

/// One LSTM step: returns (h', c').
class LSTMCell : public RNNCellBase {
 public:
  LSTMCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  explicit LSTMCell(const LSTMCellOptions& options)
      : LSTMCell(options.input_size(), options.hidden_size(), options.bias()) {}
  Tensor forward(const Tensor& x) override { return step(x, Tensor(), Tensor()).first; }
  std::pair<Tensor, Tensor> step(const Tensor& x, const Tensor& h, const Tensor& c);
};

/// One GRU step.
class GRUCell : public RNNCellBase {
 public:
  GRUCell(int64_t input_size, int64_t hidden_size, bool bias = true);
  explicit GRUCell(const GRUCellOptions& options)
      : GRUCell(options.input_size(), options.hidden_size(), options.bias()) {}
  Tensor forward(const Tensor& x) override { return step(x, Tensor()); }
  Tensor step(const Tensor& x, const Tensor& h);
};

/// A lookup table: weight [num_embeddings, embedding_dim] initialised normal(0, 1), as
/// torch.nn.Embedding; the padding_idx row starts at zero and never receives a gradient.
class Embedding : public Module {
 public:
  Embedding(int64_t num_embeddings, int64_t embedding_dim, std::optional<int64_t> padding_idx = std::nullopt);
  explicit Embedding(const EmbeddingOptions& options);
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;
  int64_t num_embeddings, embedding_dim;
  std::optional<int64_t> padding_idx;  // normalised to [0, num_embeddings)
  Tensor weight;
};

}  // namespace nabla::nn

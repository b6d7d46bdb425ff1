// RNN, LSTM, GRU, their cells, and Embedding: parameters in PyTorch's names and order, its
// initialisation, and forward through nn::functional.
#include "nabla/nn/recurrent.h"

#include <cmath>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/init.h"

namespace nabla::nn {
namespace {

// torch.nn.RNNBase.reset_parameters / RNNCellBase.reset_parameters: every parameter uniform
// on +-1/sqrt(hidden_size).
Tensor rnn_param(const Shape& shape, int64_t hidden) {
  Tensor t = empty(shape);
  const double bound = hidden > 0 ? 1.0 / std::sqrt(static_cast<double>(hidden)) : 0.0;
  init::uniform_(t, -bound, bound);
  return t;
}
}  // namespace

RNNBase::RNNBase(std::string type_name, int64_t gates, int64_t in, int64_t hidden, const RNNOptions& o)
    : Module(std::move(type_name)), input_size(in), hidden_size(hidden), options(o) {
  NABLA_CHECK(in > 0 && hidden > 0, "{}: input_size and hidden_size must be positive, got {} and {}",
              this->type_name(), in, hidden);
  NABLA_CHECK(o.num_layers >= 1, "{}: num_layers must be at least 1, got {}", this->type_name(),
              o.num_layers);
  NABLA_CHECK(o.dropout >= 0.0 && o.dropout <= 1.0, "{}: dropout must be in [0, 1], got {}",
              this->type_name(), o.dropout);
  const int64_t dirs = o.bidirectional ? 2 : 1;
  for (int64_t l = 0; l < o.num_layers; ++l) {
    for (int64_t d = 0; d < dirs; ++d) {
      const std::string suffix = fmt::format("_l{}{}", l, d == 1 ? "_reverse" : "");
      const int64_t lin = l == 0 ? in : dirs * hidden;
      weights_.push_back(register_parameter("weight_ih" + suffix, rnn_param({gates * hidden, lin}, hidden)));
      weights_.push_back(
          register_parameter("weight_hh" + suffix, rnn_param({gates * hidden, hidden}, hidden)));
      if (o.bias) {
        weights_.push_back(register_parameter("bias_ih" + suffix, rnn_param({gates * hidden}, hidden)));
        weights_.push_back(register_parameter("bias_hh" + suffix, rnn_param({gates * hidden}, hidden)));
      }
    }
  }
}

Tensor RNNBase::forward(const Tensor& x) { return forward_with_state(x).output; }

std::string RNNBase::extra_repr() const {
  std::string s = fmt::format("{}, {}", input_size, hidden_size);
  if (options.num_layers != 1) s += fmt::format(", num_layers={}", options.num_layers);
  if (!options.bias) s += ", bias=False";
  if (options.batch_first) s += ", batch_first=True";
  if (options.dropout != 0.0) s += fmt::format(", dropout={}", options.dropout);
  if (options.bidirectional) s += ", bidirectional=True";
  return s;
}

RNN::RNN(int64_t in, int64_t hidden, const RNNOptions& o) : RNNBase("RNN", 1, in, hidden, o) {
  NABLA_CHECK(o.nonlinearity == "tanh" || o.nonlinearity == "relu",
              "RNN: nonlinearity must be \"tanh\" or \"relu\", got \"{}\"", o.nonlinearity);
}
RNN::RNN(const RNNLayerOptions& o)
    : RNN(o.input_size(), o.hidden_size(),
          RNNOptions{o.num_layers(), o.bias(), o.batch_first(), o.dropout(), o.bidirectional(),
                     o.nonlinearity()}) {}
RNNOutput RNN::forward_with_state(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  NABLA_CHECK(!c0.defined(), "RNN: takes no cell state (c0 is for LSTM)");
  return functional::rnn(x, h0, weights_, options, is_training());
}

LSTM::LSTM(int64_t in, int64_t hidden, const RNNOptions& o) : RNNBase("LSTM", 4, in, hidden, o) {}
namespace {
template <class O>
RNNOptions rnn_options(const O& o) {
  return RNNOptions{o.num_layers(), o.bias(), o.batch_first(), o.dropout(), o.bidirectional(), "tanh"};
}
// proj_size is checked before any parameter is drawn, so a refused LSTM consumes no random numbers
const LSTMOptions& checked(const LSTMOptions& o) {
  NABLA_CHECK(o.proj_size() == 0, "LSTM: proj_size ({}) is not supported by nabla (only 0, no projection)",
              o.proj_size());
  return o;
}
}  // namespace

LSTM::LSTM(const LSTMOptions& o) : LSTM(o.input_size(), o.hidden_size(), rnn_options(checked(o))) {}
RNNOutput LSTM::forward_with_state(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  return functional::lstm(x, h0, c0, weights_, options, is_training());
}

GRU::GRU(int64_t in, int64_t hidden, const RNNOptions& o) : RNNBase("GRU", 3, in, hidden, o) {}
GRU::GRU(const GRUOptions& o) : GRU(o.input_size(), o.hidden_size(), rnn_options(o)) {}
RNNOutput GRU::forward_with_state(const Tensor& x, const Tensor& h0, const Tensor& c0) {
  NABLA_CHECK(!c0.defined(), "GRU: takes no cell state (c0 is for LSTM)");
  return functional::gru(x, h0, weights_, options, is_training());
}

RNNCellBase::RNNCellBase(std::string type_name, int64_t gates, int64_t in, int64_t hidden, bool bias)
    : Module(std::move(type_name)), input_size(in), hidden_size(hidden) {
  NABLA_CHECK(in > 0 && hidden > 0, "{}: input_size and hidden_size must be positive, got {} and {}",
              this->type_name(), in, hidden);
  weight_ih = register_parameter("weight_ih", rnn_param({gates * hidden, in}, hidden));
  weight_hh = register_parameter("weight_hh", rnn_param({gates * hidden, hidden}, hidden));
  if (bias) {
    bias_ih = register_parameter("bias_ih", rnn_param({gates * hidden}, hidden));
    bias_hh = register_parameter("bias_hh", rnn_param({gates * hidden}, hidden));
  }
}

std::string RNNCellBase::extra_repr() const {
  std::string s = fmt::format("{}, {}", input_size, hidden_size);
  if (!bias_ih.defined()) s += ", bias=False";
  return s;
}

RNNCell::RNNCell(int64_t in, int64_t hidden, bool bias, std::string nl)
    : RNNCellBase("RNNCell", 1, in, hidden, bias), nonlinearity(std::move(nl)) {
  NABLA_CHECK(nonlinearity == "tanh" || nonlinearity == "relu",
              "RNNCell: nonlinearity must be \"tanh\" or \"relu\", got \"{}\"", nonlinearity);
}
Tensor RNNCell::step(const Tensor& x, const Tensor& h) {
  return functional::rnn_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh, nonlinearity);
}
std::string RNNCell::extra_repr() const {
  std::string s = RNNCellBase::extra_repr();
  if (nonlinearity != "tanh") s += ", nonlinearity=" + nonlinearity;
  return s;
}

LSTMCell::LSTMCell(int64_t in, int64_t hidden, bool bias) : RNNCellBase("LSTMCell", 4, in, hidden, bias) {}
std::pair<Tensor, Tensor> LSTMCell::step(const Tensor& x, const Tensor& h, const Tensor& c) {
  return functional::lstm_cell(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh);
}

GRUCell::GRUCell(int64_t in, int64_t hidden, bool bias) : RNNCellBase("GRUCell", 3, in, hidden, bias) {}
Tensor GRUCell::step(const Tensor& x, const Tensor& h) {
  return functional::gru_cell(x, h, weight_ih, weight_hh, bias_ih, bias_hh);
}

namespace {
// libtorch's Embedding options that nabla's Embedding does not implement, refused before the
// weight is drawn
const EmbeddingOptions& checked(const EmbeddingOptions& o) {
  NABLA_CHECK(!o.max_norm().has_value(), "Embedding: max_norm ({}) is not supported by nabla",
              o.max_norm().value_or(0.0));
  NABLA_CHECK(o.norm_type() == 2.0,
              "Embedding: norm_type ({}) is not supported by nabla (it goes with max_norm)", o.norm_type());
  NABLA_CHECK(!o.scale_grad_by_freq(), "Embedding: scale_grad_by_freq=true is not supported by nabla");
  NABLA_CHECK(!o.sparse(), "Embedding: sparse=true (sparse gradients) is not supported by nabla");
  return o;
}
}  // namespace

Embedding::Embedding(const EmbeddingOptions& o)
    : Embedding(checked(o).num_embeddings(), o.embedding_dim(), o.padding_idx()) {}

Embedding::Embedding(int64_t num, int64_t dim, std::optional<int64_t> pad)
    : Module("Embedding"), num_embeddings(num), embedding_dim(dim) {
  NABLA_CHECK(num >= 0 && dim >= 0, "Embedding: sizes must be non-negative, got {} and {}", num, dim);
  if (pad) {
    NABLA_CHECK(*pad >= -num && *pad < num, "Embedding: padding_idx {} must be within num_embeddings ({})",
                *pad, num);
    padding_idx = *pad < 0 ? *pad + num : *pad;
  }
  Tensor w = empty({num, dim});
  init::normal_(w, 0.0, 1.0);
  if (padding_idx) {
    NoGradGuard g;
    w.select(0, *padding_idx).zero_();
  }
  weight = register_parameter("weight", w);
}

Tensor Embedding::forward(const Tensor& indices) {
  return functional::embedding(indices, weight, padding_idx);
}

std::string Embedding::extra_repr() const {
  std::string s = fmt::format("{}, {}", num_embeddings, embedding_dim);
  if (padding_idx) s += fmt::format(", padding_idx={}", *padding_idx);
  return s;
}

}  // namespace nabla::nn

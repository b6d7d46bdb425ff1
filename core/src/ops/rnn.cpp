// Front ends of the recurrent networks (nabla::nn::functional::rnn, lstm, gru, the cells and
// embedding). Every recurrent function runs the one whole-sequence op `rnn` (all layers and
// directions, as cuDNN's RNN API), so the gate equations exist once (core/math/rnn.h on the
// CPU, cuDNN on the GPU). The cells are that op over one step of one layer: a hand-written
// loop of cells computes exactly what the sequence op does.
//
// The kernels see a time-major, contiguous x of float32 or float64 and valid shapes: layout
// changes (batch_first, unbatched input) and 16-bit inputs (computed in float32) are handled
// here with differentiable ops, so their gradients need nothing special.
#include <cmath>

#include "core/math/philox.h"
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/nn/functional.h"
#include "ops/nn_ops.h"
#include "ops/op_helpers.h"
#include "ops/rnn_config.h"
#include "tensor/random_state.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn::functional {
namespace {

using math::RnnMode;

const char* mode_name(RnnMode m) {
  switch (m) {
    case RnnMode::rnn_tanh:
    case RnnMode::rnn_relu:
      return "rnn";
    case RnnMode::lstm:
      return "lstm";
    case RnnMode::gru:
      return "gru";
  }
  return "rnn";
}

std::string weight_name(int64_t l, int64_t d, int64_t k) {
  static const char* kNames[] = {"weight_ih", "weight_hh", "bias_ih", "bias_hh"};
  return fmt::format("{}_l{}{}", kNames[k], l, d == 1 ? "_reverse" : "");
}

// Checks a state against [L * D, B, H] (or [L * D, H] unbatched); zeros when undefined.
Tensor state_or_zeros(const Tensor& s, const Shape& want, bool batched, const Tensor& like, const char* op,
                      const char* what) {
  const Shape shown = batched ? want : Shape{want[0], want[2]};
  if (!s.defined()) return zeros(want, like.options());
  NABLA_CHECK(s.is_floating_point(), "{}: expected a floating-point {}, got {}", op, what,
              dtype_name(s.dtype()));
  NABLA_CHECK(s.sizes() == shown, "{}: expected {} of shape {}, got {}", op, what, shape_to_string(shown),
              s.shape_str());
  NABLA_CHECK(s.dtype() == like.dtype(), "{}: {} has dtype {} but the input has {}", op, what,
              dtype_name(s.dtype()), dtype_name(like.dtype()));
  return batched ? s : s.unsqueeze(1);
}

RNNOutput run_rnn(RnnMode mode, const Tensor& input, const Tensor& h0_in, const Tensor& c0_in,
                  const std::vector<Tensor>& weights, const RNNOptions& o, bool training) {
  const char* op = mode_name(mode);
  check_defined(input, op, "input");
  NABLA_CHECK(input.is_floating_point(), "{}: expected a floating-point input, got {}", op,
              dtype_name(input.dtype()));
  NABLA_CHECK(
      input.dim() == 2 || input.dim() == 3,
      "{}: expected an input of 3 dims ([T, B, features], or [B, T, features] with batch_first) or 2 dims "
      "(unbatched [T, features]), got shape {}",
      op, input.shape_str());
  NABLA_CHECK(o.num_layers >= 1, "{}: num_layers must be at least 1, got {}", op, o.num_layers);
  NABLA_CHECK(o.dropout >= 0.0 && o.dropout <= 1.0, "{}: dropout must be in [0, 1], got {}", op, o.dropout);
  const bool batched = input.dim() == 3;
  Tensor x = batched ? (o.batch_first ? input.transpose(0, 1) : input) : input.unsqueeze(1);

  RnnConfig cfg;
  cfg.mode = mode;
  cfg.layers = o.num_layers;
  cfg.dirs = o.bidirectional ? 2 : 1;
  cfg.bias = o.bias;
  const int64_t G = cfg.gates();
  NABLA_CHECK(static_cast<int64_t>(weights.size()) == cfg.num_weights(),
              "{}: expected {} weight tensors ({} layer(s) x {} direction(s) x {}), got {}", op,
              cfg.num_weights(), cfg.layers, cfg.dirs,
              cfg.bias ? "weight_ih, weight_hh, bias_ih, bias_hh" : "weight_ih, weight_hh", weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    check_defined(weights[i], op, "weight");
  }
  NABLA_CHECK(
      weights[1].dim() == 2 && weights[1].size(0) % G == 0 && weights[1].size(0) == G * weights[1].size(1),
      "{}: weight_hh_l0 must have shape [{} * hidden_size, hidden_size], got {}", op, G,
      weights[1].shape_str());
  cfg.hidden = weights[1].size(1);
  NABLA_CHECK(weights[0].dim() == 2, "{}: weight_ih_l0 must be 2-D, got {}", op, weights[0].shape_str());
  cfg.input = weights[0].size(1);
  NABLA_CHECK(x.size(2) == cfg.input, "{}: input has {} features but weight_ih_l0 of shape {} expects {}", op,
              x.size(2), weights[0].shape_str(), cfg.input);
  const int64_t H = cfg.hidden, T = x.size(0), B = x.size(1), D = cfg.dirs, L = cfg.layers;
  NABLA_CHECK(T > 0 && B > 0 && H > 0,
              "{}: expected at least one step, one sequence and one hidden unit, got input {} "
              "and hidden_size {}",
              op, input.shape_str(), H);
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t d = 0; d < D; ++d) {
      for (int64_t k = 0; k < cfg.weights_per_dir(); ++k) {
        const Tensor& w = weights[static_cast<std::size_t>((l * D + d) * cfg.weights_per_dir() + k)];
        const Shape want = k == 0   ? Shape{G * H, cfg.layer_input(l)}
                           : k == 1 ? Shape{G * H, H}
                                    : Shape{G * H};
        NABLA_CHECK(w.sizes() == want, "{}: expected {} of shape {}, got {}", op, weight_name(l, d, k),
                    shape_to_string(want), w.shape_str());
        NABLA_CHECK(w.dtype() == input.dtype(), "{}: {} has dtype {} but the input has {}", op,
                    weight_name(l, d, k), dtype_name(w.dtype()), dtype_name(input.dtype()));
      }
    }
  }
  const Shape state_shape{L * D, B, H};
  Tensor h0 = state_or_zeros(h0_in, state_shape, batched, x, op, mode == RnnMode::lstm ? "h0" : "hx");
  Tensor c0;
  if (mode == RnnMode::lstm) c0 = state_or_zeros(c0_in, state_shape, batched, x, op, "c0");

  // The kernels compute in float32 or float64; 16-bit inputs go through float32.
  const ScalarType ct = input.dtype() == kFloat64 ? kFloat64 : kFloat32;
  const TensorOptions copt = TensorOptions(ct).device(input.device());
  auto prep = [&](const Tensor& t) { return t.to(ct).contiguous(); };
  std::vector<Tensor> in;
  in.reserve(static_cast<std::size_t>(kRnnWeights + cfg.num_weights()));
  in.push_back(prep(x));
  in.push_back(prep(h0));
  in.push_back(mode == RnnMode::lstm ? prep(c0) : empty({0}, copt));
  Tensor mask = empty({0}, copt);
  const double p = training && L > 1 ? o.dropout : 0.0;
  if (p > 0.0) {
    if (input.device().is_cpu()) {
      // Philox draws from the global generator, as nn::functional::dropout; p == 1 drops all.
      mask = detail::dropout_mask({L - 1, T, B, D * H}, p, copt);
    } else {
      // cuDNN draws its own masks inside the op from a seed taken from nabla's generator: the
      // masks are reproducible under manual_seed but not the CPU's. The seed is the Philox draw
      // of the generator's next slot, computed here on the host (a randint().item() was a
      // kernel, a device-to-host copy and a stream sync per forward).
      cfg.dropout = p;
      const PhiloxSlot slot = next_philox_slot();
      const math::Philox4 w = math::philox_draw(slot.seed, slot.offset, 0);
      // kept below 2^63: it travels as an int64 (rnn_config.h)
      cfg.dropout_seed = ((static_cast<uint64_t>(w.v[1]) << 32) | w.v[0]) >> 1;
    }
  }
  in.push_back(mask);
  // On the GPU the weights go in as they are: cuDNN's packing converts 16-bit weights itself,
  // and its pack cache keys on the user's tensors (storage, version), which a fresh float32
  // copy per call would defeat (a repack and a rebuilt cuDNN state on every call).
  for (const Tensor& w : weights) in.push_back(input.device().is_cuda() ? w.contiguous() : prep(w));

  bool any_grad = false;
  for (const Tensor& t : in) any_grad = any_grad || t.requires_grad();
  cfg.train = GradMode::is_enabled() && any_grad;

  std::array<Tensor, 4> out{
      make_tensor({T, B, D * H}, ct, input.device(), op), make_tensor(state_shape, ct, input.device(), op),
      make_tensor(mode == RnnMode::lstm ? state_shape : Shape{0}, ct, input.device(), op),
      make_tensor({0}, kUInt8, input.device(), op)};  // the kernel sizes the reserve
  run_op(Op::rnn, std::span<const Tensor>(in.data(), in.size()), std::span<Tensor>(out.data(), out.size()),
         cfg.params());

  RNNOutput r;
  r.output = batched ? (o.batch_first ? out[0].transpose(0, 1) : out[0]) : out[0].squeeze(1);
  r.h_n = batched ? out[1] : out[1].squeeze(1);
  if (mode == RnnMode::lstm) r.c_n = batched ? out[2] : out[2].squeeze(1);
  if (ct != input.dtype()) {
    r.output = r.output.to(input.dtype());
    r.h_n = r.h_n.to(input.dtype());
    if (r.c_n.defined()) r.c_n = r.c_n.to(input.dtype());
  }
  return r;
}

RnnMode rnn_mode(const std::string& nonlinearity, const char* op) {
  NABLA_CHECK(nonlinearity == "tanh" || nonlinearity == "relu",
              "{}: nonlinearity must be \"tanh\" or \"relu\", got \"{}\"", op, nonlinearity);
  return nonlinearity == "tanh" ? RnnMode::rnn_tanh : RnnMode::rnn_relu;
}

// A cell is the sequence op over one step of one layer: [B, I] -> [1, B, I], states [B, H]
// -> [1, B, H]; unbatched [I] and [H] get a batch of one.
struct CellIo {
  Tensor x, h, c;
  bool batched;
};

CellIo cell_inputs(const char* op, const Tensor& input, const Tensor& hx, const Tensor& cx,
                   const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih, const Tensor& b_hh,
                   int64_t gates, bool lstm) {
  check_defined(input, op, "input");
  check_defined(w_ih, op, "weight_ih");
  check_defined(w_hh, op, "weight_hh");
  NABLA_CHECK(input.dim() == 1 || input.dim() == 2,
              "{}: expected input of shape [B, features] or [features], got {}", op, input.shape_str());
  NABLA_CHECK(b_ih.defined() == b_hh.defined(), "{}: pass both biases or neither", op);
  NABLA_CHECK(w_hh.dim() == 2 && w_hh.size(0) == gates * w_hh.size(1),
              "{}: weight_hh must have shape [{} * hidden_size, hidden_size], got {}", op, gates,
              w_hh.shape_str());
  const int64_t H = w_hh.size(1);
  const bool batched = input.dim() == 2;
  const Tensor x = batched ? input : input.unsqueeze(0);
  NABLA_CHECK(w_ih.dim() == 2 && w_ih.size(1) == x.size(1),
              "{}: input has {} features but weight_ih of shape {} expects {}", op, x.size(1),
              w_ih.shape_str(), w_ih.dim() == 2 ? w_ih.size(1) : -1);
  const Shape want = batched ? Shape{x.size(0), H} : Shape{H};
  auto state = [&](const Tensor& s, const char* what) {
    if (!s.defined()) return Tensor();
    NABLA_CHECK(s.sizes() == want, "{}: expected {} of shape {}, got {}", op, what, shape_to_string(want),
                s.shape_str());
    return (batched ? s : s.unsqueeze(0)).unsqueeze(0);
  };
  CellIo io{x.unsqueeze(0), state(hx, "hx"), lstm ? state(cx, "cx") : Tensor(), batched};
  return io;
}

std::vector<Tensor> cell_weights(const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                                 const Tensor& b_hh) {
  if (b_ih.defined()) return {w_ih, w_hh, b_ih, b_hh};
  return {w_ih, w_hh};
}

Tensor cell_state(const Tensor& s, bool batched) {
  return batched ? s.select(0, 0) : s.select(0, 0).select(0, 0);
}

}  // namespace

RNNOutput rnn(const Tensor& input, const Tensor& hx, const std::vector<Tensor>& weights, const RNNOptions& o,
              bool training) {
  return run_rnn(rnn_mode(o.nonlinearity, "rnn"), input, hx, Tensor(), weights, o, training);
}

RNNOutput lstm(const Tensor& input, const Tensor& h0, const Tensor& c0, const std::vector<Tensor>& weights,
               const RNNOptions& o, bool training) {
  return run_rnn(RnnMode::lstm, input, h0, c0, weights, o, training);
}

RNNOutput gru(const Tensor& input, const Tensor& hx, const std::vector<Tensor>& weights, const RNNOptions& o,
              bool training) {
  return run_rnn(RnnMode::gru, input, hx, Tensor(), weights, o, training);
}

Tensor rnn_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih, const Tensor& b_hh, const std::string& nonlinearity) {
  const RnnMode mode = rnn_mode(nonlinearity, "rnn_cell");
  const CellIo io = cell_inputs("rnn_cell", input, hx, Tensor(), w_ih, w_hh, b_ih, b_hh, 1, false);
  RNNOptions o;
  o.bias = b_ih.defined();
  const RNNOutput r = run_rnn(mode, io.x, io.h, Tensor(), cell_weights(w_ih, w_hh, b_ih, b_hh), o, false);
  return cell_state(r.h_n, io.batched);
}

std::pair<Tensor, Tensor> lstm_cell(const Tensor& input, const Tensor& hx, const Tensor& cx,
                                    const Tensor& w_ih, const Tensor& w_hh, const Tensor& b_ih,
                                    const Tensor& b_hh) {
  const CellIo io = cell_inputs("lstm_cell", input, hx, cx, w_ih, w_hh, b_ih, b_hh, 4, true);
  RNNOptions o;
  o.bias = b_ih.defined();
  const RNNOutput r =
      run_rnn(RnnMode::lstm, io.x, io.h, io.c, cell_weights(w_ih, w_hh, b_ih, b_hh), o, false);
  return {cell_state(r.h_n, io.batched), cell_state(r.c_n, io.batched)};
}

Tensor gru_cell(const Tensor& input, const Tensor& hx, const Tensor& w_ih, const Tensor& w_hh,
                const Tensor& b_ih, const Tensor& b_hh) {
  const CellIo io = cell_inputs("gru_cell", input, hx, Tensor(), w_ih, w_hh, b_ih, b_hh, 3, false);
  RNNOptions o;
  o.bias = b_ih.defined();
  const RNNOutput r =
      run_rnn(RnnMode::gru, io.x, io.h, Tensor(), cell_weights(w_ih, w_hh, b_ih, b_hh), o, false);
  return cell_state(r.h_n, io.batched);
}

Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx) {
  check_defined(input, "embedding", "input");
  check_defined(weight, "embedding", "weight");
  NABLA_CHECK(weight.dim() == 2,
              "embedding: expected a weight of shape [num_embeddings, embedding_dim], got {}",
              weight.shape_str());
  NABLA_CHECK(input.dtype() == kInt64 || input.dtype() == kInt32,
              "embedding: expected integer indices, got {}", dtype_name(input.dtype()));
  const int64_t n = weight.size(0);
  if (padding_idx) {
    NABLA_CHECK(*padding_idx >= -n && *padding_idx < n,
                "embedding: padding_idx {} is out of range for {} embeddings", *padding_idx, n);
  }
  const Tensor idx = input.to(kInt64).reshape({-1});
  // On the CPU the range is checked here, for a message that names embedding. On a GPU two
  // item() calls would stop the host twice per forward: index_select's kernel reports a bad
  // index instead, raised at the next synchronisation point (cuda/kernel_report.h).
  if (idx.numel() > 0 && idx.device().is_cpu()) {
    NoGradGuard g;
    const int64_t lo = idx.min().item<int64_t>(), hi = idx.max().item<int64_t>();
    NABLA_CHECK(lo >= 0 && hi < n, "embedding: index {} is out of range for {} embeddings", lo < 0 ? lo : hi,
                n);
  }
  Tensor rows = index_select(weight, 0, idx);
  if (padding_idx && weight.requires_grad() && GradMode::is_enabled()) {
    // The padding row's value is read, but no gradient flows to it (as PyTorch).
    const int64_t pad = *padding_idx < 0 ? *padding_idx + n : *padding_idx;
    const Tensor is_pad = eq(idx, pad).unsqueeze(1);
    rows = where(is_pad, index_select(weight.detach(), 0, idx), rows);
  }
  Shape out = input.sizes();
  out.push_back(weight.size(1));
  return rows.view(out);
}

}  // namespace nabla::nn::functional

// The configuration of a whole-sequence recurrent op (rnn / rnn_backward in ops.def) and how
// it travels in OpParams; read by the front end, the backward formula and both backends.
//
// Operands (x is time-major [T, B, I] and contiguous; states are [L * D, B, H]):
//   rnn:          (x, h0, c0?, mask?, w...) -> (y [T, B, D * H], h_n, c_n, reserve uint8)
//   rnn_backward: (x, h0, c0?, mask?, y, dy, dh_n, dc_n, reserve, w...)
//                 -> (dx, dh0, dc0, dw...)
// c0 and dc_n are undefined and c_n / dc0 have shape [0] unless the mode is LSTM. mask is
// the CPU's dropout mask between layers ([L - 1, T, B, D * H], values 0 or 1 / (1 - p));
// undefined without dropout (the GPU draws its own, inside cuDNN). w is PyTorch's flat list:
// for each layer, for each direction: w_ih [G * H, I_l], w_hh [G * H, H] and, with biases,
// b_ih [G * H], b_hh [G * H]. The reserve is backend-defined bytes that carry what backward
// needs from forward (the backend's kernel allocates it); it is empty in inference.
#pragma once

#include <cstdint>

#include "core/math/rnn.h"
#include "dispatch/op.h"

namespace nabla {

struct RnnConfig {
  math::RnnMode mode = math::RnnMode::lstm;
  int64_t layers = 1, dirs = 1, hidden = 0, input = 0;
  bool bias = true;
  bool train = false;  // keep a reserve for backward
  double dropout = 0.0;
  uint64_t dropout_seed = 0;  // cuDNN's dropout generator (the GPU only)

  int64_t gates() const { return math::rnn_gates(mode); }
  int64_t weights_per_dir() const { return bias ? 4 : 2; }
  int64_t num_weights() const { return layers * dirs * weights_per_dir(); }
  int64_t layer_input(int64_t l) const { return l == 0 ? input : dirs * hidden; }
  bool lstm() const { return mode == math::RnnMode::lstm; }

  OpParams params() const {
    OpParams p;
    p.dims = {static_cast<int64_t>(mode), layers, dirs, hidden, input, bias ? 1 : 0, train ? 1 : 0};
    p.s0 = dropout;
    p.i0 = static_cast<int64_t>(dropout_seed);
    return p;
  }
  static RnnConfig from(const OpParams& p) {
    RnnConfig c;
    c.mode = static_cast<math::RnnMode>(p.dims.at(0));
    c.layers = p.dims.at(1);
    c.dirs = p.dims.at(2);
    c.hidden = p.dims.at(3);
    c.input = p.dims.at(4);
    c.bias = p.dims.at(5) != 0;
    c.train = p.dims.at(6) != 0;
    c.dropout = p.s0.to_double();
    c.dropout_seed = static_cast<uint64_t>(p.i0);
    return c;
  }
};

/// Operand positions.
inline constexpr int kRnnX = 0, kRnnH0 = 1, kRnnC0 = 2, kRnnMask = 3, kRnnWeights = 4;
inline constexpr int kRnnY = 0, kRnnHn = 1, kRnnCn = 2, kRnnReserve = 3;
inline constexpr int kRnnBwdY = 4, kRnnBwdDy = 5, kRnnBwdDhn = 6, kRnnBwdDcn = 7, kRnnBwdReserve = 8,
                     kRnnBwdWeights = 9;

}  // namespace nabla

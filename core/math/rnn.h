// Gate math of the recurrent cells (Elman RNN, LSTM, GRU), forward and backward, for one
// (batch row, hidden unit) at a time: shared by the CPU time loop (cpu_fallback/rnn.cpp) and
// any CUDA kernel that needs it (cuDNN computes the whole-sequence op on the GPU itself).
//
// Gate order and equations are PyTorch's (and cuDNN's), so weights move between them as they
// are. With gi = W_ih x + b_ih and gh = W_hh h + b_hh split into gate blocks of H:
//   RNN:  h' = act(gi + gh)                                   act = tanh or relu
//   LSTM: i = s(gi_i + gh_i)  f = s(gi_f + gh_f)  g = tanh(gi_g + gh_g)  o = s(gi_o + gh_o)
//         c' = f c + i g      h' = o tanh(c')                 (s: the logistic sigmoid)
//   GRU:  r = s(gi_r + gh_r)  z = s(gi_z + gh_z)  n = tanh(gi_n + r gh_n)
//         h' = (1 - z) n + z h
// The forward functors write what the backward functors need into `keep` (kKeep[mode] values
// per unit); the backward functors return the gradients of the pre-activations of both GEMMs
// (dgi, dgh: equal except for GRU's n gate) and the part of dh/dc that flows directly to the
// previous step (the rest is dgh W_hh, a GEMM).
#pragma once

#include "core/math/scalar_math.h"

namespace nabla::math {

/// The cell types, in the order of cuDNN's cudnnRNNMode_t.
enum class RnnMode : int { rnn_relu = 0, rnn_tanh = 1, lstm = 2, gru = 3 };

NABLA_HOST_DEVICE NABLA_INLINE int rnn_gates(RnnMode m) {
  return m == RnnMode::lstm ? 4 : m == RnnMode::gru ? 3 : 1;
}
/// Values per unit and step the forward keeps for backward: RNN h; LSTM i f g o c; GRU r z n gh_n.
NABLA_HOST_DEVICE NABLA_INLINE int rnn_keep(RnnMode m) {
  return m == RnnMode::lstm ? 5 : m == RnnMode::gru ? 4 : 1;
}

template <class T>
NABLA_HOST_DEVICE NABLA_INLINE T rnn_sigmoid(T x) {
  return T(1) / (T(1) + m::exp(-x));
}

// Pointers for one (row, unit): gate j of the unit is at gi[j * H] (gi already points at the
// unit), keep value k at keep[k * H].
template <class T>
struct RnnUnitFwd {
  RnnMode mode;
  const T* gi;   // W_ih x + b_ih for this row, at the unit
  const T* gh;   // W_hh h + (b_hh) for this row, at the unit (bias not yet added)
  const T* bhh;  // b_hh at the unit, or null
  int64_t H;
  T h_prev, c_prev;
  // outputs
  T h, c;
};

/// One forward step of one unit; `keep` (null in inference) receives kKeep values.
template <class T>
NABLA_HOST_DEVICE NABLA_INLINE void rnn_cell_forward(RnnUnitFwd<T>& u, T* keep) {
  const int64_t H = u.H;
  auto pre_h = [&](int j) { return u.gh[j * H] + (u.bhh ? u.bhh[j * H] : T(0)); };
  switch (u.mode) {
    case RnnMode::rnn_tanh:
    case RnnMode::rnn_relu: {
      const T a = u.gi[0] + pre_h(0);
      u.h = u.mode == RnnMode::rnn_tanh ? m::tanh(a) : (a > T(0) ? a : T(0));
      if (keep) keep[0] = u.h;
      return;
    }
    case RnnMode::lstm: {
      const T i = rnn_sigmoid(u.gi[0] + pre_h(0));
      const T f = rnn_sigmoid(u.gi[H] + pre_h(1));
      const T g = m::tanh(u.gi[2 * H] + pre_h(2));
      const T o = rnn_sigmoid(u.gi[3 * H] + pre_h(3));
      u.c = f * u.c_prev + i * g;
      u.h = o * m::tanh(u.c);
      if (keep) {
        keep[0] = i, keep[H] = f, keep[2 * H] = g, keep[3 * H] = o, keep[4 * H] = u.c;
      }
      return;
    }
    case RnnMode::gru: {
      const T r = rnn_sigmoid(u.gi[0] + pre_h(0));
      const T z = rnn_sigmoid(u.gi[H] + pre_h(1));
      const T ghn = pre_h(2);
      const T n = m::tanh(u.gi[2 * H] + r * ghn);
      u.h = (T(1) - z) * n + z * u.h_prev;
      if (keep) {
        keep[0] = r, keep[H] = z, keep[2 * H] = n, keep[3 * H] = ghn;
      }
      return;
    }
  }
}

template <class T>
struct RnnUnitBwd {
  RnnMode mode;
  const T* keep;  // what rnn_cell_forward kept for this (step, row, unit)
  int64_t H;
  T h_prev, c_prev;  // the step's incoming states
  T dh, dc;          // gradient of the step's outputs h' and c' (everything that reaches them)
  // outputs: pre-activation gradients (gate j at [j * H]) and the direct parts of dh_prev, dc_prev
  T* dgi;
  T* dgh;
  T dh_prev_direct, dc_prev;
};

template <class T>
NABLA_HOST_DEVICE NABLA_INLINE void rnn_cell_backward(RnnUnitBwd<T>& u) {
  const int64_t H = u.H;
  const T* k = u.keep;
  switch (u.mode) {
    case RnnMode::rnn_tanh:
    case RnnMode::rnn_relu: {
      const T h = k[0];
      const T d = u.mode == RnnMode::rnn_tanh ? u.dh * (T(1) - h * h) : (h > T(0) ? u.dh : T(0));
      u.dgi[0] = d, u.dgh[0] = d;
      u.dh_prev_direct = T(0), u.dc_prev = T(0);
      return;
    }
    case RnnMode::lstm: {
      const T i = k[0], f = k[H], g = k[2 * H], o = k[3 * H], c = k[4 * H];
      const T tc = m::tanh(c);
      const T dc = u.dc + u.dh * o * (T(1) - tc * tc);
      const T di = dc * g * i * (T(1) - i);
      const T df = dc * u.c_prev * f * (T(1) - f);
      const T dg = dc * i * (T(1) - g * g);
      const T dout = u.dh * tc * o * (T(1) - o);
      u.dgi[0] = u.dgh[0] = di;
      u.dgi[H] = u.dgh[H] = df;
      u.dgi[2 * H] = u.dgh[2 * H] = dg;
      u.dgi[3 * H] = u.dgh[3 * H] = dout;
      u.dh_prev_direct = T(0);
      u.dc_prev = dc * f;
      return;
    }
    case RnnMode::gru: {
      const T r = k[0], z = k[H], n = k[2 * H], ghn = k[3 * H];
      const T dn = u.dh * (T(1) - z) * (T(1) - n * n);
      const T dz = u.dh * (u.h_prev - n) * z * (T(1) - z);
      const T dr = dn * ghn * r * (T(1) - r);
      u.dgi[0] = u.dgh[0] = dr;
      u.dgi[H] = u.dgh[H] = dz;
      u.dgi[2 * H] = dn;
      u.dgh[2 * H] = dn * r;
      u.dh_prev_direct = u.dh * z;
      u.dc_prev = T(0);
      return;
    }
  }
}

}  // namespace nabla::math

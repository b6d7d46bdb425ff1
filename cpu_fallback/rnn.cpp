// Reference CPU kernels of the whole-sequence recurrent op (rnn) and its backward
// (rnn_backward): an explicit time loop per layer and direction. The input projection of all
// steps of a layer is one GEMM ([T * B, I] x [I, G * H]); each step then needs one recurrent
// GEMM ([B, H] x [H, G * H]) and the gate math of core/math/rnn.h per (row, unit). Backward
// runs the steps in reverse, collects the pre-activation gradients of every step, and then
// forms the weight gradients and the layer input's gradient as three large GEMMs.
//
// Reserve layout (T-typed values, T = float or double):
//   keep  [L, D, T, B, K, H]  what the gate functors keep per step (K = math::rnn_keep)
//   out   [L - 1, T, B, D * H] the outputs of every layer but the last (before dropout)

#include "core/math/rnn.h"

#include <cstring>
#include <vector>

#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/rnn_config.h"
#include "tensor/tensor_impl.h"

namespace nabla::cpu {
namespace {

using math::RnnMode;

// Rows of a batch in parallel when a step has enough units to pay for the threads.
template <class F>
void for_rows(int64_t B, int64_t H, const F& f) {
  parallel_for(B, std::max<int64_t>(1, 16384 / std::max<int64_t>(H, 1)), [&](int64_t lo, int64_t hi) {
    for (int64_t b = lo; b < hi; ++b) f(b);
  });
}

template <class T>
struct Geometry {
  RnnConfig cfg;
  int64_t T_, B, H, D, L, G, K;
  explicit Geometry(const RnnConfig& c, const Tensor& x)
      : cfg(c),
        T_(x.size(0)),
        B(x.size(1)),
        H(c.hidden),
        D(c.dirs),
        L(c.layers),
        G(c.gates()),
        K(math::rnn_keep(c.mode)) {}
  int64_t keep_per_dir() const { return T_ * B * K * H; }
  int64_t out_per_layer() const { return T_ * B * D * H; }
  int64_t reserve_elems() const { return L * D * keep_per_dir() + (L - 1) * out_per_layer(); }
  T* keep(T* base, int64_t l, int64_t d, int64_t t) const {
    return base + ((l * D + d) * T_ + t) * B * K * H;
  }
  T* layer_out(T* base, int64_t l) const { return base + L * D * keep_per_dir() + l * out_per_layer(); }
};

// dst = src * mask (the dropout between layers), or a plain copy without a mask.
template <class T>
void apply_mask(T* dst, const T* src, const T* mask, int64_t n) {
  if (mask == nullptr) {
    std::memcpy(dst, src, static_cast<std::size_t>(n) * sizeof(T));
    return;
  }
  for (int64_t i = 0; i < n; ++i) dst[i] = src[i] * mask[i];
}

template <class T>
void rnn_forward(const KernelCall& c) {
  const RnnConfig cfg = RnnConfig::from(c.p);
  const Tensor& x = c.in[kRnnX];
  const Geometry<T> g(cfg, x);
  const int64_t T_ = g.T_, B = g.B, H = g.H, D = g.D, L = g.L, GH = g.G * H, K = g.K;
  const bool lstm = cfg.lstm();
  const T* mask = c.in[kRnnMask].numel() > 0 ? c.in[kRnnMask].data_ptr<T>() : nullptr;

  // The reserve (training) or scratch (inference) for what later layers and backward read.
  Tensor reserve = make_tensor({cfg.train ? g.reserve_elems() * static_cast<int64_t>(sizeof(T)) : 0}, kUInt8,
                               x.device(), "rnn");
  c.out[kRnnReserve] = reserve;
  std::vector<T> scratch(
      cfg.train ? 0 : static_cast<std::size_t>(std::min<int64_t>(L - 1, 2) * g.out_per_layer()));
  T* rbase = cfg.train ? reinterpret_cast<T*>(reserve.data_ptr<uint8_t>()) : nullptr;

  std::vector<T> gi(static_cast<std::size_t>(T_ * B * GH)), gh(static_cast<std::size_t>(B * GH));
  std::vector<T> hbuf(static_cast<std::size_t>(B * H)), cbuf(static_cast<std::size_t>(B * H));
  std::vector<T> layer_in;  // the input of layers >= 1, after dropout
  T* y = c.out[kRnnY].data_ptr<T>();
  T* hn = c.out[kRnnHn].data_ptr<T>();
  T* cn = lstm ? c.out[kRnnCn].data_ptr<T>() : nullptr;
  const T* h0 = c.in[kRnnH0].data_ptr<T>();
  const T* c0 = lstm ? c.in[kRnnC0].data_ptr<T>() : nullptr;

  const T* in = x.data_ptr<T>();
  for (int64_t l = 0; l < L; ++l) {
    const int64_t I = cfg.layer_input(l);
    T* out = l == L - 1  ? y
             : cfg.train ? g.layer_out(rbase, l)
                         : scratch.data() + (l % 2) * g.out_per_layer();
    for (int64_t d = 0; d < D; ++d) {
      const std::size_t w0 = static_cast<std::size_t>(kRnnWeights + (l * D + d) * cfg.weights_per_dir());
      const T* w_ih = c.in[w0].data_ptr<T>();
      const T* w_hh = c.in[w0 + 1].data_ptr<T>();
      const T* b_ih = cfg.bias ? c.in[w0 + 2].data_ptr<T>() : nullptr;
      const T* b_hh = cfg.bias ? c.in[w0 + 3].data_ptr<T>() : nullptr;
      // input projection of every step at once, bias included
      if (b_ih != nullptr) {
        for (int64_t r = 0; r < T_ * B; ++r) {
          std::memcpy(gi.data() + r * GH, b_ih, static_cast<std::size_t>(GH) * sizeof(T));
        }
      }
      gemm<T>(CblasNoTrans, CblasTrans, T_ * B, GH, I, T(1), in, I, w_ih, I, b_ih != nullptr ? T(1) : T(0),
              gi.data(), GH);
      const int64_t s0 = (l * D + d) * B * H;
      std::memcpy(hbuf.data(), h0 + s0, static_cast<std::size_t>(B * H) * sizeof(T));
      if (lstm) std::memcpy(cbuf.data(), c0 + s0, static_cast<std::size_t>(B * H) * sizeof(T));
      for (int64_t s = 0; s < T_; ++s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s;
        gemm<T>(CblasNoTrans, CblasTrans, B, GH, H, T(1), hbuf.data(), H, w_hh, H, T(0), gh.data(), GH);
        T* keep = cfg.train ? g.keep(rbase, l, d, t) : nullptr;
        T* yt = out + t * B * D * H + d * H;
        for_rows(B, H, [&](int64_t b) {
          for (int64_t j = 0; j < H; ++j) {
            math::RnnUnitFwd<T> u{cfg.mode,
                                  gi.data() + (t * B + b) * GH + j,
                                  gh.data() + b * GH + j,
                                  b_hh != nullptr ? b_hh + j : nullptr,
                                  H,
                                  hbuf[b * H + j],
                                  lstm ? cbuf[b * H + j] : T(0),
                                  T(0),
                                  T(0)};
            math::rnn_cell_forward(u, keep != nullptr ? keep + b * K * H + j : nullptr);
            hbuf[b * H + j] = u.h;  // each unit reads only its own previous state
            if (lstm) cbuf[b * H + j] = u.c;
            yt[b * D * H + j] = u.h;
          }
        });
      }
      std::memcpy(hn + s0, hbuf.data(), static_cast<std::size_t>(B * H) * sizeof(T));
      if (lstm) std::memcpy(cn + s0, cbuf.data(), static_cast<std::size_t>(B * H) * sizeof(T));
    }
    if (l + 1 < L) {
      layer_in.resize(static_cast<std::size_t>(g.out_per_layer()));
      apply_mask(layer_in.data(), out, mask != nullptr ? mask + l * g.out_per_layer() : nullptr,
                 g.out_per_layer());
      in = layer_in.data();
    }
  }
}

template <class T>
void rnn_backward(const KernelCall& c) {
  const RnnConfig cfg = RnnConfig::from(c.p);
  const Tensor& x = c.in[kRnnX];
  const Geometry<T> g(cfg, x);
  const int64_t T_ = g.T_, B = g.B, H = g.H, D = g.D, L = g.L, GH = g.G * H, K = g.K;
  const bool lstm = cfg.lstm();
  const T* mask = c.in[kRnnMask].numel() > 0 ? c.in[kRnnMask].data_ptr<T>() : nullptr;
  T* rbase = reinterpret_cast<T*>(c.in[kRnnBwdReserve].data_ptr<uint8_t>());
  const T* y = c.in[kRnnBwdY].data_ptr<T>();
  const T* h0 = c.in[kRnnH0].data_ptr<T>();
  const T* c0 = lstm ? c.in[kRnnC0].data_ptr<T>() : nullptr;
  const T* dhn = c.in[kRnnBwdDhn].data_ptr<T>();
  const T* dcn = lstm ? c.in[kRnnBwdDcn].data_ptr<T>() : nullptr;
  T* dh0 = c.out[1].data_ptr<T>();
  T* dc0 = lstm ? c.out[2].data_ptr<T>() : nullptr;

  std::vector<T> dgi(static_cast<std::size_t>(T_ * B * GH)), dgh(static_cast<std::size_t>(T_ * B * GH));
  std::vector<T> hprev(static_cast<std::size_t>(T_ * B * H));
  std::vector<T> dhbuf(static_cast<std::size_t>(B * H)), dcbuf(static_cast<std::size_t>(B * H));
  // gradient reaching the current layer's output; starts as dy
  std::vector<T> dout(c.in[kRnnBwdDy].data_ptr<T>(), c.in[kRnnBwdDy].data_ptr<T>() + g.out_per_layer());
  std::vector<T> layer_in, din;

  for (int64_t l = L - 1; l >= 0; --l) {
    const int64_t I = cfg.layer_input(l);
    const T* out = l == L - 1 ? y : g.layer_out(rbase, l);
    const T* in = x.data_ptr<T>();
    if (l > 0) {
      layer_in.resize(static_cast<std::size_t>(g.out_per_layer()));
      apply_mask(layer_in.data(), g.layer_out(rbase, l - 1),
                 mask != nullptr ? mask + (l - 1) * g.out_per_layer() : nullptr, g.out_per_layer());
      in = layer_in.data();
    }
    T* dx = l == 0 ? c.out[0].data_ptr<T>() : nullptr;
    if (l > 0) {
      din.assign(static_cast<std::size_t>(T_ * B * I), T(0));
      dx = din.data();
    } else {
      std::fill(dx, dx + T_ * B * I, T(0));
    }
    for (int64_t d = 0; d < D; ++d) {
      const std::size_t w0 = static_cast<std::size_t>(kRnnBwdWeights + (l * D + d) * cfg.weights_per_dir());
      const T* w_ih = c.in[w0].data_ptr<T>();
      const T* w_hh = c.in[w0 + 1].data_ptr<T>();
      const std::size_t o0 = static_cast<std::size_t>(3 + (l * D + d) * cfg.weights_per_dir());
      const int64_t s0 = (l * D + d) * B * H;
      std::memcpy(dhbuf.data(), dhn + s0, static_cast<std::size_t>(B * H) * sizeof(T));
      if (lstm) std::memcpy(dcbuf.data(), dcn + s0, static_cast<std::size_t>(B * H) * sizeof(T));
      for (int64_t s = T_ - 1; s >= 0; --s) {
        const int64_t t = d == 0 ? s : T_ - 1 - s;
        const int64_t tp = d == 0 ? t - 1 : t + 1;  // the step before t in processing order
        const T* keep = g.keep(rbase, l, d, t);
        const T* keep_prev = s > 0 ? g.keep(rbase, l, d, tp) : nullptr;
        for_rows(B, H, [&](int64_t b) {
          const T* hp = s > 0 ? out + tp * B * D * H + b * D * H + d * H : h0 + s0 + b * H;
          T* hrow = hprev.data() + (t * B + b) * H;
          for (int64_t j = 0; j < H; ++j) {
            hrow[j] = hp[j];
            const T cp = !lstm ? T(0) : s > 0 ? keep_prev[b * K * H + 4 * H + j] : c0[s0 + b * H + j];
            math::RnnUnitBwd<T> u{
                cfg.mode,
                keep + b * K * H + j,
                H,
                hp[j],
                cp,
                dhbuf[b * H + j] + dout[static_cast<std::size_t>((t * B + b) * D * H + d * H + j)],
                lstm ? dcbuf[b * H + j] : T(0),
                dgi.data() + (t * B + b) * GH + j,
                dgh.data() + (t * B + b) * GH + j,
                T(0),
                T(0)};
            math::rnn_cell_backward(u);
            dhbuf[b * H + j] = u.dh_prev_direct;
            if (lstm) dcbuf[b * H + j] = u.dc_prev;
          }
        });
        // the recurrent GEMM's share of dh_prev
        gemm<T>(CblasNoTrans, CblasNoTrans, B, H, GH, T(1), dgh.data() + t * B * GH, GH, w_hh, H, T(1),
                dhbuf.data(), H);
      }
      std::memcpy(dh0 + s0, dhbuf.data(), static_cast<std::size_t>(B * H) * sizeof(T));
      if (lstm) std::memcpy(dc0 + s0, dcbuf.data(), static_cast<std::size_t>(B * H) * sizeof(T));
      // weights, biases and the layer input, over all steps at once
      gemm<T>(CblasTrans, CblasNoTrans, GH, I, T_ * B, T(1), dgi.data(), GH, in, I, T(0),
              c.out[o0].data_ptr<T>(), I);
      gemm<T>(CblasTrans, CblasNoTrans, GH, H, T_ * B, T(1), dgh.data(), GH, hprev.data(), H, T(0),
              c.out[o0 + 1].data_ptr<T>(), H);
      if (cfg.bias) {
        T* db_ih = c.out[o0 + 2].data_ptr<T>();
        T* db_hh = c.out[o0 + 3].data_ptr<T>();
        std::fill(db_ih, db_ih + GH, T(0));
        std::fill(db_hh, db_hh + GH, T(0));
        for (int64_t r = 0; r < T_ * B; ++r) {
          for (int64_t k = 0; k < GH; ++k) {
            db_ih[k] += dgi[static_cast<std::size_t>(r * GH + k)];
            db_hh[k] += dgh[static_cast<std::size_t>(r * GH + k)];
          }
        }
      }
      gemm<T>(CblasNoTrans, CblasNoTrans, T_ * B, I, GH, T(1), dgi.data(), GH, w_ih, I, T(1), dx, I);
    }
    if (l > 0) {
      // the gradient of layer l - 1's output passes through its dropout mask
      apply_mask(dout.data(), din.data(), mask != nullptr ? mask + (l - 1) * g.out_per_layer() : nullptr,
                 g.out_per_layer());
    }
  }
}

}  // namespace

void rnn_kernel(const KernelCall& c) {
  if (c.out[kRnnY].dtype() == kFloat64)
    rnn_forward<double>(c);
  else
    rnn_forward<float>(c);
}

void rnn_backward_kernel(const KernelCall& c) {
  if (c.out[0].dtype() == kFloat64)
    rnn_backward<double>(c);
  else
    rnn_backward<float>(c);
}

}  // namespace nabla::cpu

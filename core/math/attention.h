// Math of the fused scaled-dot-product attention op, shared by the CPU kernels
// (cpu_fallback/attention.cpp) and the CUDA kernels (cuda/kernels/attention.cu).
//
// Operands are [N, H, rows, cols] views with element strides (0 along broadcast dims); the
// batch-head index is b = n H + h. For query i and key j the score is
//   s_ij = scale (q_i . k_j) + mask_ij   (additive mask), or -inf where a boolean mask is false
// or, with is_causal, where j > i (top-left aligned, as PyTorch's tril(ones(L, S))).
//
// The softmax over j is taken online, one block of keys at a time (FlashAttention): a row keeps
// the running max m and the running sum l of exp(s - m); a block whose max exceeds m rescales
// l and the output accumulated so far by exp(m - m'). At the end out_i = acc_i / l and the
// row's logsumexp m + log l is saved for the backward, which recomputes
//   p_ij = exp(s_ij - lse_i)
// block by block instead of storing the scores (FlashAttention-2):
//   D_i = dO_i . O_i,  dP_ij = z_ij (dO_i . v_j),  dS_ij = p_ij (dP_ij - D_i),
//   dV_j += z_ij p_ij dO_i,  dQ_i += scale dS_ij k_j,  dK_j += scale dS_ij q_i,  dMask_ij = dS_ij
// where z_ij is the dropout factor (1 without dropout).
//
// A row in which no key takes part (every key masked out, or S == 0) outputs 0, passes no
// gradient and has logsumexp -inf: the rule of PyTorch's _safe_softmax (its math path since
// 2.5; earlier math paths gave NaN). NaN scores propagate to their row.
//
// Dropout acts on the softmax weights (after normalisation, as PyTorch): weight (b, i, j) is
// kept when the float32 uniform of Philox counter ((b L + i) S + j, offset) under seed is
// >= p (the draw rand() makes for element (b, i, j) of an [N, H, L, S] tensor), and kept
// weights are scaled by 1 / (1 - p). The backward draws the same counters again: the mask is
// never stored.
#pragma once

#include <cstdint>

#include "core/math/philox.h"
#include "core/math/scalar_math.h"
#include "core/math/softmax.h"

namespace nabla::math {

/// Element strides of an [N, H, rows, cols] operand.
struct AttnStrides {
  int64_t n = 0, h = 0, r = 0, c = 0;
  NABLA_HOST_DEVICE int64_t at(int64_t bn, int64_t bh, int64_t row, int64_t col) const {
    return bn * n + bh * h + row * r + col * c;
  }
};

/// The sizes and layouts of one attention call: q [N, H, L, E], k [N, H, S, E], v [N, H, S, Ev],
/// mask [N, H, L, S] (strides only; whether there is one is the kernels' business).
struct AttnShape {
  int64_t heads = 1;  // H
  int64_t L = 0, S = 0, E = 0, Ev = 0;
  AttnStrides q, k, v, mask;
  bool causal = false;

  /// Whether key j takes part in query i's row by causality.
  NABLA_HOST_DEVICE bool causal_ok(int64_t i, int64_t j) const { return !causal || j <= i; }
  /// The keys [0, end) that can take part for queries up to i_last (causality only).
  NABLA_HOST_DEVICE int64_t key_end(int64_t i_last) const {
    return causal ? (i_last + 1 < S ? i_last + 1 : S) : S;
  }
};

/// Dropout of the attention weights (header comment); p == 0: none.
struct AttnDropout {
  uint64_t seed = 0, offset = 0;
  float p = 0.0f;           // keep where the draw is >= p
  double keep_scale = 1.0;  // 1 / (1 - p)

  NABLA_HOST_DEVICE bool active() const { return p > 0.0f; }
  /// The factor z of weight (b, i, j) (header comment), in A.
  template <class A>
  NABLA_HOST_DEVICE A factor(int64_t b, int64_t i, int64_t j, int64_t L, int64_t S) const {
    if (!active()) return A(1);
    const uint64_t index = (static_cast<uint64_t>(b) * static_cast<uint64_t>(L) + static_cast<uint64_t>(i)) *
                               static_cast<uint64_t>(S) +
                           static_cast<uint64_t>(j);
    return uniform_float(philox_draw(seed, offset, index)) >= p ? static_cast<A>(keep_scale) : A(0);
  }
};

/// The running (max, sum) of one row's online softmax; max -inf: no key has taken part yet.
template <class A>
struct AttnRow {
  A max = -static_cast<A>(INFINITY);
  A sum = A(0);

  /// Starts a block whose largest score is block_max: returns the factor the output
  /// accumulated so far must be multiplied by (1 when the max stays, 0 before the first key
  /// that takes part) and rescales the sum by it.
  NABLA_HOST_DEVICE A rescale(A block_max) {
    const A next = softmax_max(max, block_max);
    if (!(next > max) && !m::isnan(next)) return A(1);
    const A f = max == -static_cast<A>(INFINITY) ? A(0) : m::exp(max - next);
    sum *= f;
    max = next;
    return f;
  }
  /// The (unnormalised) weight exp(s - max) of a score of the current block; 0 for -inf.
  NABLA_HOST_DEVICE A weight(A s) const { return s == -static_cast<A>(INFINITY) ? A(0) : m::exp(s - max); }
  /// 1 / sum, and 0 for a row in which no key took part.
  NABLA_HOST_DEVICE A inv_sum() const { return sum > A(0) || m::isnan(sum) ? A(1) / sum : A(0); }
  /// The row's logsumexp: -inf for a row in which no key took part.
  NABLA_HOST_DEVICE A lse() const { return max == -static_cast<A>(INFINITY) ? max : max + m::log(sum); }
};

/// The softmax weight exp(s - lse) of a score, recomputed in the backward: 0 where the key
/// was out (s == -inf) or the whole row was (lse == -inf).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A attn_prob(A s, A lse) {
  const A neg_inf = -static_cast<A>(INFINITY);
  return (s == neg_inf || lse == neg_inf) ? A(0) : m::exp(s - lse);
}

/// The score of a pair given q . k: scale dot plus the additive mask `bias`, or -inf when the
/// key does not take part (boolean mask false, or causality).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A attn_score(A dot, A scale, bool takes_part, A bias) {
  return takes_part ? dot * scale + bias : -static_cast<A>(INFINITY);
}

/// dS of a pair: p (z dP~ - D) with dP~ = dO . v (the backward's formula, header comment).
template <class A>
NABLA_HOST_DEVICE NABLA_INLINE A attn_dscore(A p, A z, A dp, A d) {
  return p * (z * dp - d);
}

}  // namespace nabla::math

// Reference CPU kernels of the fused attention pair (ops.def's attention family; the math is
// core/math/attention.h's, shared with cuda/kernels/attention.cu).
//
// Forward: one task per (batch-head, block of kQueryBlock queries); it walks the keys in
// blocks of kKeyBlock, scoring the query block against one key block at a time with the
// online softmax, so no more than kQueryBlock x kKeyBlock scores exist per thread, never the
// whole L x S matrix. The block's two products (q kᵀ, then weights times v) are single-threaded
// OpenBLAS GEMMs: a scalar loop ran at 5% of the GEMM peak here. Backward: one task per batch-head
// (FlashAttention-2's order): for each key block, every block of query rows recomputes its scores
// from the saved logsumexp and adds to dq, and to the key block's dk and dv; its five products
// are GEMMs too. Blocks are copied into dense buffers in the accumulation type (float for
// float32 and the 16-bit floats, double for float64), which also lets the operands have any
// strides. Each output element is written by one task, its sums taken in a fixed order: results
// do not depend on the thread count.
#include "core/math/attention.h"

#include <algorithm>
#include <vector>

#include "cpu_fallback/blas.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_attention.h"

namespace nabla::cpu {
namespace {

constexpr int64_t kQueryBlock = 32;
constexpr int64_t kKeyBlock = 64;

// The typed operands of one call, with the mask's two forms (at most one is set).
template <class T>
struct Operands {
  const T* q = nullptr;
  const T* k = nullptr;
  const T* v = nullptr;
  const bool* mask_bool = nullptr;
  const T* mask_add = nullptr;

  Operands(const Tensor& q_, const Tensor& k_, const Tensor& v_, const Tensor* mask)
      : q(q_.data_ptr<T>()), k(k_.data_ptr<T>()), v(v_.data_ptr<T>()) {
    if (mask == nullptr) return;
    if (mask->dtype() == kBool)
      mask_bool = mask->data_ptr<bool>();
    else
      mask_add = mask->data_ptr<T>();
  }

  // Whether key j takes part in query i's row of batch (n, h), and its additive mask.
  bool takes_part(const math::AttnShape& g, int64_t n, int64_t h, int64_t i, int64_t j) const {
    return g.causal_ok(i, j) && (mask_bool == nullptr || mask_bool[g.mask.at(n, h, i, j)]);
  }
  template <class A>
  A bias(const math::AttnShape& g, int64_t n, int64_t h, int64_t i, int64_t j) const {
    return mask_add == nullptr ? A(0) : cvt<A>(mask_add[g.mask.at(n, h, i, j)]);
  }
};

// Rows [r0, r0 + rows) of an operand of batch (n, h) into a dense [rows, cols] buffer.
template <class T, class A>
void load_rows(const T* x, const math::AttnStrides& s, int64_t n, int64_t h, int64_t r0, int64_t rows,
               int64_t cols, A* dst) {
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) dst[r * cols + c] = cvt<A>(x[s.at(n, h, r0 + r, c)]);
  }
}

const Tensor* mask_input(const KernelCall& c, std::size_t at) {
  return c.in.size() > at ? &c.in[at] : nullptr;
}

template <class T>
void forward(const KernelCall& c) {
  using A = compute_t<T>;
  const AttentionParams p = AttentionParams::from(c.p);
  const Tensor* mask = mask_input(c, 3);
  const math::AttnShape g = attention_shape(c.in[0], c.in[1], c.in[2], mask ? *mask : Tensor(), p.is_causal);
  const math::AttnDropout drop = p.dropout();
  const Operands<T> x(c.in[0], c.in[1], c.in[2], mask);
  const A scale = static_cast<A>(p.scale);
  const int64_t L = g.L, S = g.S, E = g.E, Ev = g.Ev, H = g.heads;
  const int64_t heads = c.in[0].size(0) * H, qblocks = (L + kQueryBlock - 1) / kQueryBlock;
  T* out = c.out[0].data_ptr<T>();
  A* lse = c.out[1].data_ptr<A>();
  parallel_for(heads * qblocks, 1, [&](int64_t t0, int64_t t1) {
    std::vector<A> qb(kQueryBlock * E), kb(kKeyBlock * E), vb(kKeyBlock * Ev), sc(kQueryBlock * kKeyBlock),
        acc(kQueryBlock * Ev);
    std::vector<math::AttnRow<A>> rows(kQueryBlock);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / qblocks, i0 = (t % qblocks) * kQueryBlock, br = std::min(kQueryBlock, L - i0);
      const int64_t n = b / H, h = b % H;
      load_rows(x.q, g.q, n, h, i0, br, E, qb.data());
      std::fill(acc.begin(), acc.end(), A(0));
      std::fill(rows.begin(), rows.end(), math::AttnRow<A>{});
      const int64_t key_end = g.key_end(i0 + br - 1);
      for (int64_t j0 = 0; j0 < key_end; j0 += kKeyBlock) {
        const int64_t bc = std::min(kKeyBlock, key_end - j0);
        load_rows(x.k, g.k, n, h, j0, bc, E, kb.data());
        load_rows(x.v, g.v, n, h, j0, bc, Ev, vb.data());
        // the block's q kᵀ in one GEMM (single-threaded: the tasks are the parallelism)
        blas_gemm<A>(CblasNoTrans, CblasTrans, br, bc, E, 1.0, qb.data(), E, kb.data(), E, 0.0, sc.data(),
                     kKeyBlock);
        for (int64_t r = 0; r < br; ++r) {
          const int64_t i = i0 + r;
          A* s = sc.data() + r * kKeyBlock;
          A block_max = -static_cast<A>(INFINITY);
          for (int64_t jj = 0; jj < bc; ++jj) {
            const int64_t j = j0 + jj;
            const bool in = x.takes_part(g, n, h, i, j);
            s[jj] = math::attn_score(in ? s[jj] : A(0), scale, in, x.template bias<A>(g, n, h, i, j));
            block_max = math::softmax_max(block_max, s[jj]);
          }
          math::AttnRow<A>& row = rows[r];
          A* o = acc.data() + r * Ev;
          const A f = row.rescale(block_max);
          if (f != A(1)) {
            for (int64_t e = 0; e < Ev; ++e) o[e] *= f;
          }
          // the row's weights (after dropout) replace its scores, for the P V product below
          for (int64_t jj = 0; jj < bc; ++jj) {
            const A w = row.weight(s[jj]);
            row.sum += w;
            s[jj] = w == A(0) ? A(0) : w * drop.factor<A>(b, i, j0 + jj, L, S);
          }
        }
        // acc += P V in one GEMM. A masked key's weight is 0, so it adds 0 * v: a NaN or inf in
        // a masked value row reaches the output, as in PyTorch's explicit softmax(...) @ v.
        blas_gemm<A>(CblasNoTrans, CblasNoTrans, br, Ev, bc, 1.0, sc.data(), kKeyBlock, vb.data(), Ev, 1.0,
                     acc.data(), Ev);
      }
      for (int64_t r = 0; r < br; ++r) {
        const int64_t i = i0 + r;
        const A inv = rows[r].inv_sum();
        T* y = out + (b * L + i) * Ev;
        for (int64_t e = 0; e < Ev; ++e) y[e] = cvt<T>(acc[r * Ev + e] * inv);
        lse[b * L + i] = rows[r].lse();
      }
    }
  });
}

template <class T>
void backward(const KernelCall& c) {
  using A = compute_t<T>;
  // inputs (grad, q, k, v, out, lse, mask?); outputs (dq, dk, dv, dmask?)
  const AttentionParams p = AttentionParams::from(c.p);
  const Tensor* mask = mask_input(c, 6);
  const math::AttnShape g = attention_shape(c.in[1], c.in[2], c.in[3], mask ? *mask : Tensor(), p.is_causal);
  const math::AttnDropout drop = p.dropout();
  const Operands<T> x(c.in[1], c.in[2], c.in[3], mask);
  const A scale = static_cast<A>(p.scale);
  const int64_t L = g.L, S = g.S, E = g.E, Ev = g.Ev, H = g.heads;
  const int64_t heads = c.in[1].size(0) * H;
  const T* gy = c.in[0].data_ptr<T>();
  const T* y = c.in[4].data_ptr<T>();
  const A* lse = c.in[5].data_ptr<A>();
  T* dq = c.out[0].data_ptr<T>();
  T* dk = c.out[1].data_ptr<T>();
  T* dv = c.out[2].data_ptr<T>();
  T* dmask = c.out.size() > 3 && c.out[3].defined() ? c.out[3].data_ptr<T>() : nullptr;
  parallel_for(heads, 1, [&](int64_t b0, int64_t b1) {
    std::vector<A> qa(L * E), ga(L * Ev), dqa(L * E), d(L), kb(kKeyBlock * E), vb(kKeyBlock * Ev),
        dkb(kKeyBlock * E), dvb(kKeyBlock * Ev), sb(kQueryBlock * kKeyBlock), dpb(kQueryBlock * kKeyBlock);
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n = b / H, h = b % H;
      load_rows(x.q, g.q, n, h, 0, L, E, qa.data());
      for (int64_t i = 0; i < L; ++i) {
        const int64_t row = (b * L + i) * Ev;
        A di = 0;
        for (int64_t e = 0; e < Ev; ++e) {
          ga[i * Ev + e] = cvt<A>(gy[row + e]);
          di += ga[i * Ev + e] * cvt<A>(y[row + e]);
        }
        d[i] = di;  // D_i = dO_i . O_i
      }
      std::fill(dqa.begin(), dqa.end(), A(0));
      // entries of rows and keys that take no part keep a zero gradient
      if (dmask != nullptr) std::fill(dmask + b * L * S, dmask + (b + 1) * L * S, cvt<T>(A(0)));
      for (int64_t j0 = 0; j0 < S; j0 += kKeyBlock) {
        const int64_t bc = std::min(kKeyBlock, S - j0);
        load_rows(x.k, g.k, n, h, j0, bc, E, kb.data());
        load_rows(x.v, g.v, n, h, j0, bc, Ev, vb.data());
        std::fill(dkb.begin(), dkb.end(), A(0));
        std::fill(dvb.begin(), dvb.end(), A(0));
        // with is_causal, queries before the block see none of its keys; the rest in blocks of
        // kQueryBlock rows: scores and dO vᵀ by GEMM, then per entry the probability and the
        // score's gradient, then dv += (P z)ᵀ dO, dq += ds k, dk += dsᵀ q by GEMM
        for (int64_t i0 = g.causal ? std::min(j0, L) : 0; i0 < L; i0 += kQueryBlock) {
          const int64_t br = std::min(kQueryBlock, L - i0);
          blas_gemm<A>(CblasNoTrans, CblasTrans, br, bc, E, 1.0, qa.data() + i0 * E, E, kb.data(), E, 0.0,
                       sb.data(), kKeyBlock);
          blas_gemm<A>(CblasNoTrans, CblasTrans, br, bc, Ev, 1.0, ga.data() + i0 * Ev, Ev, vb.data(), Ev, 0.0,
                       dpb.data(), kKeyBlock);
          for (int64_t r = 0; r < br; ++r) {
            const int64_t i = i0 + r;
            const A li = lse[b * L + i];
            A* pz = sb.data() + r * kKeyBlock;   // the scores become P z
            A* ds = dpb.data() + r * kKeyBlock;  // dO vᵀ becomes scale * dS
            for (int64_t jj = 0; jj < bc; ++jj) {
              const int64_t j = j0 + jj;
              // a row without keys (lse -inf) and the keys that take no part: no gradient
              if (li == -static_cast<A>(INFINITY) || !x.takes_part(g, n, h, i, j)) {
                pz[jj] = A(0);
                ds[jj] = A(0);
                continue;
              }
              const A sc = math::attn_score(pz[jj], scale, true, x.template bias<A>(g, n, h, i, j));
              const A pr = math::attn_prob(sc, li);
              const A z = drop.factor<A>(b, i, j, L, S);
              const A dsc = math::attn_dscore(pr, z, ds[jj], d[i]);
              if (dmask != nullptr) dmask[(b * L + i) * S + j] = cvt<T>(dsc);
              pz[jj] = pr * z;
              ds[jj] = scale * dsc;
            }
          }
          blas_gemm<A>(CblasTrans, CblasNoTrans, bc, Ev, br, 1.0, sb.data(), kKeyBlock, ga.data() + i0 * Ev,
                       Ev, 1.0, dvb.data(), Ev);
          blas_gemm<A>(CblasNoTrans, CblasNoTrans, br, E, bc, 1.0, dpb.data(), kKeyBlock, kb.data(), E, 1.0,
                       dqa.data() + i0 * E, E);
          blas_gemm<A>(CblasTrans, CblasNoTrans, bc, E, br, 1.0, dpb.data(), kKeyBlock, qa.data() + i0 * E, E,
                       1.0, dkb.data(), E);
        }
        for (int64_t jj = 0; jj < bc; ++jj) {
          const int64_t j = j0 + jj;
          for (int64_t e = 0; e < E; ++e) dk[(b * S + j) * E + e] = cvt<T>(dkb[jj * E + e]);
          for (int64_t e = 0; e < Ev; ++e) dv[(b * S + j) * Ev + e] = cvt<T>(dvb[jj * Ev + e]);
        }
      }
      for (int64_t i = 0; i < L * E; ++i) dq[b * L * E + i] = cvt<T>(dqa[i]);
    }
  });
}

}  // namespace

void scaled_dot_product_attention_kernel(const KernelCall& c) {
  visit_float(c.in[0].dtype(), "scaled_dot_product_attention", [&]<class T>() { forward<T>(c); });
}

void scaled_dot_product_attention_backward_kernel(const KernelCall& c) {
  visit_float(c.in[1].dtype(), "scaled_dot_product_attention_backward", [&]<class T>() { backward<T>(c); });
}

}  // namespace nabla::cpu

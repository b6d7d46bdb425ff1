// Front end of scaled_dot_product_attention (nabla::nn::functional): PyTorch 2's semantics,
// checked here, then one fused op (ops.def's attention family). The leading dims of q, k, v
// and the mask broadcast into one batch shape, folded into [N, H] (the last batch dim is H, the
// rest N) by expanding each operand: the kernels read broadcast operands through 0 strides, and
// the expand's backward sums their gradients.
#include <cmath>
#include <optional>

#include "nabla/nn/functional.h"
#include "ops/op_helpers.h"
#include "ops/params_attention.h"
#include "tensor/random_state.h"
#include "tensor/tensor_impl.h"

namespace nabla::nn::functional {
namespace {

constexpr std::string_view kOp = "scaled_dot_product_attention";

// NumPy broadcast of a and b into *out; false when they do not broadcast.
bool broadcast_into(const Shape& a, const Shape& b, Shape* out) {
  const std::size_t n = std::max(a.size(), b.size());
  Shape r(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    if (x != y && x != 1 && y != 1) return false;
    r[i] = x == 1 ? y : x;
  }
  *out = std::move(r);
  return true;
}

Shape leading(const Tensor& t) { return Shape(t.sizes().begin(), t.sizes().end() - 2); }

Shape with_last(Shape s, int64_t rows, int64_t cols) {
  s.push_back(rows);
  s.push_back(cols);
  return s;
}

// t expanded to batch + [rows, cols] and seen as [N, H, rows, cols]: a view, unless more than
// two batch dims cannot be merged (then reshape copies).
Tensor as_nh(const Tensor& t, const Shape& batch, int64_t n, int64_t h, int64_t rows, int64_t cols) {
  if (batch.size() <= 2) return t.expand({n, h, rows, cols});
  return t.expand(with_last(batch, rows, cols)).reshape({n, h, rows, cols});
}

}  // namespace

Tensor scaled_dot_product_attention(const Tensor& query, const Tensor& key, const Tensor& value,
                                    const Tensor& attn_mask, double dropout_p, bool is_causal,
                                    std::optional<double> scale, Generator* gen) {
  check_defined(query, kOp, "query");
  check_defined(key, kOp, "key");
  check_defined(value, kOp, "value");
  NABLA_CHECK(query.is_floating_point(), "{}: expected floating-point query, key and value, got {}", kOp,
              dtype_name(query.dtype()));
  NABLA_CHECK(key.dtype() == query.dtype() && value.dtype() == query.dtype(),
              "{}: expected query, key and value of one dtype, got {}, {} and {}", kOp,
              dtype_name(query.dtype()), dtype_name(key.dtype()), dtype_name(value.dtype()));
  NABLA_CHECK(
      query.dim() >= 2 && key.dim() >= 2 && value.dim() >= 2,
      "{}: expected query [..., L, E], key [..., S, E] and value [..., S, Ev] of at least 2 dims, got "
      "{}, {} and {}",
      kOp, query.shape_str(), key.shape_str(), value.shape_str());
  const int64_t L = query.size(-2), E = query.size(-1), S = key.size(-2), Ev = value.size(-1);
  NABLA_CHECK(
      key.size(-1) == E,
      "{}: query [..., L, E] and key [..., S, E] must have the same last size E, got query {} and key {}",
      kOp, query.shape_str(), key.shape_str());
  NABLA_CHECK(
      value.size(-2) == S,
      "{}: key [..., S, E] and value [..., S, Ev] must have the same number of rows S, got key {} and "
      "value {}",
      kOp, key.shape_str(), value.shape_str());
  NABLA_CHECK(dropout_p >= 0.0 && dropout_p <= 1.0, "{}: dropout_p must be in [0, 1], got {}", kOp,
              dropout_p);
  NABLA_CHECK(!(is_causal && attn_mask.defined()),
              "{}: attn_mask and is_causal were both given; pass one of them (as PyTorch)", kOp);

  Shape batch;
  NABLA_CHECK(
      broadcast_into(leading(query), leading(key), &batch) && broadcast_into(batch, leading(value), &batch),
      "{}: the batch dims of query {}, key {} and value {} do not broadcast", kOp, query.shape_str(),
      key.shape_str(), value.shape_str());
  if (attn_mask.defined()) {
    NABLA_CHECK(attn_mask.dtype() == kBool || attn_mask.dtype() == query.dtype(),
                "{}: expected a bool attn_mask or one of the query's dtype {}, got {}", kOp,
                dtype_name(query.dtype()), dtype_name(attn_mask.dtype()));
    const Shape weights = with_last(batch, L, S);
    Shape full;
    NABLA_CHECK(
        broadcast_into(weights, attn_mask.sizes(), &full) && full[full.size() - 2] == L &&
            full[full.size() - 1] == S,
        "{}: attn_mask of shape {} does not broadcast to the attention weights' shape {} ([..., L, S])", kOp,
        attn_mask.shape_str(), shape_to_string(weights));
    batch.assign(full.begin(), full.end() - 2);
  }
  int64_t n = 1;
  for (std::size_t d = 0; d + 1 < batch.size(); ++d) n *= batch[d];
  const int64_t h = batch.empty() ? 1 : batch.back();

  AttentionParams p;
  p.scale = scale ? *scale : 1.0 / std::sqrt(static_cast<double>(E));
  p.dropout_p = dropout_p;
  p.is_causal = is_causal;
  if (dropout_p > 0.0) {
    if (gen != nullptr) {
      const GeneratorState s = gen->next();
      p.slot = {s.seed, s.offset};
    } else {
      p.slot = next_philox_slot();
    }
  }
  // the mask, when there is one, is a fourth input (an undefined one could not be saved)
  std::vector<Tensor> in{as_nh(query, batch, n, h, L, E), as_nh(key, batch, n, h, S, E),
                         as_nh(value, batch, n, h, S, Ev)};
  if (attn_mask.defined()) in.push_back(as_nh(attn_mask, batch, n, h, L, S));
  const ScalarType lse_dtype = query.dtype() == kFloat64 ? kFloat64 : kFloat32;
  std::array<Tensor, 2> out{make_tensor({n, h, L, Ev}, query.dtype(), query.device(), kOp),
                            make_tensor({n, h, L}, lse_dtype, query.device(), kOp)};
  run_op(Op::scaled_dot_product_attention, std::span<const Tensor>(in.data(), in.size()),
         std::span<Tensor>(out.data(), out.size()), p.params());
  return out[0].view(with_last(batch, L, Ev));
}

}  // namespace nabla::nn::functional

// scaled_dot_product_attention beyond op_db's gradcheck and dtype checks: the fused op against
// the explicit composite softmax(q k^T scale + mask) v in float64 (forward at 1e-12, gradients
// at 1e-10), across the CPU kernel's block boundaries; the rule for rows without keys; the
// dropout stream (reproducible, the documented Philox draws, a backward consistent with the
// same mask); thread-count independence; the errors; and double backward refused.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

namespace F = nn::functional;
using test_util::all_close;
using test_util::throws_with;

constexpr double kInf = std::numeric_limits<double>::infinity();

// float64 values uniform in [lo, hi), from their own generator.
Tensor uniform(const Shape& shape, uint64_t seed, double lo = -1.0, double hi = 1.0) {
  Generator g(seed);
  return rand(shape, g, TensorOptions(kFloat64)) * (hi - lo) + lo;
}

Tensor leaf(const Tensor& t) { return t.detach().clone().requires_grad_(true); }

// The keep-mask of is_causal: key j takes part in row i when j <= i.
Tensor causal_mask(int64_t L, int64_t S) {
  return ge(arange(L, TensorOptions(kInt64)).unsqueeze(1), arange(S, TensorOptions(kInt64)).unsqueeze(0));
}

// The explicit composite (PyTorch's math path): scores, mask, softmax, optional dropout
// factors `drop` (broadcast to the weights), then the product with v.
Tensor composite(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, bool causal,
                 double scale, const Tensor& drop = Tensor()) {
  Tensor s = matmul(q, k.transpose(-2, -1)) * scale;
  Tensor keep = causal ? causal_mask(q.size(-2), k.size(-2)) : Tensor();
  if (mask.defined() && mask.dtype() == kBool) keep = mask;
  if (keep.defined()) s = where(keep, s, Scalar(-kInf));
  if (mask.defined() && mask.dtype() != kBool) s = s + mask;
  Tensor p = softmax(s, -1);
  if (drop.defined()) p = p * drop;
  return matmul(p, v);
}

struct Case {
  const char* name;
  Shape q, k, v;
  int mask = 0;  // 0 none, 1 bool, 2 additive (with some -inf)
  Shape mask_shape = {};
  bool causal = false;
  double scale = 0.0;  // 0: the default 1 / sqrt(E)
};

Tensor make_mask(const Case& c, uint64_t seed) {
  if (c.mask == 0) return Tensor();
  const Tensor u = uniform(c.mask_shape, seed);
  // bool: about 3/4 of the keys take part; the key 0 always does, so no row is empty
  Tensor first = eq(arange(c.mask_shape.back(), TensorOptions(kInt64)), int64_t{0});
  if (c.mask == 1) return gt(gt(u, -0.5).to(kFloat64) + first.to(kFloat64), 0.5);
  // additive: values in [-2, 1), -inf at about 1/8 of the keys (never key 0)
  const Tensor vals = u * 1.5 - 0.5;
  return where(first, vals, where(lt(u, -0.75), Scalar(-kInf), vals));
}

std::vector<Case> cases() {
  return {
      {"no mask, L != S, E != Ev", {2, 3, 7, 5}, {2, 3, 11, 5}, {2, 3, 11, 4}},
      {"unbatched", {6, 8}, {9, 8}, {9, 3}},
      {"broadcast: shared key, one value", {2, 3, 5, 4}, {2, 1, 6, 4}, {6, 2}},
      {"bool mask", {2, 2, 5, 4}, {2, 2, 7, 4}, {2, 2, 7, 3}, 1, {2, 1, 5, 7}},
      {"additive mask with -inf", {2, 2, 5, 4}, {2, 2, 7, 4}, {2, 2, 7, 3}, 2, {5, 7}},
      {"causal L < S", {2, 6, 4}, {2, 9, 4}, {2, 9, 3}, 0, {}, true},
      {"causal L > S", {2, 9, 4}, {2, 4, 4}, {2, 4, 5}, 0, {}, true},
      {"scale", {3, 5, 4}, {3, 6, 4}, {3, 6, 4}, 0, {}, false, 0.3},
      // past the CPU kernel's blocks (32 queries, 64 keys), partial last blocks
      {"long, causal", {1, 2, 70, 16}, {1, 2, 150, 16}, {1, 2, 150, 8}, 0, {}, true},
      {"long, additive mask", {2, 45, 8}, {2, 130, 8}, {2, 130, 8}, 2, {2, 45, 130}},
      {"long, bool mask over keys", {2, 2, 40, 8}, {2, 2, 100, 8}, {2, 2, 100, 8}, 1, {2, 1, 1, 100}},
  };
}

double scale_of(const Case& c) { return c.scale != 0.0 ? c.scale : 1.0 / std::sqrt(double(c.q.back())); }

Tensor fused(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& mask, const Case& c) {
  return F::scaled_dot_product_attention(q, k, v, mask, 0.0, c.causal,
                                         c.scale != 0.0 ? std::optional<double>(c.scale) : std::nullopt);
}

TEST(Attention, ForwardMatchesCompositeFloat64) {
  uint64_t seed = 100;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor q = uniform(c.q, ++seed), k = uniform(c.k, ++seed), v = uniform(c.v, ++seed);
    const Tensor mask = make_mask(c, ++seed);
    const Tensor got = fused(q, k, v, mask, c);
    const Tensor want = composite(q, k, v, mask, c.causal, scale_of(c));
    EXPECT_EQ(got.dtype(), kFloat64);
    EXPECT_TRUE(all_close(got, want, 1e-12, 0.0));
  }
}

TEST(Attention, GradientsMatchCompositeFloat64) {
  uint64_t seed = 200;
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    const Tensor q0 = uniform(c.q, ++seed), k0 = uniform(c.k, ++seed), v0 = uniform(c.v, ++seed);
    const Tensor m0 = make_mask(c, ++seed);
    const bool mask_grad = c.mask == 2;
    std::vector<std::vector<Tensor>> grads;
    for (int fused_op = 0; fused_op < 2; ++fused_op) {
      std::vector<Tensor> in{leaf(q0), leaf(k0), leaf(v0)};
      Tensor mask = m0;
      if (mask_grad) mask = leaf(m0), in.push_back(mask);
      const Tensor out = fused_op ? fused(in[0], in[1], in[2], mask, c)
                                  : composite(in[0], in[1], in[2], mask, c.causal, scale_of(c));
      const Tensor w = uniform(out.sizes(), 7);  // a fixed upstream gradient
      grads.push_back(autograd::grad({out}, in, {w}));
    }
    for (std::size_t i = 0; i < grads[0].size(); ++i) {
      EXPECT_EQ(grads[1][i].sizes(), grads[0][i].sizes()) << "input " << i;
      // (-inf mask entries get 0 from both)
      EXPECT_TRUE(all_close(grads[1][i], grads[0][i], 1e-10, 0.0)) << "gradient of input " << i;
    }
  }
}

TEST(Attention, Float32AndBFloat16MatchFloat64LongRows) {
  // the accumulation in float over long rows and several blocks
  const Tensor q = uniform({2, 2, 50, 32}, 1), k = uniform({2, 2, 200, 32}, 2),
               v = uniform({2, 2, 200, 16}, 3);
  const Tensor want = F::scaled_dot_product_attention(q, k, v, Tensor(), 0.0, true);
  const Tensor f32 =
      F::scaled_dot_product_attention(q.to(kFloat32), k.to(kFloat32), v.to(kFloat32), Tensor(), 0.0, true);
  EXPECT_EQ(f32.dtype(), kFloat32);
  EXPECT_TRUE(all_close(f32, want, 2e-6, 1e-5));
  const Tensor qb = q.to(kBFloat16), kb = k.to(kBFloat16), vb = v.to(kBFloat16);
  const Tensor bf = F::scaled_dot_product_attention(qb, kb, vb, Tensor(), 0.0, true);
  const Tensor ref =
      F::scaled_dot_product_attention(qb.to(kFloat64), kb.to(kFloat64), vb.to(kFloat64), Tensor(), 0.0, true);
  EXPECT_EQ(bf.dtype(), kBFloat16);
  EXPECT_TRUE(all_close(bf, ref, 1e-2, 1e-2));  // the output's own rounding (8 bits) and no more
}

TEST(Attention, RowWithoutKeysGivesZeroAndNoGradient) {
  const Tensor q = leaf(uniform({2, 3, 4}, 11)), k = leaf(uniform({2, 5, 4}, 12)),
               v = leaf(uniform({2, 5, 3}, 13));
  // row 1 of batch 0 sees no key (bool mask), row 2 of batch 1 only -inf (additive mask)
  std::vector<double> keep(2 * 3 * 5, 1.0), bias(2 * 3 * 5, 0.25);
  for (int j = 0; j < 5; ++j) keep[1 * 5 + j] = 0.0, bias[(3 + 2) * 5 + j] = -kInf;
  const Tensor bool_mask = ne(from_vector(keep, {2, 3, 5}), 0.0);
  const Tensor add_mask = from_vector(bias, {2, 3, 5});
  for (const Tensor& mask : {bool_mask, add_mask}) {
    const Tensor out = F::scaled_dot_product_attention(q, k, v, mask);
    const int64_t b = mask.dtype() == kBool ? 0 : 1, i = mask.dtype() == kBool ? 1 : 2;
    EXPECT_TRUE(all_close(out.select(0, b).select(0, i), std::vector<double>{0, 0, 0}, 0.0, 0.0));
    // the other rows are the composite's (which is NaN in the empty row, as PyTorch < 2.5)
    const Tensor want = composite(q.detach(), k.detach(), v.detach(), mask, false, 0.5);
    const Tensor other = out.select(0, 1 - b);
    EXPECT_TRUE(all_close(other, want.select(0, 1 - b), 1e-12, 0.0));
    // no gradient from the empty row: a loss on that row alone gives zero gradients
    const auto g = autograd::grad({out.select(0, b).select(0, i).sum()}, {q, k, v});
    for (const Tensor& t : g) EXPECT_TRUE(all_close(t, zeros(t.sizes(), kFloat64), 0.0, 0.0));
  }
}

TEST(Attention, NoKeysAtAll) {
  const Tensor q = leaf(uniform({2, 3, 4}, 21)), k = leaf(zeros({2, 0, 4}, kFloat64)),
               v = leaf(zeros({2, 0, 5}, kFloat64));
  const Tensor out = F::scaled_dot_product_attention(q, k, v);
  ASSERT_EQ(out.sizes(), (Shape{2, 3, 5}));
  EXPECT_TRUE(all_close(out, zeros({2, 3, 5}, kFloat64), 0.0, 0.0));
  out.sum().backward();
  EXPECT_TRUE(all_close(q.grad(), zeros({2, 3, 4}, kFloat64), 0.0, 0.0));
  const Tensor none = F::scaled_dot_product_attention(zeros({2, 0, 4}, kFloat64), k.detach(), v.detach());
  EXPECT_EQ(none.sizes(), (Shape{2, 0, 5}));
}

// The documented dropout stream: weight (b, i, j) is kept when the float32 uniform that
// rand() draws for element (b, i, j) of an [N, H, L, S] tensor from the same generator state
// is >= p; kept weights are scaled by 1 / (1 - p).
Tensor expected_dropout(const Shape& weights, uint64_t seed, double p) {
  Generator g(seed);
  const std::vector<float> u = rand(weights, g, TensorOptions(kFloat32)).to_vector<float>();
  std::vector<double> z(u.size());
  for (std::size_t i = 0; i < u.size(); ++i) z[i] = u[i] >= static_cast<float>(p) ? 1.0 / (1.0 - p) : 0.0;
  return from_vector(z, weights);
}

TEST(Attention, DropoutIsThePhiloxStreamAndReproducible) {
  const double p = 0.4;
  const Tensor q = uniform({2, 3, 6, 4}, 31), k = uniform({2, 3, 9, 4}, 32), v = uniform({2, 3, 9, 5}, 33);
  const Tensor mask = make_mask({"", {}, {}, {}, 2, {6, 9}}, 34);
  auto run = [&](uint64_t seed) {
    Generator g(seed);
    return F::scaled_dot_product_attention(q, k, v, mask, p, false, std::nullopt, &g);
  };
  const Tensor a = run(5), b = run(5), c = run(6);
  EXPECT_TRUE(all_close(a, b, 0.0, 0.0));                    // same generator state: same output
  EXPECT_FALSE(all_close(a, c, 1e-3, 0.0));                  // another seed: other masks
  const Tensor drop = expected_dropout({2, 3, 6, 9}, 5, p);  // the masks it drew
  EXPECT_TRUE(all_close(a, composite(q, k, v, mask, false, 0.5, drop), 1e-12, 0.0));
  // the global generator: one draw per call, reproducible after manual_seed
  manual_seed(77);
  const Tensor g1 = F::scaled_dot_product_attention(q, k, v, mask, p);
  const Tensor g2 = F::scaled_dot_product_attention(q, k, v, mask, p);
  manual_seed(77);
  EXPECT_TRUE(all_close(F::scaled_dot_product_attention(q, k, v, mask, p), g1, 0.0, 0.0));
  EXPECT_FALSE(all_close(g1, g2, 1e-3, 0.0));
  // dropout_p = 1 drops everything
  EXPECT_TRUE(all_close(F::scaled_dot_product_attention(q, k, v, Tensor(), 1.0),
                        zeros({2, 3, 6, 5}, kFloat64), 0.0, 0.0));
}

TEST(Attention, DropoutBackwardMatchesCompositeWithTheSameMask) {
  const double p = 0.25;
  const Tensor q0 = uniform({2, 2, 7, 4}, 41), k0 = uniform({2, 1, 70, 4}, 42),
               v0 = uniform({2, 2, 70, 3}, 43);
  const Tensor drop = expected_dropout({2, 2, 7, 70}, 9, p);
  std::vector<std::vector<Tensor>> grads;
  for (int fused_op = 0; fused_op < 2; ++fused_op) {
    std::vector<Tensor> in{leaf(q0), leaf(k0), leaf(v0)};
    Generator g(9);
    const Tensor out = fused_op ? F::scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), p,
                                                                  /*is_causal=*/true, std::nullopt, &g)
                                : composite(in[0], in[1], in[2], Tensor(), true, 0.5, drop);
    grads.push_back(autograd::grad({out}, in, {uniform(out.sizes(), 8)}));
  }
  for (std::size_t i = 0; i < 3; ++i) EXPECT_TRUE(all_close(grads[1][i], grads[0][i], 1e-10, 0.0)) << i;
}

TEST(Attention, ResultsDoNotDependOnTheThreadCount) {
  const Tensor q0 = uniform({3, 2, 70, 8}, 51), k0 = uniform({3, 2, 90, 8}, 52),
               v0 = uniform({3, 2, 90, 8}, 53);
  std::vector<std::vector<Tensor>> runs;
  const int threads = get_num_threads();
  for (int t : {1, 3}) {
    set_num_threads(t);
    std::vector<Tensor> in{leaf(q0.to(kFloat32)), leaf(k0.to(kFloat32)), leaf(v0.to(kFloat32))};
    Generator g(3);
    const Tensor out = F::scaled_dot_product_attention(in[0], in[1], in[2], Tensor(), 0.1, true, 0.2, &g);
    std::vector<Tensor> r = autograd::grad({out}, in, {ones_like(out)});
    r.push_back(out.detach());
    runs.push_back(r);
  }
  set_num_threads(threads);
  for (std::size_t i = 0; i < runs[0].size(); ++i)
    EXPECT_TRUE(all_close(runs[1][i], runs[0][i], 0.0, 0.0)) << i;
}

TEST(Attention, DoubleBackwardIsRefused) {
  const Tensor q = leaf(uniform({2, 3, 4}, 61)), k = leaf(uniform({2, 5, 4}, 62)),
               v = leaf(uniform({2, 5, 3}, 63));
  const Tensor out = F::scaled_dot_product_attention(q, k, v);
  const auto g = autograd::grad({out.sum()}, {q}, {}, std::nullopt, /*create_graph=*/true);
  EXPECT_TRUE(throws_with([&] { (void)autograd::grad({g[0].sum()}, {k}); },
                          {"double backward", "scaled_dot_product_attention"}));
}

TEST(Attention, ErrorsNameTheOpAndTheValues) {
  const Tensor q = uniform({2, 3, 4}, 71), k = uniform({2, 5, 4}, 72), v = uniform({2, 5, 6}, 73);
  auto sdpa = [](const Tensor& a, const Tensor& b, const Tensor& c, const Tensor& m = Tensor(),
                 double p = 0.0,
                 bool causal = false) { return F::scaled_dot_product_attention(a, b, c, m, p, causal); };
  const char* op = "scaled_dot_product_attention";
  EXPECT_TRUE(throws_with([&] { (void)sdpa(uniform({4}, 1), k, v); }, {op, "at least 2 dims", "[4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, uniform({2, 5, 3}, 1), v);
      },
      {op, "same last size E", "[2, 3, 4]", "[2, 5, 3]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, k, uniform({2, 4, 6}, 1));
      },
      {op, "number of rows S", "[2, 5, 4]", "[2, 4, 6]"}));
  EXPECT_TRUE(
      throws_with([&] { (void)sdpa(q, k.to(kFloat32), v); }, {op, "one dtype", "float64", "float32"}));
  EXPECT_TRUE(throws_with([&] { (void)sdpa(q.to(kInt64), k.to(kInt64), v.to(kInt64)); },
                          {op, "floating-point", "int64"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, uniform({3, 5, 4}, 1), uniform({3, 5, 6}, 2));
      },
      {op, "batch dims", "[2, 3, 4]", "[3, 5, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, k, v, zeros({3, 5}, kInt64));
      },
      {op, "attn_mask", "int64", "float64"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, k, v, zeros({3, 5}, kFloat32));
      },
      {op, "attn_mask", "float32"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, k, v, zeros({3, 4}, kBool));
      },
      {op, "attn_mask of shape [3, 4]", "[2, 3, 5]"}));
  EXPECT_TRUE(throws_with([&] { (void)sdpa(q, k, v, zeros({3, 3, 5}, kBool)); }, {op, "[3, 3, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        (void)sdpa(q, k, v, zeros({3, 5}, kBool), 0.0, true);
      },
      {op, "attn_mask and is_causal"}));
  EXPECT_TRUE(throws_with([&] { (void)sdpa(q, k, v, Tensor(), 1.5); }, {op, "dropout_p", "1.5"}));
  EXPECT_TRUE(throws_with([&] { (void)sdpa(q, k, v, Tensor(), -0.1); }, {op, "dropout_p", "-0.1"}));
  EXPECT_TRUE(throws_with([&] { (void)sdpa(Tensor(), k, v); }, {op, "query"}));
  // (devices: every tensor of the op must be on one device, which run_op checks and names the
  // op for; this machine has no second device to show it)
}

}  // namespace
}  // namespace nabla

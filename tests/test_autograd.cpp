// The autograd engine: accumulation, retain_graph, detach, NoGradGuard, requires_grad
// propagation, node names, graphs with shared inputs, broadcasting, explicit gradients, view
// chains, in-place ops on non-leaves, dtype of leaf gradients, gradient ownership, and
// gradcheck's own ability to tell a right gradient from a wrong one.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;

using F = std::vector<float>;
using D = std::vector<double>;

TensorOptions grad_f64() { return TensorOptions(kFloat64).requires_grad(true); }

Tensor leaf(const D& v, const Shape& shape) { return from_vector<double>(v, shape, grad_f64()); }
Tensor leaf(const D& v) { return leaf(v, {static_cast<int64_t>(v.size())}); }

TEST(Autograd, LeavesAndResults) {
  Tensor x = leaf({1, 2, 3});
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_EQ(x.grad_fn_name(), "");
  EXPECT_FALSE(x.grad().defined());  // nothing until backward reaches it
  Tensor y = x * 2;
  EXPECT_TRUE(y.requires_grad());
  EXPECT_FALSE(y.is_leaf());
  Tensor c = ones({3});
  EXPECT_FALSE(c.requires_grad());
  EXPECT_TRUE(c.is_leaf());
  EXPECT_FALSE((c * 2).requires_grad());
  EXPECT_TRUE((c * x).requires_grad());  // one input requiring grad is enough
  // requires_grad_ on an existing tensor makes it a leaf that requires grad
  c.requires_grad_();
  EXPECT_TRUE(c.requires_grad());
  EXPECT_TRUE(c.is_leaf());
  c.requires_grad_(false);
  EXPECT_FALSE(c.requires_grad());
}

TEST(Autograd, GradientsAccumulateAcrossBackwardCallsWithRetainGraph) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = (x * x).sum();
  y.backward(Tensor(), /*retain_graph=*/true);
  EXPECT_TRUE(all_close(x.grad(), {2, 4, 6}, 1e-12, 0));
  y.backward(Tensor(), /*retain_graph=*/true);  // the retained graph runs again and accumulates
  EXPECT_TRUE(all_close(x.grad(), {4, 8, 12}, 1e-12, 0));
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), {6, 12, 18}, 1e-12, 0));
}

TEST(Autograd, GradientsAccumulateAcrossTwoGraphs) {
  Tensor x = leaf({1, 2, 3});
  (x * 3).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {3, 3, 3}, 1e-12, 0));
  (x * x).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {5, 7, 9}, 1e-12, 0));
  // clearing the gradient starts afresh
  x.set_grad(Tensor());
  EXPECT_FALSE(x.grad().defined());
  x.exp().sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {std::exp(1.0), std::exp(2.0), std::exp(3.0)}, 1e-12, 0));
}

TEST(Autograd, RetainGraphAllowsASecondBackwardThroughSavedTensors) {
  Tensor x = leaf({0.5, -1.0});
  Tensor y = (x.sin() * x.exp()).sum();  // sin saves x, exp saves its output
  y.backward(Tensor(), /*retain_graph=*/true);
  const D first = x.grad().to_vector<double>();
  x.set_grad(Tensor());
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), first, 1e-12, 0));
  EXPECT_NEAR(first[0], std::cos(0.5) * std::exp(0.5) + std::sin(0.5) * std::exp(0.5), 1e-12);
  // the graph is freed now: a third backward fails
  EXPECT_THROW(y.backward(), Error);
}

TEST(Autograd, DetachStopsGradients) {
  Tensor x = leaf({1, 2, 3});
  Tensor d = x.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_TRUE(d.is_leaf());
  EXPECT_TRUE(d.is_alias_of(x));
  Tensor y = (d * x).sum();  // d is a constant: dy/dx = d, not 2x
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), {1, 2, 3}, 1e-12, 0));

  // detach_ cuts a non-leaf from its graph in place
  Tensor z = x * 2;
  z.detach_();
  EXPECT_FALSE(z.requires_grad());
  EXPECT_TRUE(z.is_leaf());
  EXPECT_EQ(z.grad_fn_name(), "");
}

TEST(Autograd, NoGradGuardStopsRecordingAndRestores) {
  Tensor x = leaf({1, 2});
  EXPECT_TRUE(GradMode::is_enabled());
  Tensor y;
  {
    NoGradGuard g;
    EXPECT_FALSE(GradMode::is_enabled());
    y = x * 2 + 1;
    EXPECT_FALSE(y.requires_grad());
    EXPECT_TRUE(y.is_leaf());
    EXPECT_EQ(y.grad_fn_name(), "");
    {
      NoGradGuard inner;
      EXPECT_FALSE(GradMode::is_enabled());
    }
    EXPECT_FALSE(GradMode::is_enabled());  // the inner guard restores "off", not "on"
    // in-place updates of leaves are allowed here (what optimizers do)
    x.sub_(from_vector<double>({0.5, 0.5}));
  }
  EXPECT_TRUE(GradMode::is_enabled());
  EXPECT_TRUE(x.is_leaf());
  EXPECT_TRUE(x.requires_grad());
  EXPECT_TRUE(all_close(x, {0.5, 1.5}, 1e-12, 0));
  EXPECT_TRUE(all_close(y, {3, 5}, 1e-12, 0));
  Tensor z = x * 2;
  EXPECT_TRUE(z.requires_grad());
  // GradMode::set_enabled directly
  GradMode::set_enabled(false);
  EXPECT_FALSE((x * 2).requires_grad());
  GradMode::set_enabled(true);
  EXPECT_TRUE((x * 2).requires_grad());
}

TEST(Autograd, RequiresGradPropagation) {
  Tensor x = leaf({-1, 0.5, 2});
  EXPECT_FALSE((x > 0).requires_grad());  // comparisons give bool: no gradient
  EXPECT_FALSE(eq(x, x).requires_grad());
  EXPECT_FALSE(x.argmax().requires_grad());    // indices are int64
  EXPECT_FALSE(x.to(kInt64).requires_grad());  // a cast to an integer type cuts the graph
  EXPECT_FALSE(std::get<1>(x.max(0)).requires_grad());
  EXPECT_TRUE(std::get<0>(x.max(0)).requires_grad());
  EXPECT_TRUE(x.to(kFloat32).requires_grad());
  EXPECT_TRUE(x.t().requires_grad());
  EXPECT_TRUE(x.view({3, 1}).requires_grad());
  EXPECT_TRUE(where(x > 0, x, ones({3}, kFloat64)).requires_grad());
  EXPECT_TRUE(x.clone().requires_grad());
  EXPECT_FALSE(x.detach().clone().requires_grad());
  EXPECT_FALSE(zeros_like(x).requires_grad());
  EXPECT_FALSE(ones({3}).requires_grad());
}

TEST(Autograd, GradFnNames) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  EXPECT_EQ((x * 2).grad_fn_name(), "MulBackward");
  EXPECT_EQ((x + x).grad_fn_name(), "AddBackward");
  EXPECT_EQ((x - 1).grad_fn_name(), "SubBackward");
  EXPECT_EQ((x / 2).grad_fn_name(), "DivBackward");
  EXPECT_EQ(x.sum().grad_fn_name(), "SumBackward");
  EXPECT_EQ(x.mean().grad_fn_name(), "MeanBackward");
  EXPECT_EQ(x.exp().grad_fn_name(), "ExpBackward");
  EXPECT_EQ(x.log_softmax(1).grad_fn_name(), "LogSoftmaxBackward");
  EXPECT_EQ(x.t().grad_fn_name(), "PermuteBackward");
  EXPECT_EQ(x.view({4}).grad_fn_name(), "ViewBackward");
  EXPECT_EQ(x.select(0, 1).grad_fn_name(), "SelectBackward");
  EXPECT_EQ(x.slice(0, 0, 1).grad_fn_name(), "SliceBackward");
  EXPECT_EQ(x.expand({3, 2, 2}).grad_fn_name(), "ExpandBackward");
  EXPECT_EQ(x.to(kFloat32).grad_fn_name(), "CopyBackward");
  EXPECT_EQ(x.pow(2).grad_fn_name(), "PowScalarBackward");
  EXPECT_EQ(x.amax({0}).grad_fn_name(), "AmaxBackward");
  EXPECT_EQ(bmm(x.unsqueeze(0), x.unsqueeze(0)).grad_fn_name(), "BmmBackward");
  EXPECT_EQ(x.gather(0, zeros({1, 2}, kInt64)).grad_fn_name(), "GatherBackward");
  EXPECT_EQ(x.index_select(0, zeros({1}, kInt64)).grad_fn_name(), "IndexSelectBackward");
  EXPECT_EQ(cat({x, x}).grad_fn_name(), "CatBackward");
  EXPECT_EQ(x.grad_fn_name(), "");
}

TEST(Autograd, DiamondGraphs) {
  // x feeds two branches that meet again: y = x*x + exp(x), dy/dx = 2x + exp(x)
  Tensor x = leaf({0.5, -1, 2});
  Tensor y = x * x + x.exp();
  y.sum().backward();
  const D xv = {0.5, -1, 2};
  EXPECT_TRUE(all_close(
      x.grad(), {2 * xv[0] + std::exp(xv[0]), 2 * xv[1] + std::exp(xv[1]), 2 * xv[2] + std::exp(xv[2])},
      1e-12, 0));

  // a deeper diamond through a shared intermediate: a = x*3; z = a*a + a -> dz/dx = 3(2a + 1)
  Tensor w = leaf({1, 2});
  Tensor a = w * 3;
  Tensor z = (a * a + a).sum();
  z.backward();
  EXPECT_TRUE(all_close(w.grad(), {3 * (2 * 3 + 1), 3 * (2 * 6 + 1)}, 1e-12, 0));

  // the same tensor used twice in one op
  Tensor v = leaf({3});
  (v * v * v).sum().backward();
  EXPECT_TRUE(all_close(v.grad(), {27}, 1e-12, 0));
}

TEST(Autograd, GradientsOfBroadcastInputsAreSummedToTheirShape) {
  Tensor a = leaf({1, 2, 3}, {3, 1});
  Tensor b = leaf({10, 20, 30, 40}, {4});
  Tensor s = leaf({2}, {});
  Tensor y = ((a * b) * s).sum();
  y.backward();
  ASSERT_EQ(a.grad().sizes(), (Shape{3, 1}));
  ASSERT_EQ(b.grad().sizes(), (Shape{4}));
  ASSERT_EQ(s.grad().sizes(), (Shape{}));
  EXPECT_TRUE(all_close(a.grad(), {200, 200, 200}, 1e-12, 0));   // s * sum(b)
  EXPECT_TRUE(all_close(b.grad(), {12, 12, 12, 12}, 1e-12, 0));  // s * sum(a)
  EXPECT_TRUE(all_close(s.grad(), {6 * 100}, 1e-12, 0));         // sum(a) * sum(b)

  // expand and add with leading broadcast dims
  Tensor c = leaf({1, 2}, {1, 2});
  (c.expand({3, 2}) + zeros({2, 3, 2}, kFloat64)).sum().backward();
  EXPECT_TRUE(all_close(c.grad(), {6, 6}, 1e-12, 0));
}

TEST(Autograd, NonScalarBackwardWithAnExplicitGradient) {
  Tensor x = leaf({1, 2, 3});
  Tensor y = x * x;
  y.backward(from_vector<double>({1, 0.5, -1}));
  EXPECT_TRUE(all_close(x.grad(), {2, 2, -6}, 1e-12, 0));
  // a gradient of another dtype is converted to the output's dtype
  Tensor z = leaf({1, 2});
  (z * 3).backward(from_vector<float>({1, 2}));
  EXPECT_TRUE(all_close(z.grad(), {3, 6}, 1e-12, 0));
  EXPECT_EQ(z.grad().dtype(), kFloat64);
  // several roots at once
  Tensor p = leaf({1, 2});
  autograd::backward({p * 2, (p * p).sum()}, {ones({2}, kFloat64), Tensor()});
  EXPECT_TRUE(all_close(p.grad(), {4, 6}, 1e-12, 0));
}

TEST(Autograd, BackwardThroughAViewChain) {
  Tensor x = leaf({0, 1, 2, 3, 4, 5}, {2, 3});
  // t() -> [3, 2]; reshape copies (non-contiguous); narrow keeps elements 1..3 of the flat
  // order x00, x10, x01, x11, x02, x12, i.e. x10, x01, x11
  Tensor y = x.t().reshape({6}).narrow(0, 1, 3);
  EXPECT_TRUE(all_close(y, {3, 1, 4}, 1e-12, 0));
  (y * from_vector<double>({1, 2, 3})).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {0, 2, 0, 1, 3, 0}, 1e-12, 0));

  Tensor u = leaf({0, 1, 2, 3, 4, 5}, {2, 3});
  Tensor v = u.unsqueeze(0).expand({2, 2, 3}).select(2, 1).permute({1, 0}).slice(0, 1, 2).squeeze(0);
  EXPECT_TRUE(all_close(v, {4, 4}, 1e-12, 0));
  v.sum().backward();
  EXPECT_TRUE(all_close(u.grad(), {0, 0, 0, 0, 2, 0}, 1e-12, 0));
  // a strided slice
  Tensor s = leaf({1, 2, 3, 4, 5});
  (s.slice(0, 0, 5, 2) * 10).sum().backward();
  EXPECT_TRUE(all_close(s.grad(), {10, 0, 10, 0, 10}, 1e-12, 0));
}

TEST(Autograd, CopyIntoANonLeafRebasesItsHistory) {
  Tensor x = leaf({1, 2});
  Tensor z = leaf({5, 6});
  Tensor y = x * 2;
  y.copy_(z * 3);  // y's old history (from x) is overwritten; y now comes from z
  EXPECT_TRUE(y.requires_grad());
  EXPECT_EQ(y.grad_fn_name(), "CopyBackward");
  EXPECT_TRUE(all_close(y, {15, 18}, 1e-12, 0));
  y.sum().backward();
  EXPECT_TRUE(all_close(z.grad(), {3, 3}, 1e-12, 0));
  EXPECT_FALSE(x.grad().defined());  // x no longer reaches y

  // copying into a float32 non-leaf from a float64 source: the gradient comes back as float64
  Tensor w = leaf({1, 2});
  Tensor t = zeros({2}, TensorOptions(kFloat32)) * ones({2}, TensorOptions(kFloat32).requires_grad(true));
  t.copy_(w);
  t.sum().backward();
  EXPECT_TRUE(all_close(w.grad(), {1, 1}, 1e-12, 0));
  EXPECT_EQ(w.grad().dtype(), kFloat64);
}

TEST(Autograd, InPlaceOpsOnNonLeaves) {
  {
    Tensor x = leaf({1, 2, 3});
    Tensor y = x * 2;
    y.add_(1);
    EXPECT_EQ(y.grad_fn_name(), "AddBackward");
    EXPECT_TRUE(all_close(y, {3, 5, 7}, 1e-12, 0));
    y.sum().backward();
    EXPECT_TRUE(all_close(x.grad(), {2, 2, 2}, 1e-12, 0));
  }
  {
    Tensor x = leaf({1, 2, 3});
    Tensor y = x * 2;
    y.mul_(3);
    y.sum().backward();
    EXPECT_TRUE(all_close(x.grad(), {6, 6, 6}, 1e-12, 0));
  }
  {  // an in-place op whose own formula needs its result: exp_
    Tensor x = leaf({0.5, 1});
    Tensor y = x + 0;
    y.exp_();
    y.sum().backward();
    EXPECT_TRUE(all_close(x.grad(), {std::exp(0.5), std::exp(1.0)}, 1e-12, 0));
  }
  {  // in-place with another tensor that requires grad
    Tensor x = leaf({1, 2});
    Tensor w = leaf({3, 4});
    Tensor y = x * 1;
    y *= w;
    y.sum().backward();
    EXPECT_TRUE(all_close(x.grad(), {3, 4}, 1e-12, 0));
    EXPECT_TRUE(all_close(w.grad(), {1, 2}, 1e-12, 0));
  }
  {  // an in-place op on a tensor that did not require grad starts tracking
    Tensor w = leaf({3, 4});
    Tensor y = zeros({2}, kFloat64);
    y.add_(w);
    EXPECT_TRUE(y.requires_grad());
    (y * y).sum().backward();
    EXPECT_TRUE(all_close(w.grad(), {6, 8}, 1e-12, 0));
  }
  {  // masked_fill_ and clamp_ on a non-leaf
    Tensor x = leaf({-2, 0.5, 3});
    Tensor y = x * 1;
    y.clamp_(-1, 1);
    y.masked_fill_(from_vector<bool>({false, false, true}), 0.0);
    y.sum().backward();
    EXPECT_TRUE(all_close(x.grad(), {0, 1, 0}, 1e-12, 0));
  }
}

// In-place ops whose backward formula needs the input's original value (abs, log, clamp,
// pow, and mul/div by a tensor that requires grad) must save that value, not an alias of
// the tensor they overwrite. Each is checked against its out-of-place form.
TEST(Autograd, InPlaceOpsWhoseFormulaNeedsTheOriginalValue) {
  using Fn = void (*)(Tensor&, const Tensor&);
  struct Case {
    const char* name;
    Fn inplace;
    Tensor (*out_of_place)(const Tensor&, const Tensor&);
  };
  const Case cases[] = {
      {"abs_", [](Tensor& y, const Tensor&) { y.abs_(); },
       [](const Tensor& y, const Tensor&) { return y.abs(); }},
      {"log_", [](Tensor& y, const Tensor&) { y.abs_().log_(); },
       [](const Tensor& y, const Tensor&) { return y.abs().log(); }},
      {"clamp_", [](Tensor& y, const Tensor&) { y.clamp_(-1, 1); },
       [](const Tensor& y, const Tensor&) { return y.clamp(-1, 1); }},
      {"pow_", [](Tensor& y, const Tensor&) { y.pow_(3); },
       [](const Tensor& y, const Tensor&) { return y.pow(3); }},
      {"sqrt_", [](Tensor& y, const Tensor&) { y.abs_().sqrt_(); },
       [](const Tensor& y, const Tensor&) { return y.abs().sqrt(); }},
      {"mul_", [](Tensor& y, const Tensor& w) { y.mul_(w); },
       [](const Tensor& y, const Tensor& w) { return y * w; }},
      {"div_", [](Tensor& y, const Tensor& w) { y.div_(w); },
       [](const Tensor& y, const Tensor& w) { return y / w; }},
      {"sub_", [](Tensor& y, const Tensor& w) { y.sub_(w, 2); },
       [](const Tensor& y, const Tensor& w) { return y.sub(w, 2); }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Tensor x1 = leaf({-2, 0.5, 3}), w1 = leaf({1, 2, -4});
    Tensor y1 = x1 * 1.5;
    c.inplace(y1, w1);
    (y1 * from_vector<double>({1, 2, 3})).sum().backward();

    Tensor x2 = leaf({-2, 0.5, 3}), w2 = leaf({1, 2, -4});
    Tensor y2 = c.out_of_place(x2 * 1.5, w2);
    (y2 * from_vector<double>({1, 2, 3})).sum().backward();

    EXPECT_TRUE(all_close(y1, y2.to_vector<double>(), 1e-12, 0));
    EXPECT_TRUE(all_close(x1.grad(), x2.grad().to_vector<double>(), 1e-12, 0));
    if (w2.grad().defined())
      EXPECT_TRUE(all_close(w1.grad(), w2.grad().to_vector<double>(), 1e-12, 0));
    else
      EXPECT_FALSE(w1.grad().defined());
  }
}

TEST(Autograd, ModifyingATensorThatIsNotSavedIsFine) {
  // mul saves only the operand the other one's gradient needs: with c constant, x*c saves c
  Tensor x = leaf({1, 2});
  Tensor c = from_vector<double>({3, 4});
  Tensor y = (x * c).sum();
  {
    NoGradGuard g;
    x.add_(10);  // x was not saved
  }
  y.backward();
  EXPECT_TRUE(all_close(x.grad(), {3, 4}, 1e-12, 0));
  // but modifying c would have been caught
  Tensor y2 = (x * c).sum();
  c.add_(1);
  EXPECT_THROW(y2.backward(), Error);
}

TEST(Autograd, LeafGradKeepsTheLeafDtype) {
  Tensor x = ones({3}, TensorOptions(kFloat32).requires_grad(true));
  Tensor y = x.to(kFloat64) * 2.5;
  EXPECT_EQ(y.dtype(), kFloat64);
  y.sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().dtype(), kFloat32);
  EXPECT_EQ(x.grad().to_vector<float>(), (F{2.5f, 2.5f, 2.5f}));
  // and the other way round: a float64 leaf through a float16 computation
  Tensor w = leaf({1, 2});
  (w.to(kFloat16) * 2).to(kFloat32).sum().backward();
  EXPECT_EQ(w.grad().dtype(), kFloat64);
  EXPECT_TRUE(all_close(w.grad(), {2, 2}, 1e-12, 0));
  // mixed-dtype binary ops send each input its own dtype
  Tensor a = ones({2}, TensorOptions(kFloat32).requires_grad(true));
  Tensor b = leaf({3, 4});
  (a * b).sum().backward();
  EXPECT_EQ(a.grad().dtype(), kFloat32);
  EXPECT_EQ(b.grad().dtype(), kFloat64);
  EXPECT_EQ(a.grad().to_vector<float>(), (F{3, 4}));
}

TEST(Autograd, GradientsAreOwnedByTheirLeaves) {
  // a + b hands the same incoming gradient to both inputs: the leaves must not share it
  Tensor a = leaf({1, 2});
  Tensor b = leaf({3, 4});
  (a + b).sum().backward();
  EXPECT_FALSE(a.grad().is_alias_of(b.grad()));
  {
    NoGradGuard g;
    a.grad().mul_(10);
  }
  EXPECT_TRUE(all_close(b.grad(), {1, 1}, 1e-12, 0));
  // nor may a leaf's gradient alias the gradient the caller passed in
  Tensor x = leaf({1, 2, 3});
  Tensor gy = ones({3}, kFloat64);
  (x + 1).backward(gy);
  EXPECT_FALSE(x.grad().is_alias_of(gy));
  gy.fill_(5);
  EXPECT_TRUE(all_close(x.grad(), {1, 1, 1}, 1e-12, 0));
  // backward on a leaf itself
  Tensor l = leaf({1, 2});
  Tensor gl = from_vector<double>({7, 8});
  l.backward(gl);
  EXPECT_TRUE(all_close(l.grad(), {7, 8}, 1e-12, 0));
  gl.zero_();
  EXPECT_TRUE(all_close(l.grad(), {7, 8}, 1e-12, 0));
}

TEST(Autograd, UnreachedInputsGetNoGradient) {
  Tensor x = leaf({1, 2});
  Tensor unused = leaf({3});
  Tensor idx = from_vector<int64_t>({1});
  (x.index_select(0, idx) * 2).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), {0, 2}, 1e-12, 0));
  EXPECT_FALSE(unused.grad().defined());
}

TEST(Autograd, FormulasThroughReductionsSoftmaxAndMatmul) {
  Tensor x = leaf({1, 2, 3, 4}, {2, 2});
  // sum over dim with keepdim, then broadcast back
  (x / x.sum(1, /*keepdim=*/true)).select(1, 0).sum().backward();
  // d/dx00 (x00/(x00+x01)) = x01/(x00+x01)^2 = 2/9; d/dx01 = -x00/9 = -1/9
  EXPECT_TRUE(all_close(x.grad(), {2.0 / 9, -1.0 / 9, 4.0 / 49, -3.0 / 49}, 1e-12, 0));

  Tensor a = leaf({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = leaf({1, 0, 0, 1, 1, 1}, {3, 2});
  matmul(a, w).sum().backward();
  EXPECT_TRUE(all_close(a.grad(), {1, 1, 2, 1, 1, 2}, 1e-12, 0));  // ones(2,2) @ w^T
  EXPECT_TRUE(all_close(w.grad(), {5, 5, 7, 7, 9, 9}, 1e-12, 0));  // a^T @ ones(2,2)

  Tensor s = leaf({1, 2, 3});
  s.softmax(0).select(0, 2).backward();
  const double e1 = std::exp(1.0), e2 = std::exp(2.0), e3 = std::exp(3.0), z = e1 + e2 + e3;
  const double p3 = e3 / z;
  EXPECT_TRUE(all_close(s.grad(), {-p3 * e1 / z, -p3 * e2 / z, p3 * (1 - p3)}, 1e-12, 0));

  // max ties split the gradient evenly (amax), max(dim) routes it to the chosen index
  Tensor m = leaf({1, 3, 3});
  m.amax({0}).backward();
  EXPECT_TRUE(all_close(m.grad(), {0, 0.5, 0.5}, 1e-12, 0));
  Tensor n = leaf({1, 3, 3});
  std::get<0>(n.max(0)).backward();
  EXPECT_TRUE(all_close(n.grad(), {0, 1, 0}, 1e-12, 0));
}

TEST(Autograd, GradcheckAcceptsACorrectCompositeFunction) {
  manual_seed(11);
  const Tensor x = (rand({2, 3}, kFloat64) + 0.5).requires_grad_();
  const Tensor w = randn({3, 2}, kFloat64).requires_grad_();
  auto fn = [](const std::vector<Tensor>& in) {
    const Tensor h = matmul(in[0], in[1]).tanh();       // [2, 2]
    const Tensor s = in[0].softmax(1).narrow(1, 0, 2);  // [2, 2]
    return h * in[0].sum(1, /*keepdim=*/true) + s.exp() / (in[0].pow(2).mean() + 1);
  };
  const autograd::GradcheckResult r = autograd::gradcheck(fn, {x, w});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r.message.empty());
  EXPECT_LT(r.max_abs_error, 1e-6);
  // the inputs themselves are left untouched (no gradient written into them)
  EXPECT_FALSE(x.grad().defined());
}

TEST(Autograd, GradcheckDetectsAWrongGradient) {
  manual_seed(12);
  const Tensor x = (rand({3}, kFloat64) + 0.5).requires_grad_();
  // x.detach() * x has value x^2 but its recorded gradient is x, not 2x
  const autograd::GradcheckResult r =
      autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0].detach() * in[0]; }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_FALSE(r.message.empty());
  EXPECT_NE(r.message.find("input 0"), std::string::npos) << r.message;
  EXPECT_GT(r.max_abs_error, 0.4);  // |x - 2x| with x >= 0.5
  // a function whose graph is cut entirely: analytic 0 vs numeric 2x
  const autograd::GradcheckResult r2 =
      autograd::gradcheck([](const std::vector<Tensor>& in) { return in[0].detach().pow(2); }, {x});
  EXPECT_FALSE(r2.ok);
  EXPECT_FALSE(r2.message.empty());
}

}  // namespace
}  // namespace nabla

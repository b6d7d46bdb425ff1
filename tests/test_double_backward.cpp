// Higher-order gradients: autograd::grad (its errors and what it leaves untouched),
// create_graph on grad and backward, saved tensors without reference cycles, ops whose double
// backward is not supported, and gradgradcheck over op_db's differentiable families and the
// losses.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "autograd/node.h"
#include "op_db.h"
#include "tensor/tensor_impl.h"
#include "test_util.h"

namespace nabla::testing {
namespace {

using test_util::all_close;
namespace F = nn::functional;

Tensor leaf(const std::vector<double>& v, const Shape& shape) {
  return from_vector(v, shape).requires_grad_(true);
}

TEST(Grad, ReturnsGradientsWithoutTouchingDotGrad) {
  Tensor x = leaf({1.0, 2.0, 3.0}, {3});
  Tensor w = leaf({0.5, -1.0, 2.0}, {3});
  const Tensor y = (x * x * w).sum();
  const std::vector<Tensor> g = autograd::grad({y}, {x});
  ASSERT_EQ(g.size(), 1u);
  EXPECT_TRUE(all_close(g[0], std::vector<double>{1.0, -4.0, 12.0}, 1e-12, 0));
  EXPECT_FALSE(g[0].requires_grad());
  EXPECT_FALSE(x.grad().defined());
  EXPECT_FALSE(w.grad().defined());  // the leaf not asked for gets nothing either
}

TEST(Grad, NonLeafInputsAndGradOutputs) {
  Tensor x = leaf({1.0, 2.0}, {2});
  const Tensor h = x * 3.0;
  const Tensor y = h * h;
  // d y / d h = 2 h, contracted with v
  const std::vector<Tensor> g =
      autograd::grad({y}, {h, x}, {from_vector(std::vector<double>{1.0, 0.5}, {2})});
  EXPECT_TRUE(all_close(g[0], std::vector<double>{6.0, 6.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(g[1], std::vector<double>{18.0, 18.0}, 1e-12, 0));
  EXPECT_FALSE(x.grad().defined());
}

TEST(Grad, ErrorsNameTheProblem) {
  Tensor x = leaf({1.0, 2.0}, {2});
  Tensor unused = leaf({1.0}, {1});
  Tensor plain = from_vector(std::vector<double>{1.0}, {1});
  const Tensor y = (x * x).sum();
  EXPECT_NABLA_ERROR(autograd::grad({y}, {plain}, {}, true), "One of the differentiated Tensors",
                     "does not require grad");
  EXPECT_NABLA_ERROR(
      autograd::grad({y}, {unused}, {}, true),
      "One of the differentiated Tensors (input 0, shape [1]) appears to not have been used in the "
      "graph. Set allow_unused=True");
  const std::vector<Tensor> g = autograd::grad({y}, {x, unused}, {}, true, false, /*allow_unused=*/true);
  EXPECT_TRUE(g[0].defined());
  EXPECT_FALSE(g[1].defined());
  EXPECT_NABLA_ERROR(autograd::grad({y}, {x}, {ones({}), ones({})}, true),
                     "grad: got 2 gradients for 1 outputs");
  const Tensor z = x * 2.0;
  EXPECT_NABLA_ERROR(autograd::grad({z}, {x}, {}, true),
                     "grad: grad can be implicitly created only for scalar");
  EXPECT_NABLA_ERROR(autograd::grad({z}, {x}, {ones({3}, TensorOptions(kFloat64))}, true),
                     "grad: gradient of shape [3] does not match output shape [2] (output 0)");
  EXPECT_NABLA_ERROR(autograd::grad({plain * 2.0}, {x}), "grad: element 0 of tensors does not require grad");
  EXPECT_NABLA_ERROR(autograd::grad({y}, {}), "grad: no inputs");
  // retain_graph defaults to create_graph (false): the graph is freed after one call
  const Tensor y2 = (x.exp()).sum();
  (void)autograd::grad({y2}, {x});
  EXPECT_NABLA_ERROR(autograd::grad({y2}, {x}), "backward through the graph a second time");
}

TEST(Grad, SameInputTwiceAndSeveralOutputs) {
  Tensor x = leaf({2.0}, {1});
  const Tensor a = x * x, b = x * 5.0;
  const std::vector<Tensor> g = autograd::grad(
      {a, b}, {x, x}, {ones({1}, TensorOptions(kFloat64)), ones({1}, TensorOptions(kFloat64))});
  EXPECT_TRUE(all_close(g[0], std::vector<double>{9.0}, 1e-12, 0));
  EXPECT_TRUE(all_close(g[1], std::vector<double>{9.0}, 1e-12, 0));
}

TEST(CreateGraph, SecondAndThirdDerivativesOfAPolynomial) {
  Tensor x = leaf({1.5, -2.0}, {2});
  const Tensor y = (x * x * x).sum();  // y' = 3x^2, y'' = 6x, y''' = 6
  const Tensor g1 = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
  ASSERT_TRUE(g1.requires_grad());
  EXPECT_TRUE(all_close(g1, std::vector<double>{6.75, 12.0}, 1e-12, 0));
  const Tensor g2 = autograd::grad({g1.sum()}, {x}, {}, std::nullopt, true)[0];
  EXPECT_TRUE(all_close(g2, std::vector<double>{9.0, -12.0}, 1e-12, 0));
  const Tensor g3 = autograd::grad({g2.sum()}, {x})[0];
  EXPECT_TRUE(all_close(g3, std::vector<double>{6.0, 6.0}, 1e-12, 0));
}

TEST(CreateGraph, RecordsEvenUnderAnOuterNoGradGuard) {
  // grad mode during backward is create_graph, whatever the caller's (as PyTorch)
  Tensor x = leaf({0.5}, {1});
  const Tensor y = (x * x * x).sum();
  Tensor g;
  {
    NoGradGuard off;
    g = autograd::grad({y}, {x}, {}, std::nullopt, /*create_graph=*/true)[0];
    EXPECT_FALSE(GradMode::is_enabled());
  }
  ASSERT_TRUE(g.requires_grad());
  EXPECT_TRUE(all_close(autograd::grad({g.sum()}, {x})[0], std::vector<double>{3.0}, 1e-12, 0));
}

TEST(CreateGraph, BackwardAccumulatesAGradWithAGraph) {
  Tensor x = leaf({0.3, 0.7}, {2});
  exp(x * 2.0).sum().backward(Tensor(), std::nullopt, /*create_graph=*/true);
  const Tensor gx = x.grad();  // 2 e^{2x}
  ASSERT_TRUE(gx.requires_grad());
  // a second create_graph backward adds out of place: the held grad is unchanged
  exp(x * 2.0).sum().backward(Tensor(), std::nullopt, true);
  EXPECT_TRUE(all_close(gx, std::vector<double>{2 * std::exp(0.6), 2 * std::exp(1.4)}, 1e-12, 0));
  EXPECT_TRUE(all_close(x.grad(), std::vector<double>{4 * std::exp(0.6), 4 * std::exp(1.4)}, 1e-12, 0));
  // d/dx sum(x.grad) = 8 e^{2x}
  const Tensor h = autograd::grad({x.grad().sum()}, {x})[0];
  EXPECT_TRUE(all_close(h, std::vector<double>{8 * std::exp(0.6), 8 * std::exp(1.4)}, 1e-10, 0));
  // without create_graph the accumulated grad has no graph
  Tensor z = leaf({1.0}, {1});
  (z * z).sum().backward();
  EXPECT_FALSE(z.grad().requires_grad());
}

TEST(CreateGraph, HessianVectorProductThroughGradOutputs) {
  // the double-backward trick: J^T v as a function of v, differentiated in v, gives J u
  Tensor x = leaf({0.2, -0.4, 0.9}, {3});
  const Tensor y = tanh(x) * 2.0;
  Tensor v = from_vector(std::vector<double>{1.0, 1.0, 1.0}, {3}).requires_grad_(true);
  const Tensor jtv = autograd::grad({y}, {x}, {v}, std::nullopt, true)[0];
  const Tensor u = from_vector(std::vector<double>{1.0, 2.0, 3.0}, {3});
  const Tensor ju = autograd::grad({jtv}, {v}, {u})[0];
  std::vector<double> want;
  for (double xi : {0.2, -0.4, 0.9}) want.push_back(2.0 * (1.0 - std::tanh(xi) * std::tanh(xi)));
  for (std::size_t i = 0; i < 3; ++i) want[i] *= static_cast<double>(i + 1);
  EXPECT_TRUE(all_close(ju, want, 1e-12, 0));
}

TEST(CreateGraph, SavedOutputsMakeNoReferenceCycle) {
  std::weak_ptr<Node> node, grad_node;
  std::weak_ptr<TensorImpl> out;
  {
    Tensor x = leaf({0.5, 1.0}, {2});
    Tensor y = exp(x);  // saves its output
    node = y.impl()->autograd->grad_fn;
    out = y.impl_ptr();
    const Tensor g = autograd::grad({y.sum()}, {x}, {}, std::nullopt, true)[0];
    grad_node = g.impl()->autograd->grad_fn;
    EXPECT_FALSE(node.expired());
    EXPECT_TRUE(all_close(g, std::vector<double>{std::exp(0.5), std::exp(1.0)}, 1e-12, 0));
  }
  EXPECT_TRUE(node.expired());
  EXPECT_TRUE(grad_node.expired());
  EXPECT_TRUE(out.expired());
}

TEST(CreateGraph, SavedInputsKeepTheirIdentity) {
  // sin saves its input: the second derivative must reach the leaf through it
  Tensor x = leaf({0.3}, {1});
  const Tensor h = x * 2.0;                                                         // a non-leaf saved input
  const Tensor g = autograd::grad({sin(h).sum()}, {x}, {}, std::nullopt, true)[0];  // 2 cos(2x)
  const Tensor gg = autograd::grad({g.sum()}, {x})[0];                              // -4 sin(2x)
  EXPECT_TRUE(all_close(gg, std::vector<double>{-4.0 * std::sin(0.6)}, 1e-12, 0));
}

TEST(CreateGraph, FirstOrderResultsAreTheSameWithAndWithoutAGraph) {
  Tensor x = leaf({0.1, -0.2, 0.3, 0.4, -0.5, 0.6}, {2, 3});
  Tensor w = leaf({0.3, 0.1, -0.2, 0.5, 0.7, -0.4}, {3, 2});
  const auto f = [&] {
    return F::cross_entropy(matmul(tanh(x), w), from_vector(std::vector<int64_t>{1, 0}));
  };
  const std::vector<Tensor> plain = autograd::grad({f()}, {x, w});
  const std::vector<Tensor> graph = autograd::grad({f()}, {x, w}, {}, std::nullopt, true);
  for (std::size_t i = 0; i < 2; ++i) EXPECT_TRUE(all_close(graph[i], plain[i], 1e-15, 0));
}

TEST(CreateGraph, UnsupportedDoubleBackwardRaisesOnlyWhenReached) {
  Tensor x = from_vector(std::vector<double>{0.1, -0.7, 0.4, 1.2, -0.3, 0.8}, {3, 2}).requires_grad_(true);
  Tensor w = from_vector(std::vector<double>{1.5, 0.5}, {2}).requires_grad_(true);
  Tensor b = from_vector(std::vector<double>{0.1, -0.1}, {2}).requires_grad_(true);
  const Tensor y = (F::batch_norm(x, Tensor(), Tensor(), w, b, /*training=*/true) * x).sum();
  const std::vector<Tensor> g = autograd::grad({y}, {x}, {}, std::nullopt, true);
  // first order works (and matches the plain backward)
  const Tensor y_plain = (F::batch_norm(x, Tensor(), Tensor(), w, b, true) * x).sum();
  EXPECT_TRUE(all_close(g[0], autograd::grad({y_plain}, {x})[0], 1e-12, 0));
  // differentiating through batch_norm's backward raises
  EXPECT_NABLA_ERROR(autograd::grad({g[0].sum()}, {w}), "double backward of batch_norm is not supported");
  Tensor ln = F::layer_norm(x, {2}, w, b);
  const Tensor gl = autograd::grad({(ln * ln).sum()}, {x}, {}, std::nullopt, true)[0];
  EXPECT_NABLA_ERROR(autograd::grad({gl.sum()}, {x}), "double backward of layer_norm is not supported");
}

// A function whose first derivative is right but whose gradient graph drops the second-order
// term: gradcheck passes, gradgradcheck must not.
TEST(Gradgradcheck, DetectsADroppedSecondOrderTerm) {
  Tensor x = from_vector(std::vector<double>{0.5, -1.0, 2.0}, {3}).requires_grad_(true);
  const auto wrong = [](const std::vector<Tensor>& in) {
    const Tensor d = in[0].detach();
    return (in[0] - d) * d * 2.0 + d * d;  // value x^2, gradient 2x, second derivative 0 (not 2)
  };
  EXPECT_TRUE(autograd::gradcheck(wrong, {x}).ok);
  const autograd::GradcheckResult r = autograd::gradgradcheck(wrong, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.message.find("second derivative, input 0"), std::string::npos) << r.message;
  EXPECT_TRUE(autograd::gradgradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x}).ok);
}

// The families whose every op must double-backward correctly (issue 20, item 6); pool, index,
// view and copy come along since their formulas are differentiable too.
bool twice_differentiable_family(OpFamily f) {
  switch (f) {
    case OpFamily::unary:
    case OpFamily::binary:
    case OpFamily::reduce:
    case OpFamily::linalg:
    case OpFamily::softmax:
    case OpFamily::loss:
    case OpFamily::conv:
    case OpFamily::pool:
    case OpFamily::index:
    case OpFamily::view:
    case OpFamily::copy:
      return true;
    default:
      return false;
  }
}

TEST(Gradgradcheck, OpDbFloat64) {
  int checked = 0;
  std::set<Op> ops;
  for (const OpEntry& e : op_db()) {
    if (!e.differentiable || !e.gradgradcheck || e.covers.empty()) continue;
    if (!twice_differentiable_family(op_info(e.covers[0]).family)) continue;
    for (const Sample& s : e.samples()) {
      if (!s.gradcheck) continue;
      std::vector<Tensor> in = s.inputs;
      bool any = false;
      for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i].is_floating_point() && !(e.no_grad_inputs & (1u << i)) && in[i].numel() > 0) {
          in[i] = in[i].detach().clone().requires_grad_(true);
          any = true;
        }
      }
      if (!any) continue;
      autograd::GradcheckOptions opt;
      opt.atol = e.grad_atol;
      opt.rtol = e.grad_rtol;
      const auto r =
          autograd::gradgradcheck([&](const std::vector<Tensor>& x) { return run_sample(e, x, s); }, in, opt);
      EXPECT_TRUE(r.ok) << e.name << " [" << s.desc << "]: " << r.message;
      ops.insert(e.covers.begin(), e.covers.end());
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);
  for (Op op : {Op::relu, Op::tanh, Op::gelu, Op::softmax_backward, Op::log_softmax_backward,
                Op::cross_entropy_backward, Op::conv2d_backward_weight, Op::conv2d_backward_input,
                Op::max_pool2d_backward, Op::bmm, Op::addmm, Op::logsumexp, Op::norm, Op::prod, Op::std})
    EXPECT_TRUE(ops.count(op)) << op_name(op) << " not gradgradchecked";
  std::printf("gradgradcheck: %d samples passed or reported\n", checked);
}

Tensor m(const Shape& s, unsigned seed, double lo = -1.0, double hi = 1.0) {
  manual_seed(seed);
  return (rand(s, TensorOptions(kFloat64)) * (hi - lo) + lo).requires_grad_(true);
}

TEST(Gradgradcheck, Losses) {
  const Tensor target_idx = from_vector(std::vector<int64_t>{2, 0, 3});
  struct Case {
    const char* name;
    std::function<Tensor(const std::vector<Tensor>&)> fn;
    std::vector<Tensor> in;
  };
  const Tensor t_prob = softmax(m({3, 4}, 5), 1).detach();
  const Tensor t01 = rand({3, 4}, TensorOptions(kFloat64));
  const std::vector<Case> cases{
      {"mse_loss", [](const auto& in) { return F::mse_loss(in[0], in[1]); }, {m({3, 4}, 1), m({3, 4}, 2)}},
      {"l1_loss",
       [](const auto& in) { return F::l1_loss(in[0], in[1], F::Reduction::Sum); },
       {m({3, 4}, 3), m({3, 4}, 4)}},
      {"smooth_l1_loss",
       [](const auto& in) { return F::smooth_l1_loss(in[0] * 3.0, in[1], F::Reduction::Sum); },
       {m({3, 4}, 6), m({3, 4}, 7)}},
      {"nll_loss",
       [=](const auto& in) { return F::nll_loss(log_softmax(in[0], 1), target_idx); },
       {m({3, 4}, 8)}},
      {"cross_entropy",
       [=](const auto& in) { return F::cross_entropy(in[0], target_idx); },
       {m({3, 4}, 9, -3, 3)}},
      {"cross_entropy smoothed, weighted, ignore_index",
       [=](const auto& in) {
         F::CrossEntropyOptions o;
         o.weight = from_vector(std::vector<double>{0.5, 1.0, 2.0, 1.5});
         o.label_smoothing = 0.2;
         o.ignore_index = 0;
         o.reduction = F::Reduction::Sum;
         return F::cross_entropy(in[0], target_idx, o);
       },
       {m({3, 4}, 10, -3, 3)}},
      {"cross_entropy probabilities",
       [=](const auto& in) { return F::cross_entropy(in[0], t_prob); },
       {m({3, 4}, 11)}},
      {"binary_cross_entropy",
       [=](const auto& in) { return F::binary_cross_entropy(in[0], in[1]); },
       {m({3, 4}, 12, 0.1, 0.9), m({3, 4}, 13, 0.1, 0.9)}},
      {"binary_cross_entropy_with_logits",
       [](const auto& in) { return F::binary_cross_entropy_with_logits(in[0], in[1], Tensor(), in[2]); },
       {m({3, 4}, 14, -3, 3), m({3, 4}, 15, 0, 1), m({4}, 16, 0.5, 2)}},
  };
  (void)t01;
  for (const Case& c : cases) {
    const auto r = autograd::gradgradcheck(c.fn, c.in);
    EXPECT_TRUE(r.ok) << c.name << ": " << r.message;
  }
}

// WGAN-GP: the penalty (|d critic / d x| - 1)^2 is differentiated in the critic's weights,
// through the critic's backward. Checked by gradcheck of the penalty as a function of the
// weights (the penalty itself runs a create_graph backward).
Tensor penalty(const std::function<Tensor(const Tensor&)>& critic, const Tensor& x) {
  // gradcheck evaluates its numeric side under NoGradGuard: the penalty needs autograd on
  struct On {
    bool prev = GradMode::is_enabled();
    On() { GradMode::set_enabled(true); }
    ~On() { GradMode::set_enabled(prev); }
  } on;
  const Tensor xi = x.detach().requires_grad_(true);
  const Tensor g = autograd::grad({critic(xi).sum()}, {xi}, {}, std::nullopt, true)[0];
  const Tensor n = norm(g.reshape({g.size(0), -1}), 2.0, {1});
  return ((n - 1.0) * (n - 1.0)).mean();
}

TEST(DoubleBackward, GradientPenaltyOfAnMlp) {
  const Tensor x = m({4, 3}, 21).detach();
  const auto fn = [x](const std::vector<Tensor>& w) {
    return penalty(
        [&](const Tensor& xi) {
          const Tensor h = tanh(linear(xi, w[0], w[1]));
          return linear(F::leaky_relu(linear(h, w[2], w[3]), 0.2), w[4]);
        },
        x);
  };
  const std::vector<Tensor> w{m({5, 3}, 22), m({5}, 23), m({4, 5}, 24), m({4}, 25), m({1, 4}, 26)};
  const auto r = autograd::gradcheck(fn, w);
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(DoubleBackward, GradientPenaltyOfAConvNet) {
  const Tensor x = m({2, 2, 6, 6}, 31).detach();
  const auto fn = [x](const std::vector<Tensor>& w) {
    return penalty(
        [&](const Tensor& xi) {
          Tensor h = F::conv2d(xi, w[0], w[1], 1, 1);
          h = F::avg_pool2d(F::softplus(h), 2);
          h = F::conv2d(h, w[2], Tensor(), 2);
          return h.reshape({h.size(0), -1}).sum(1);
        },
        x);
  };
  const std::vector<Tensor> w{m({3, 2, 3, 3}, 32), m({3}, 33), m({2, 3, 2, 2}, 34)};
  const auto r = autograd::gradcheck(fn, w);
  EXPECT_TRUE(r.ok) << r.message;
}

// ---- custom autograd functions ----

int g_mul_backward_calls = 0;

struct MulConstant : autograd::Function<MulConstant> {
  static Tensor forward(autograd::AutogradContext* ctx, const Tensor& x, double c) {
    ctx->saved_data["c"] = c;
    return x * c;
  }
  static autograd::variable_list backward(autograd::AutogradContext* ctx, autograd::variable_list g) {
    ++g_mul_backward_calls;
    return {g[0] * ctx->saved_data["c"].toDouble(), Tensor()};
  }
};

// saves its output: double backward needs it reconnected to this node
struct MyExp : autograd::Function<MyExp> {
  static Tensor forward(autograd::AutogradContext* ctx, Tensor x) {
    Tensor y = exp(x);
    ctx->save_for_backward({y});
    return y;
  }
  static autograd::variable_list backward(autograd::AutogradContext* ctx, autograd::variable_list g) {
    return {g[0] * ctx->get_saved_variables()[0]};
  }
};

// two inputs, two outputs (the second not differentiable), needs_input_grad
struct MulAndSign : autograd::Function<MulAndSign> {
  static autograd::variable_list forward(autograd::AutogradContext* ctx, Tensor a, Tensor b) {
    ctx->save_for_backward({a, b});
    Tensor s = sign(a);
    ctx->mark_non_differentiable({s});
    return {a * b, s};
  }
  static autograd::variable_list backward(autograd::AutogradContext* ctx, autograd::variable_list g) {
    const autograd::variable_list s = ctx->get_saved_variables();
    return {ctx->needs_input_grad(0) ? g[0] * s[1] : Tensor(),
            ctx->needs_input_grad(1) ? g[0] * s[0] : Tensor()};
  }
};

// modifies its input in place
struct DoubleInPlace : autograd::Function<DoubleInPlace> {
  static Tensor forward(autograd::AutogradContext* ctx, Tensor x) {
    x.mul_(2.0);
    ctx->mark_dirty({x});
    return x;
  }
  static autograd::variable_list backward(autograd::AutogradContext*, autograd::variable_list g) {
    return {g[0] * 2.0};
  }
};

TEST(CustomFunction, BackwardRunsAndIsGradchecked) {
  Tensor x = m({3, 2}, 41);
  g_mul_backward_calls = 0;
  const Tensor y = MulConstant::apply(x, 3.0);
  EXPECT_NE(y.grad_fn_name().find("CppNode<"), std::string::npos) << y.grad_fn_name();
  EXPECT_NE(y.grad_fn_name().find("MulConstant"), std::string::npos) << y.grad_fn_name();
  y.sum().backward();
  EXPECT_EQ(g_mul_backward_calls, 1);
  EXPECT_TRUE(all_close(x.grad(), full({3, 2}, 3.0, TensorOptions(kFloat64)), 0, 0));
  EXPECT_TRUE(
      autograd::gradcheck([](const std::vector<Tensor>& in) { return MulConstant::apply(in[0], -1.5); }, {x})
          .ok);
  const auto exp_fn = [](const std::vector<Tensor>& in) { return MyExp::apply(in[0] * 0.5); };
  EXPECT_TRUE(autograd::gradcheck(exp_fn, {x}).ok);
  const auto r = autograd::gradgradcheck(exp_fn, {x});
  EXPECT_TRUE(r.ok) << r.message;
  const auto mul_fn = [](const std::vector<Tensor>& in) { return MulAndSign::apply(in[0], in[1])[0]; };
  const auto r2 = autograd::gradgradcheck(mul_fn, {m({4}, 42), m({4}, 43)});
  EXPECT_TRUE(r2.ok) << r2.message;
  // no graph: forward only, nothing recorded
  const Tensor z = MulConstant::apply(x.detach(), 2.0);
  EXPECT_FALSE(z.requires_grad());
}

TEST(CustomFunction, SavedOutputMakesNoCycle) {
  std::weak_ptr<Node> node;
  {
    Tensor x = m({2}, 44);
    const Tensor y = MyExp::apply(x);
    node = y.impl()->autograd->grad_fn;
    const Tensor g = autograd::grad({y.sum()}, {x}, {}, std::nullopt, true)[0];
    EXPECT_TRUE(all_close(g, y.detach(), 1e-15, 0));
  }
  EXPECT_TRUE(node.expired());
}

TEST(CustomFunction, NonDifferentiableOutputsNeedsInputGradAndDirtyInputs) {
  Tensor a = m({3}, 45), b = m({3}, 46).detach();
  const autograd::variable_list out = MulAndSign::apply(a, b);
  EXPECT_TRUE(out[0].requires_grad());
  EXPECT_FALSE(out[1].requires_grad());
  out[0].sum().backward();
  EXPECT_TRUE(all_close(a.grad(), b, 0, 0));

  Tensor x = m({3}, 47);
  Tensor h = x * 1.0;  // a non-leaf: in place is allowed
  const Tensor r = DoubleInPlace::apply(h);
  EXPECT_TRUE(r.is_alias_of(h));
  EXPECT_NE(h.grad_fn_name().find("DoubleInPlace"), std::string::npos) << h.grad_fn_name();
  (h * h).sum().backward();
  EXPECT_TRUE(all_close(x.grad(), x.detach() * 8.0, 1e-14, 0));  // d/dx (2x)^2
  Tensor leaf_x = m({3}, 48);
  EXPECT_NABLA_ERROR(DoubleInPlace::apply(leaf_x), "DoubleInPlace",
                     "a leaf tensor that requires grad is being used in an in-place operation");
}

struct WrongCount : autograd::Function<WrongCount> {
  static Tensor forward(autograd::AutogradContext*, Tensor x, double) { return x * 2.0; }
  static autograd::variable_list backward(autograd::AutogradContext*, autograd::variable_list g) {
    return {g[0]};
  }
};
struct GradForANumber : autograd::Function<GradForANumber> {
  static Tensor forward(autograd::AutogradContext*, Tensor x, double) { return x * 2.0; }
  static autograd::variable_list backward(autograd::AutogradContext*, autograd::variable_list g) {
    return {g[0], g[0]};
  }
};
struct WrongShape : autograd::Function<WrongShape> {
  static Tensor forward(autograd::AutogradContext*, Tensor x) { return x.sum(); }
  static autograd::variable_list backward(autograd::AutogradContext*, autograd::variable_list g) {
    return {ones({5}, TensorOptions(kFloat64))};
  }
};

TEST(CustomFunction, BadBackwardsAreErrors) {
  Tensor x = m({3}, 49);
  EXPECT_NABLA_ERROR(WrongCount::apply(x, 1.0).sum().backward(), "WrongCount",
                     "backward returned 1 gradients, expected 2 (one per argument of forward)");
  EXPECT_NABLA_ERROR(GradForANumber::apply(x, 1.0).sum().backward(), "GradForANumber",
                     "returned a gradient for argument 1, which is not a Tensor");
  EXPECT_NABLA_ERROR(WrongShape::apply(x).backward(), "WrongShape",
                     "backward returned a gradient of shape [5]");
  autograd::IValue v = 2.5;
  EXPECT_NABLA_ERROR((void)v.toTensor(), "IValue: expected Tensor but got double");
  EXPECT_EQ(autograd::IValue(int64_t{3}).toDouble(), 3.0);
}

}  // namespace
}  // namespace nabla::testing

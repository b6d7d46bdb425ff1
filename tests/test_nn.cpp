// The dense-network stack of nabla::nn: Module (names and order of parameters and state dicts
// as PyTorch's, counting, train/eval, zero_grad, dtype moves that keep handles, load_state_dict
// and its errors, printing, forward hooks), default and explicit initialisation, dropout, the
// in-place layers (inplace=true: values, version bumps, gradients, autograd errors), and every
// loss against PyTorch's values and input gradients.
//
// Expected numbers marked "PyTorch" come from tests/reference/make_nn_reference.py run with
// PyTorch 1.13.1 (Debian python3-torch 1.13.1+dfsg-4, CPU, float64); the tests need no PyTorch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;

namespace F = nn::functional;
using F::Reduction;
using D = std::vector<double>;
using L = std::vector<int64_t>;
using Names = std::vector<std::string>;

Tensor t64(const D& v, const Shape& s) { return from_vector<double>(v, s); }
Tensor i64(const L& v, const Shape& s) { return from_vector<int64_t>(v, s); }

Names keys_of(const StateDict& sd) { return sd.keys(); }
template <class V>
Names names_of(const V& named) {
  Names r;
  for (const auto& [n, x] : named) r.push_back(n);
  return r;
}

std::shared_ptr<nn::Sequential> nested_net() {
  // the architecture of make_nn_reference.py's "modules" section
  auto inner = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(4, 3), std::make_shared<nn::Tanh>()});
  auto last = std::make_shared<nn::Sequential>(
      std::initializer_list<std::shared_ptr<nn::Module>>{std::make_shared<nn::Linear>(2, 2, /*bias=*/false)});
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      inner, std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(3, 2), last});
}

class WithBuffer : public nn::Module {
 public:
  WithBuffer() : Module("WithBuffer") {
    weight = register_parameter("weight", zeros({2}));
    running = register_buffer("running", zeros({2}));
    inner = register_module("inner", std::make_shared<nn::Linear>(2, 2));
  }
  std::string extra_repr() const override { return "k=1"; }
  Tensor weight, running;
  std::shared_ptr<nn::Linear> inner;
};

// ============================================================================================
// Module
// ============================================================================================

TEST(Module, NamesAndOrderMatchPyTorch) {
  auto net = nested_net();
  // PyTorch: state_dict keys and named_parameters of the same architecture
  const Names want{"0.0.weight", "0.0.bias", "2.weight", "2.bias", "3.0.weight"};
  EXPECT_EQ(keys_of(net->state_dict()), want);
  EXPECT_EQ(names_of(net->named_parameters()), want);
  EXPECT_EQ(net->parameters().size(), 5u);
  EXPECT_EQ(net->num_parameters(), 27);  // PyTorch: 27
  EXPECT_EQ(names_of(net->named_modules()), (Names{"", "0", "0.0", "0.1", "1", "2", "3", "3.0"}));
  EXPECT_EQ(names_of(net->named_parameters(/*recurse=*/false)), Names{});
  // the state dict holds the parameters' values, not graph-connected handles
  const StateDict sd = net->state_dict();
  EXPECT_FALSE(sd.at("2.weight").requires_grad());
  EXPECT_EQ(sd.at("2.weight").sizes(), (Shape{2, 3}));
  EXPECT_EQ(sd.at("2.weight").to_vector<float>(), net->named_parameters()[2].second.to_vector<float>());
}

TEST(Module, BuffersComeAfterTheModulesOwnParametersAsInPyTorch) {
  WithBuffer m;
  // PyTorch: ['weight', 'running', 'inner.weight', 'inner.bias']
  EXPECT_EQ(keys_of(m.state_dict()), (Names{"weight", "running", "inner.weight", "inner.bias"}));
  EXPECT_EQ(names_of(m.named_parameters()), (Names{"weight", "inner.weight", "inner.bias"}));
  EXPECT_EQ(names_of(m.named_buffers()), Names{"running"});
  EXPECT_FALSE(m.running.requires_grad());
  EXPECT_TRUE(m.weight.requires_grad());
}

TEST(Module, ParameterCounting) {
  nn::Linear a(784, 128), b(128, 10, /*bias=*/false);
  EXPECT_EQ(a.num_parameters(), 784 * 128 + 128);
  EXPECT_EQ(b.num_parameters(), 1280);
  a.bias.requires_grad_(false);
  EXPECT_EQ(a.num_parameters(), 784 * 128 + 128);
  EXPECT_EQ(a.num_parameters(/*trainable_only=*/true), 784 * 128);
}

TEST(Module, SharedParameterIsListedOnce) {
  auto lin = std::make_shared<nn::Linear>(3, 3);
  nn::Sequential s{lin, std::make_shared<nn::ReLU>(), lin};
  // PyTorch 1.13, the same Sequential(l, ReLU(), l)
  EXPECT_EQ(names_of(s.named_parameters()), (Names{"0.weight", "0.bias"}));
  EXPECT_EQ(names_of(s.named_modules()), (Names{"", "0", "1"}));
  EXPECT_EQ(keys_of(s.state_dict()), (Names{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(s.num_parameters(), 12);
}

TEST(Module, TrainEvalPropagatesToEveryDescendant) {
  auto net = nested_net();
  for (auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  net->eval();
  for (auto& [name, m] : net->named_modules()) EXPECT_FALSE(m->is_training()) << name;
  net->train();
  for (auto& [name, m] : net->named_modules()) EXPECT_TRUE(m->is_training()) << name;
  // a Dropout deep in the tree follows
  auto drop = std::make_shared<nn::Dropout>(0.5);
  nn::Sequential outer{
      std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{drop})};
  outer.eval();
  EXPECT_FALSE(drop->is_training());
  const Tensor x = ones({100});
  EXPECT_EQ(outer(x).to_vector<float>(), x.to_vector<float>());
}

TEST(Module, ZeroGrad) {
  auto net = nested_net();
  Tensor y = (*net)(randn({5, 4}));
  y.sum().backward();
  for (const auto& [name, p] : net->named_parameters()) ASSERT_TRUE(p.grad().defined()) << name;
  net->zero_grad(/*set_to_none=*/false);
  for (const auto& [name, p] : net->named_parameters()) {
    ASSERT_TRUE(p.grad().defined()) << name;
    for (float v : p.grad().to_vector<float>()) EXPECT_EQ(v, 0.0f) << name;
  }
  net->zero_grad();
  for (const auto& [name, p] : net->named_parameters()) EXPECT_FALSE(p.grad().defined()) << name;
}

TEST(Module, ToFloat64KeepsHandlesAndOptimizersKeepWorking) {
  for (int kind = 0; kind < 3; ++kind) {
    SCOPED_TRACE(kind);
    manual_seed(3);
    auto lin1 = std::make_shared<nn::Linear>(3, 4);
    auto lin2 = std::make_shared<nn::Linear>(4, 1);
    nn::Sequential net{lin1, std::make_shared<nn::Tanh>(), lin2};
    const Tensor w = lin1->weight;  // a handle taken before the move
    std::unique_ptr<optim::Optimizer> opt;
    if (kind == 0) opt = std::make_unique<optim::Adam>(net.parameters(), optim::AdamOptions{.lr = 0.01});
    if (kind == 1)
      opt = std::make_unique<optim::SGD>(net.parameters(), optim::SGDOptions{.lr = 0.01, .momentum = 0.9});
    if (kind == 2)
      opt = std::make_unique<optim::RMSprop>(net.parameters(),
                                             optim::RMSpropOptions{.lr = 0.01, .centered = true});
    const Tensor x = randn({16, 3}), y = randn({16, 1});
    auto step = [&](ScalarType dt) {
      opt->zero_grad();
      const Tensor loss = F::mse_loss(net(x.to(dt)), y.to(dt));
      loss.backward();
      opt->step();
      return loss.item<double>();
    };
    const double first = step(kFloat32);  // the optimizer now has float32 state
    const std::vector<float> before = w.to_vector<float>();
    ASSERT_TRUE(w.grad().defined());
    net.to(kFloat64);
    EXPECT_EQ(w.dtype(), kFloat64);
    EXPECT_EQ(w.grad().dtype(), kFloat64);  // the gradient moves with its parameter
    EXPECT_EQ(w.impl(), lin1->weight.impl());
    EXPECT_EQ(w.impl(), net.parameters()[0].impl());
    EXPECT_TRUE(w.requires_grad());
    EXPECT_TRUE(w.is_leaf());
    const D after = w.to_vector<double>();
    for (std::size_t i = 0; i < before.size(); ++i) EXPECT_EQ(after[i], static_cast<double>(before[i]));
    for (const Tensor& p : net.parameters()) EXPECT_EQ(p.dtype(), kFloat64);
    double last = 0;
    ASSERT_NO_THROW(for (int i = 0; i < 20; ++i) last = step(kFloat64));
    EXPECT_LT(last, first);
    EXPECT_EQ(w.dtype(), kFloat64);
    EXPECT_NE(w.to_vector<double>(), after);
    // a later state_dict carries the new dtype
    for (const auto& [name, t] : opt->state_dict()) {
      if (name.rfind("state.", 0) == 0 && t.dim() > 0) {
        EXPECT_EQ(t.dtype(), kFloat64) << name;
      }
    }
  }
}

TEST(Module, ToDeviceCpuIsANoOpThatKeepsHandles) {
  nn::Linear lin(2, 2);
  const Tensor w = lin.weight;
  const std::vector<float> v = w.to_vector<float>();
  lin.to(Device::cpu());
  EXPECT_EQ(w.impl(), lin.weight.impl());
  EXPECT_EQ(w.to_vector<float>(), v);
}

TEST(Module, LoadStateDictCopiesValuesIntoTheExistingTensors) {
  manual_seed(1);
  auto a = nested_net();
  manual_seed(2);
  auto b = nested_net();
  const std::vector<Tensor> handles = b->parameters();
  b->load_state_dict(a->state_dict());
  const auto pa = a->parameters(), pb = b->parameters();
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pb[i].impl(), handles[i].impl());
    EXPECT_EQ(pb[i].to_vector<float>(), pa[i].to_vector<float>());
    EXPECT_TRUE(pb[i].requires_grad());
  }
  // float64 values are converted to the module's dtype
  StateDict sd;
  for (const auto& [n, t] : a->state_dict()) sd.insert(n, t.to(kFloat64) + 1.0);
  b->load_state_dict(sd);
  EXPECT_EQ(b->parameters()[0].dtype(), kFloat32);
  const std::vector<float> got = b->parameters()[0].to_vector<float>();
  const std::vector<float> src = a->parameters()[0].to_vector<float>();
  for (std::size_t i = 0; i < got.size(); ++i) EXPECT_FLOAT_EQ(got[i], src[i] + 1.0f);
}

TEST(Module, LoadStateDictStrictErrors) {
  manual_seed(1);
  auto net = nested_net();
  const StateDict good = net->state_dict();
  const std::vector<float> w0 = net->parameters()[0].to_vector<float>();

  StateDict missing;
  for (const auto& [n, t] : good) {
    if (n != "2.bias") missing.insert(n, zeros(t.sizes()));
  }
  EXPECT_NABLA_ERROR(net->load_state_dict(missing), "load_state_dict", "Sequential", "missing keys [2.bias]",
                     "unexpected keys []");

  StateDict unexpected;
  for (const auto& [n, t] : good) unexpected.insert(n, zeros(t.sizes()));
  unexpected.insert("4.weight", zeros({1}));
  EXPECT_NABLA_ERROR(net->load_state_dict(unexpected), "missing keys []", "unexpected keys [4.weight]");

  StateDict wrong_shape;
  for (const auto& [n, t] : good) wrong_shape.insert(n, n == "2.weight" ? zeros({3, 2}) : zeros(t.sizes()));
  EXPECT_NABLA_ERROR(net->load_state_dict(wrong_shape), "size mismatch for '2.weight'", "[3, 2]", "[2, 3]");
  // shape mismatches are errors in non-strict mode too (as PyTorch)
  EXPECT_NABLA_ERROR(net->load_state_dict(wrong_shape, /*strict=*/false), "size mismatch for '2.weight'");

  // a failed load changes nothing
  EXPECT_EQ(net->parameters()[0].to_vector<float>(), w0);
}

TEST(Module, LoadStateDictNonStrictLoadsWhatMatches) {
  manual_seed(1);
  auto net = nested_net();
  const std::vector<float> bias_before = net->parameters()[1].to_vector<float>();
  StateDict partial;
  partial.insert("0.0.weight", full({3, 4}, 0.5));
  partial.insert("not.a.parameter", zeros({7}));
  net->load_state_dict(partial, /*strict=*/false);
  for (float v : net->parameters()[0].to_vector<float>()) EXPECT_EQ(v, 0.5f);
  EXPECT_EQ(net->parameters()[1].to_vector<float>(), bias_before);
}

TEST(Module, ReprMatchesPyTorch) {
  nn::Sequential mlp{std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
                     std::make_shared<nn::Linear>(128, 10)};
  // PyTorch 1.13: repr(nn.Sequential(nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)))
  EXPECT_EQ(mlp.repr(),
            "Sequential(\n"
            "  (0): Linear(in_features=784, out_features=128, bias=True)\n"
            "  (1): ReLU()\n"
            "  (2): Linear(in_features=128, out_features=10, bias=True)\n"
            ")");
  std::ostringstream os;
  os << mlp;
  EXPECT_EQ(os.str(), mlp.repr());

  nn::Sequential zoo{
      std::make_shared<nn::Flatten>(),
      std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
          std::make_shared<nn::Linear>(4, 3, /*bias=*/false), std::make_shared<nn::Dropout>(0.25)}),
      std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::ELU>(),
      std::make_shared<nn::Softmax>(1),
      std::make_shared<nn::LogSoftmax>(1),
      std::make_shared<nn::Sigmoid>(),
      std::make_shared<nn::Tanh>(),
      std::make_shared<nn::Identity>(),
      std::make_shared<nn::Dropout>()};
  // PyTorch 1.13, the same modules
  EXPECT_EQ(zoo.repr(),
            "Sequential(\n"
            "  (0): Flatten(start_dim=1, end_dim=-1)\n"
            "  (1): Sequential(\n"
            "    (0): Linear(in_features=4, out_features=3, bias=False)\n"
            "    (1): Dropout(p=0.25, inplace=False)\n"
            "  )\n"
            "  (2): LeakyReLU(negative_slope=0.2)\n"
            "  (3): ELU(alpha=1.0)\n"
            "  (4): Softmax(dim=1)\n"
            "  (5): LogSoftmax(dim=1)\n"
            "  (6): Sigmoid()\n"
            "  (7): Tanh()\n"
            "  (8): Identity()\n"
            "  (9): Dropout(p=0.5, inplace=False)\n"
            ")");
  // PyTorch 1.13 prints these modules alone as:
  EXPECT_EQ(nn::GELU().repr(), "GELU(approximate='none')");
  EXPECT_EQ(nn::SiLU().repr(), "SiLU()");
  EXPECT_EQ(nn::Dropout(0.0).repr(), "Dropout(p=0.0, inplace=False)");
  EXPECT_EQ(nn::ELU(0.5).repr(), "ELU(alpha=0.5)");
  EXPECT_EQ(nn::LeakyReLU().repr(), "LeakyReLU(negative_slope=0.01)");
  EXPECT_EQ(nn::Softmax(-1).repr(), "Softmax(dim=-1)");
  // extra_repr and children together: the extra line first, inside the block (PyTorch)
  EXPECT_EQ(WithBuffer().repr(),
            "WithBuffer(\n"
            "  k=1\n"
            "  (inner): Linear(in_features=2, out_features=2, bias=True)\n"
            ")");
}

TEST(Module, ForwardHooksFireAndCanBeRemoved) {
  auto lin = std::make_shared<nn::Linear>(3, 2);
  nn::Sequential net{lin, std::make_shared<nn::ReLU>()};
  int outer_calls = 0, inner_calls = 0;
  Shape seen_in, seen_out;
  const int h1 = net.add_forward_hook([&](nn::Module& m, const Tensor& in, const Tensor& out) {
    ++outer_calls;
    EXPECT_EQ(m.type_name(), "Sequential");
    for (float v : out.to_vector<float>()) EXPECT_GE(v, 0.0f);  // after the ReLU
    seen_in = in.sizes();
  });
  const int h2 = lin->add_forward_hook([&](nn::Module& m, const Tensor&, const Tensor& out) {
    ++inner_calls;
    EXPECT_EQ(&m, lin.get());
    seen_out = out.sizes();
  });
  net(ones({5, 3}));
  EXPECT_EQ(outer_calls, 1);
  EXPECT_EQ(inner_calls, 1);  // children run through their operator() too
  EXPECT_EQ(seen_in, (Shape{5, 3}));
  EXPECT_EQ(seen_out, (Shape{5, 2}));
  net.remove_forward_hook(h1);
  net(ones({1, 3}));
  EXPECT_EQ(outer_calls, 1);
  EXPECT_EQ(inner_calls, 2);
  lin->remove_forward_hook(h2);
  lin->remove_forward_hook(h2);  // removing twice is harmless
  net(ones({1, 3}));
  EXPECT_EQ(inner_calls, 2);
  // forward() itself does not run hooks
  const int h3 = lin->add_forward_hook([&](nn::Module&, const Tensor&, const Tensor&) { ++inner_calls; });
  lin->forward(ones({1, 3}));
  EXPECT_EQ(inner_calls, 2);
  lin->remove_forward_hook(h3);
  // a one-shot hook that removes itself while it runs
  int once = 0, h4 = -1;
  h4 = lin->add_forward_hook([&](nn::Module& m, const Tensor&, const Tensor&) {
    ++once;
    m.remove_forward_hook(h4);
  });
  (*lin)(ones({1, 3}));
  (*lin)(ones({1, 3}));
  EXPECT_EQ(once, 1);
}

TEST(Module, SequentialIndexingAndErrors) {
  auto a = std::make_shared<nn::Linear>(2, 2);
  nn::Sequential s{a, std::make_shared<nn::ReLU>()};
  EXPECT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].get(), a.get());
  EXPECT_NABLA_ERROR(s[2], "Sequential", "index 2 is out of range for 2 modules");
  EXPECT_NABLA_ERROR(nn::Module("ReLU").forward(ones({1})), "ReLU", "not implemented");
}

// ============================================================================================
// initialisation
// ============================================================================================

struct Stats {
  double min, max, mean, var;
};
Stats stats_of(const Tensor& t) {
  const D v = t.to_vector<double>();
  Stats s{*std::min_element(v.begin(), v.end()), *std::max_element(v.begin(), v.end()), 0, 0};
  s.mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  for (double x : v) s.var += (x - s.mean) * (x - s.mean);
  s.var /= static_cast<double>(v.size() - 1);
  return s;
}

TEST(Init, LinearDefaultIsUniformOnOneOverSqrtFanIn) {
  manual_seed(0);
  for (auto [in, out] : {std::pair<int64_t, int64_t>{400, 300}, {3, 20000}, {1000, 150}}) {
    SCOPED_TRACE(testing::Message() << "Linear(" << in << ", " << out << ")");
    nn::Linear lin(in, out);
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    for (const Tensor& t : {lin.weight, lin.bias}) {
      if (t.numel() < 1000) continue;  // statistics of the larger tensors only
      const Stats s = stats_of(t);
      const double n = static_cast<double>(t.numel());
      EXPECT_GE(s.min, -bound);
      EXPECT_LE(s.max, bound);
      EXPECT_LT(s.min, -bound * 0.99);
      EXPECT_GT(s.max, bound * 0.99);
      // mean ~ N(0, bound^2 / 3n): 5 standard deviations
      EXPECT_NEAR(s.mean, 0.0, 5.0 * bound / std::sqrt(3.0 * n));
      EXPECT_NEAR(s.var, bound * bound / 3.0, 0.03 * bound * bound / 3.0);
    }
    // the bias uses the same bound
    const Stats b = stats_of(lin.bias);
    EXPECT_GE(b.min, -bound);
    EXPECT_LE(b.max, bound);
    EXPECT_EQ(lin.weight.sizes(), (Shape{out, in}));
    EXPECT_EQ(lin.bias.sizes(), (Shape{out}));
    EXPECT_EQ(lin.weight.dtype(), kFloat32);
  }
}

TEST(Init, LinearInitIsDeterministicUnderManualSeed) {
  manual_seed(42);
  nn::Linear a(10, 10);
  manual_seed(42);
  nn::Linear b(10, 10);
  EXPECT_EQ(a.weight.to_vector<float>(), b.weight.to_vector<float>());
  EXPECT_EQ(a.bias.to_vector<float>(), b.bias.to_vector<float>());
  nn::Linear c(10, 10);
  EXPECT_NE(a.weight.to_vector<float>(), c.weight.to_vector<float>());
}

TEST(Init, CalculateGainMatchesPyTorch) {
  // PyTorch 1.13 nn.init.calculate_gain
  EXPECT_EQ(nn::init::calculate_gain("linear"), 1.0);
  EXPECT_EQ(nn::init::calculate_gain("conv2d"), 1.0);
  EXPECT_EQ(nn::init::calculate_gain("sigmoid"), 1.0);
  EXPECT_NEAR(nn::init::calculate_gain("tanh"), 1.6666666666666667, 1e-15);
  EXPECT_NEAR(nn::init::calculate_gain("relu"), 1.4142135623730951, 1e-15);
  EXPECT_NEAR(nn::init::calculate_gain("leaky_relu"), 1.4141428569978354, 1e-15);
  EXPECT_NEAR(nn::init::calculate_gain("leaky_relu", 0.2), 1.3867504905630728, 1e-15);
  EXPECT_EQ(nn::init::calculate_gain("selu"), 0.75);
  EXPECT_NABLA_ERROR(nn::init::calculate_gain("swish"), "calculate_gain", "unsupported nonlinearity 'swish'");
}

TEST(Init, FansAndXavierKaimingFollowPyTorchFormulas) {
  EXPECT_EQ(nn::init::calculate_fan_in_and_fan_out(empty({300, 200})),
            (std::pair<int64_t, int64_t>{200, 300}));
  EXPECT_EQ(nn::init::calculate_fan_in_and_fan_out(empty({16, 8, 3, 3})),
            (std::pair<int64_t, int64_t>{72, 144}));
  Tensor v = empty({5});
  EXPECT_NABLA_ERROR(nn::init::xavier_uniform_(v), "fewer than 2 dims", "[5]");

  manual_seed(5);
  Tensor w = empty({300, 200});
  // xavier: std = gain sqrt(2 / (fan_in + fan_out)); uniform bound = sqrt(3) std
  const double xstd = 2.0 * std::sqrt(2.0 / 500.0);
  nn::init::xavier_uniform_(w, 2.0);
  Stats s = stats_of(w);
  EXPECT_LE(std::max(-s.min, s.max), std::sqrt(3.0) * xstd);
  EXPECT_GT(std::max(-s.min, s.max), 0.99 * std::sqrt(3.0) * xstd);
  EXPECT_NEAR(std::sqrt(s.var), xstd, 0.02 * xstd);
  nn::init::xavier_normal_(w, 2.0);
  s = stats_of(w);
  EXPECT_NEAR(std::sqrt(s.var), xstd, 0.02 * xstd);
  EXPECT_NEAR(s.mean, 0.0, 5 * xstd / std::sqrt(60000.0));

  // kaiming: std = gain / sqrt(fan); relu gain sqrt(2); leaky_relu with a: sqrt(2 / (1 + a^2))
  nn::init::kaiming_uniform_(w, 0.0, nn::init::FanMode::FanIn, "relu");
  s = stats_of(w);
  double kstd = std::sqrt(2.0) / std::sqrt(200.0);
  EXPECT_LE(std::max(-s.min, s.max), std::sqrt(3.0) * kstd);
  EXPECT_GT(std::max(-s.min, s.max), 0.99 * std::sqrt(3.0) * kstd);
  EXPECT_NEAR(std::sqrt(s.var), kstd, 0.02 * kstd);
  nn::init::kaiming_normal_(w, 0.0, nn::init::FanMode::FanOut, "relu");
  s = stats_of(w);
  kstd = std::sqrt(2.0) / std::sqrt(300.0);
  EXPECT_NEAR(std::sqrt(s.var), kstd, 0.02 * kstd);
  nn::init::kaiming_uniform_(w, std::sqrt(5.0));  // the default leaky_relu, as Linear uses it
  s = stats_of(w);
  EXPECT_LE(std::max(-s.min, s.max), 1.0 / std::sqrt(200.0));
  EXPECT_GT(std::max(-s.min, s.max), 0.99 / std::sqrt(200.0));

  Tensor conv = empty({16, 8, 3, 3});
  nn::init::kaiming_normal_(conv, 0.0, nn::init::FanMode::FanIn, "relu");
  EXPECT_NEAR(std::sqrt(stats_of(conv).var), std::sqrt(2.0 / 72.0), 0.06 * std::sqrt(2.0 / 72.0));

  // init records no autograd and keeps parameters leaves
  nn::Linear lin(4, 4);
  nn::init::constant_(lin.weight, 0.25);
  EXPECT_TRUE(lin.weight.is_leaf());
  EXPECT_TRUE(lin.weight.requires_grad());
  for (float x : lin.weight.to_vector<float>()) EXPECT_EQ(x, 0.25f);
  nn::init::zeros_(lin.bias);
  for (float x : lin.bias.to_vector<float>()) EXPECT_EQ(x, 0.0f);
  nn::init::ones_(lin.bias);
  for (float x : lin.bias.to_vector<float>()) EXPECT_EQ(x, 1.0f);
}

// ============================================================================================
// dropout
// ============================================================================================

TEST(Dropout, EvalModeIsTheIdentity) {
  nn::Dropout d(0.5);
  d.eval();
  const Tensor x = randn({1000});
  EXPECT_EQ(d(x).to_vector<float>(), x.to_vector<float>());
  EXPECT_EQ(F::dropout(x, 0.9, /*training=*/false).to_vector<float>(), x.to_vector<float>());
}

TEST(Dropout, ZeroesAboutPAndScalesSurvivors) {
  const int64_t n = 200000;
  const Tensor x = ones({n});
  for (double p : {0.1, 0.3, 0.5, 0.8}) {
    SCOPED_TRACE(p);
    manual_seed(11);
    const std::vector<float> y = F::dropout(x, p).to_vector<float>();
    int64_t zeros_n = 0;
    for (float v : y) {
      if (v == 0.0f) {
        ++zeros_n;
      } else {
        EXPECT_NEAR(v, 1.0 / (1.0 - p), 1e-6);
      }
    }
    const double frac = static_cast<double>(zeros_n) / static_cast<double>(n);
    EXPECT_NEAR(frac, p, 5.0 * std::sqrt(p * (1 - p) / static_cast<double>(n)));
  }
}

TEST(Dropout, DeterministicUnderManualSeedAndGradientIsTheMask) {
  nn::Dropout d(0.4);
  const Tensor x = t64(D(500, 2.0), {20, 25}).requires_grad_(true);
  manual_seed(9);
  const Tensor a = d(x);
  manual_seed(9);
  const Tensor b = d(x);
  EXPECT_EQ(a.to_vector<double>(), b.to_vector<double>());
  const Tensor c = d(x);  // the generator moved on
  EXPECT_NE(a.to_vector<double>(), c.to_vector<double>());
  a.sum().backward();
  const D g = x.grad().to_vector<double>(), av = a.to_vector<double>();
  for (std::size_t i = 0; i < g.size(); ++i) EXPECT_DOUBLE_EQ(g[i], av[i] / 2.0);
  // a private generator gives the same masks for the same seed, without touching the global one
  Generator g1(123), g2(123);
  EXPECT_EQ(F::dropout(x, 0.4, /*training=*/true, &g1).to_vector<double>(),
            F::dropout(x, 0.4, /*training=*/true, &g2).to_vector<double>());
}

TEST(Dropout, PZeroAndPOne) {
  const Tensor x = randn({1000});
  EXPECT_EQ(F::dropout(x, 0.0).to_vector<float>(), x.to_vector<float>());
  for (float v : F::dropout(x, 1.0).to_vector<float>()) EXPECT_EQ(v, 0.0f);
  nn::Dropout all(1.0);
  for (float v : all(x).to_vector<float>()) EXPECT_EQ(v, 0.0f);
  EXPECT_NABLA_ERROR(nn::Dropout(1.5), "Dropout", "[0, 1]", "1.5");
  EXPECT_NABLA_ERROR(F::dropout(x, -0.1), "dropout", "[0, 1]");
}

// ============================================================================================
// in-place layers (inplace=true, as libtorch's ReLUOptions().inplace(true))
// ============================================================================================

// Each in-place layer next to its out-of-place twin; seeds fix the dropout masks.
struct InPlaceCase {
  const char* name;
  std::shared_ptr<nn::Module> in_place, out_of_place;
};
std::vector<InPlaceCase> in_place_cases() {
  return {
      {"ReLU", std::make_shared<nn::ReLU>(true), std::make_shared<nn::ReLU>()},
      {"LeakyReLU", std::make_shared<nn::LeakyReLU>(0.2, true), std::make_shared<nn::LeakyReLU>(0.2)},
      {"ELU", std::make_shared<nn::ELU>(0.7, true), std::make_shared<nn::ELU>(0.7)},
      {"SiLU", std::make_shared<nn::SiLU>(true), std::make_shared<nn::SiLU>()},
      {"Dropout", std::make_shared<nn::Dropout>(0.3, true), std::make_shared<nn::Dropout>(0.3)},
      {"Dropout2d", std::make_shared<nn::Dropout2d>(0.3, true), std::make_shared<nn::Dropout2d>(0.3)},
  };
}

Tensor in_place_input() {
  manual_seed(21);
  return randn({2, 3, 4, 5}, kFloat64);
}

TEST(InPlace, LayersWriteIntoTheirInputAndBumpItsVersion) {
  for (const auto& c : in_place_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor x = in_place_input();
    manual_seed(3);
    const D expected = (*c.out_of_place)(x).to_vector<double>();
    const uint32_t v = x.version();
    manual_seed(3);
    const Tensor y = (*c.in_place)(x);
    EXPECT_EQ(y.impl(), x.impl());
    EXPECT_GT(x.version(), v);
    EXPECT_EQ(x.to_vector<double>(), expected);
  }
}

TEST(InPlace, GradientsThroughANonLeafEqualTheOutOfPlaceOnes) {
  for (const auto& c : in_place_cases()) {
    SCOPED_TRACE(c.name);
    std::vector<D> grads;
    for (nn::Module* m : {c.out_of_place.get(), c.in_place.get()}) {
      const Tensor x = in_place_input().requires_grad_(true);
      const Tensor w = in_place_input() + 0.5;
      manual_seed(4);
      ((*m)(x * 1.5) * w).sum().backward();
      grads.push_back(x.grad().to_vector<double>());
    }
    EXPECT_EQ(grads[0], grads[1]);
  }
}

TEST(InPlace, LeafsThatRequireGradAndSavedTensorsAreErrors) {
  for (const auto& c : in_place_cases()) {
    SCOPED_TRACE(c.name);
    const Tensor leaf = in_place_input().requires_grad_(true);
    EXPECT_NABLA_ERROR((*c.in_place)(leaf),
                       "_: a leaf tensor that requires grad is being used in an in-place");
    {
      NoGradGuard g;  // allowed without grad mode, as PyTorch
      EXPECT_EQ((*c.in_place)(leaf).impl(), leaf.impl());
    }
    const Tensor s = in_place_input().requires_grad_(true).sigmoid();  // saves its output
    (*c.in_place)(s);
    EXPECT_NABLA_ERROR(s.sum().backward(), "modified by an in-place operation", "SigmoidBackward");
  }
}

TEST(InPlace, AfterBatchNormWhoseOutputIsAViewOfATemporary) {
  // batch_norm reshapes its kernel's output: a view, but of storage nothing else holds, so
  // writing it in place is allowed (a view of a live tensor is not: Errors.InPlaceOnAViewUnderAutograd)
  std::vector<D> grads;
  for (bool inplace : {false, true}) {
    manual_seed(5);
    nn::Sequential net{std::make_shared<nn::Conv2d>(2, 3, 3), std::make_shared<nn::BatchNorm2d>(3),
                       std::make_shared<nn::ReLU>(inplace)};
    net.to(kFloat64);
    manual_seed(6);
    const Tensor x = randn({2, 2, 5, 5}, kFloat64).requires_grad_(true);
    (net(x) * (x.narrow(2, 0, 3).narrow(3, 0, 3).narrow(1, 0, 1) + 2.0)).sum().backward();
    grads.push_back(x.grad().to_vector<double>());
  }
  EXPECT_EQ(grads[0], grads[1]);
  const Tensor live = randn({2, 3}, kFloat64).requires_grad_(true) * 2;
  Tensor row = live.narrow(0, 0, 1);
  EXPECT_NABLA_ERROR(F::relu_(row), "relu_: in-place operations on a view are not supported");
}

TEST(InPlace, EvalDropoutAndFunctionalForms) {
  nn::Dropout d(0.5, true);
  d.eval();
  const Tensor x = in_place_input();
  const uint32_t v = x.version();
  EXPECT_EQ(d(x).impl(), x.impl());
  EXPECT_EQ(x.version(), v);  // untouched
  Tensor t = in_place_input();
  const D relu_ref = relu(t).to_vector<double>(), leaky_ref = leaky_relu(t, 0.1).to_vector<double>();
  EXPECT_EQ(&F::relu_(t), &t);
  EXPECT_EQ(t.to_vector<double>(), relu_ref);
  Tensor u = in_place_input();
  F::leaky_relu_(u, 0.1);
  EXPECT_EQ(u.to_vector<double>(), leaky_ref);
  Tensor ints = i64({1, -2}, {2});
  EXPECT_NABLA_ERROR(F::elu_(ints), "elu_", "cannot be cast", "int64");
  Tensor flat = zeros({2, 3}, kFloat64);
  EXPECT_NABLA_ERROR(F::dropout2d_(flat, 0.5), "dropout2d_", "3-D", "[2, 3]");
  EXPECT_EQ(nn::ReLU(true).repr(), "ReLU(inplace=True)");
  EXPECT_EQ(nn::ReLU().repr(), "ReLU()");
  EXPECT_EQ(nn::LeakyReLU(0.2, true).repr(), "LeakyReLU(negative_slope=0.2, inplace=True)");
  EXPECT_EQ(nn::Dropout2d(0.5, true).repr(), "Dropout2d(p=0.5, inplace=True)");
}

TEST(Module, ForwardHooksMayReplaceTheOutput) {
  auto lin = std::make_shared<nn::Linear>(3, 2);
  nn::Sequential net{lin, std::make_shared<nn::ReLU>()};
  lin->add_forward_hook([](nn::Module&, const Tensor&, Tensor& out) { out = out * 0.0 - 1.0; });
  for (float v : net(ones({4, 3})).to_vector<float>()) EXPECT_EQ(v, 0.0f);  // ReLU(-1) downstream
  for (float v : (*lin)(ones({4, 3})).to_vector<float>()) EXPECT_EQ(v, -1.0f);
  nn::LSTM lstm(3, 4);
  lstm.flatten_parameters();  // a no-op (cuDNN packs the weights itself)
  EXPECT_EQ(lstm.forward(ones({5, 2, 3})).sizes(), (Shape{5, 2, 4}));
}

// ============================================================================================
// losses against PyTorch
// ============================================================================================

struct LossRef {
  const char* name;  // "<case>/<reduction>"
  D value;           // the loss (per element for "none")
  D grad;            // d sum(loss) / d input
};

// PyTorch 1.13.1, tests/reference/make_nn_reference.py, section "losses".
const std::vector<LossRef>& loss_reference() {
  static const std::vector<LossRef> refs = {
      // clang-format off
    // X = {0.2, -1.3, 0.7, 1.5, 0.3, -0.4}  Y = {0.5, -0.2, 0.1, -1.0, 0.1, 0.9} (shape [2, 3])
    {"mse/none", {0.09, 1.2100000000000002, 0.36, 6.25, 0.039999999999999994, 1.6900000000000002}, {-0.6, -2.2, 1.2, 5.0, 0.39999999999999997, -2.6}},
    {"mse/sum", {9.64}, {-0.6, -2.2, 1.2, 5.0, 0.39999999999999997, -2.6}},
    {"mse/mean", {1.6066666666666667}, {-0.09999999999999999, -0.3666666666666667, 0.19999999999999998, 0.8333333333333333, 0.06666666666666665, -0.43333333333333335}},
    {"l1/none", {0.3, 1.1, 0.6, 2.5, 0.19999999999999998, 1.3}, {-1.0, -1.0, 1.0, 1.0, 1.0, -1.0}},
    {"l1/sum", {6.0}, {-1.0, -1.0, 1.0, 1.0, 1.0, -1.0}},
    {"l1/mean", {1.0}, {-0.16666666666666666, -0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.16666666666666666, -0.16666666666666666}},
    {"smooth_l1_b1/none", {0.045, 0.6000000000000001, 0.18, 2.0, 0.019999999999999997, 0.8}, {-0.3, -1.0, 0.6, 1.0, 0.19999999999999998, -1.0}},
    {"smooth_l1_b1/sum", {3.6450000000000005}, {-0.3, -1.0, 0.6, 1.0, 0.19999999999999998, -1.0}},
    {"smooth_l1_b1/mean", {0.6075}, {-0.049999999999999996, -0.16666666666666666, 0.09999999999999999, 0.16666666666666666, 0.033333333333333326, -0.16666666666666666}},
    {"smooth_l1_b05/none", {0.09, 0.8500000000000001, 0.35, 2.25, 0.039999999999999994, 1.05}, {-0.6, -1.0, 1.0, 1.0, 0.39999999999999997, -1.0}},
    {"smooth_l1_b05/sum", {4.630000000000001}, {-0.6, -1.0, 1.0, 1.0, 0.39999999999999997, -1.0}},
    {"smooth_l1_b05/mean", {0.7716666666666668}, {-0.09999999999999999, -0.16666666666666666, 0.16666666666666666, 0.16666666666666666, 0.06666666666666665, -0.16666666666666666}},
    // LOGITS = {0.3, -1.2, 2.0, 0.5, -0.1, 1.1, 0.4, -0.7, 0.0, 2.2, -0.5, 0.9, 0.1, -1.5, 0.6, 2.5, -0.3, 0.8, 1.2, -2.0} (shape [4, 5]); TGT = {1, 0, 4, 2}; W = {0.2, 1.0, 0.5, 2.0, 1.5}
    {"ce/none", {3.6504590703727624, 1.6092221490903658, 1.2272156775488217, 2.1233930225285635}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, -0.7999568426755361, 0.09933849205136157, 0.033066911502069786, 0.06658858256497968, 0.6009628565571252, 0.09756702731310964, 0.3956538059252557, 0.1777787147654314, 0.03589290348470563, -0.7068924514885023, 0.6548212230383051, 0.03981971958128115, -0.8803749513508407, 0.1784596020313544, 0.007274406699900124}},
    {"ce/sum", {8.610289919540513}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, -0.7999568426755361, 0.09933849205136157, 0.033066911502069786, 0.06658858256497968, 0.6009628565571252, 0.09756702731310964, 0.3956538059252557, 0.1777787147654314, 0.03589290348470563, -0.7068924514885023, 0.6548212230383051, 0.03981971958128115, -0.8803749513508407, 0.1784596020313544, 0.007274406699900124}},
    {"ce/mean", {2.1525724798851282}, {0.029107673905037802, -0.24350520006002063, 0.15933387565172755, 0.03555219319123997, 0.01951145731201532, -0.19998921066888403, 0.024834623012840392, 0.008266727875517446, 0.01664714564124492, 0.1502407141392813, 0.02439175682827741, 0.09891345148131392, 0.04444467869135785, 0.008973225871176407, -0.17672311287212558, 0.1637053057595763, 0.009954929895320288, -0.22009373783771016, 0.0446149005078386, 0.001818601674975031}},
    {"ce_weight/none", {3.6504590703727624, 0.32184442981807315, 1.8408235163232325, 1.0616965112642818}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, -0.15999136853510726, 0.019867698410272316, 0.006613382300413958, 0.013317716512995938, 0.12019257131142505, 0.14635054096966446, 0.5934807088878835, 0.2666680721481471, 0.05383935522705844, -1.0603386772327534, 0.3274106115191526, 0.019909859790640576, -0.4401874756754203, 0.0892298010156772, 0.003637203349950062}},
    {"ce_weight/sum", {6.87482352777835}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, -0.15999136853510726, 0.019867698410272316, 0.006613382300413958, 0.013317716512995938, 0.12019257131142505, 0.14635054096966446, 0.5934807088878835, 0.2666680721481471, 0.05383935522705844, -1.0603386772327534, 0.3274106115191526, 0.019909859790640576, -0.4401874756754203, 0.0892298010156772, 0.003637203349950062}},
    {"ce_weight/mean", {2.148382352430734}, {0.03638459238129725, -0.3043815000750258, 0.19916734456465943, 0.044440241489049966, 0.024389321640019147, -0.04999730266722101, 0.006208655753210098, 0.0020666819688793616, 0.00416178641031123, 0.03756017853482033, 0.04573454405302014, 0.1854627215274636, 0.08333377254629597, 0.016824798508455762, -0.3313558366352355, 0.10231581609973518, 0.00622183118457518, -0.13755858614856886, 0.027884312817399122, 0.0011366260468593944}},
    {"ce_ignore_default/none", {3.6504590703727624, 0.0, 1.8408235163232325, 1.0616965112642818}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, 0.0, 0.0, 0.0, 0.0, 0.0, 0.14635054096966446, 0.5934807088878835, 0.2666680721481471, 0.05383935522705844, -1.0603386772327534, 0.3274106115191526, 0.019909859790640576, -0.4401874756754203, 0.0892298010156772, 0.003637203349950062}},
    {"ce_ignore_default/sum", {6.552979097960277}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, 0.0, 0.0, 0.0, 0.0, 0.0, 0.14635054096966446, 0.5934807088878835, 0.2666680721481471, 0.05383935522705844, -1.0603386772327534, 0.3274106115191526, 0.019909859790640576, -0.4401874756754203, 0.0892298010156772, 0.003637203349950062}},
    {"ce_ignore_default/mean", {2.184326365986759}, {0.038810231873383734, -0.3246736000800275, 0.21244516753563672, 0.04740292425498663, 0.026015276416020423, 0.0, 0.0, 0.0, 0.0, 0.0, 0.04878351365655482, 0.19782690296262784, 0.0888893573827157, 0.017946451742352813, -0.35344622574425116, 0.10913687050638418, 0.006636619930213525, -0.14672915855847343, 0.02974326700522573, 0.0012124011166500205}},
    {"ce_ignore_2/none", {3.6504590703727624, 0.0, 1.2272156775488217, 0.0}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, 0.0, 0.0, 0.0, 0.0, 0.0, 0.09756702731310964, 0.3956538059252557, 0.1777787147654314, 0.03589290348470563, -0.7068924514885023, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"ce_ignore_2/sum", {4.877674747921584}, {0.11643069562015121, -0.9740208002400825, 0.6373355026069102, 0.14220877276495988, 0.07804582924806128, 0.0, 0.0, 0.0, 0.0, 0.0, 0.09756702731310964, 0.3956538059252557, 0.1777787147654314, 0.03589290348470563, -0.7068924514885023, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"ce_ignore_2/mean", {2.438837373960792}, {0.058215347810075604, -0.48701040012004126, 0.3186677513034551, 0.07110438638247994, 0.03902291462403064, 0.0, 0.0, 0.0, 0.0, 0.0, 0.04878351365655482, 0.19782690296262784, 0.0888893573827157, 0.017946451742352813, -0.35344622574425116, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"ce_smooth/none", {3.5004590703727625, 1.6592221490903658, 1.2952156775488217, 2.1593930225285636}, {0.0964306956201512, -0.8940208002400826, 0.6173355026069102, 0.12220877276495988, 0.05804582924806127, -0.7199568426755363, 0.07933849205136156, 0.013066911502069786, 0.04658858256497968, 0.5809628565571252, 0.07756702731310963, 0.37565380592525566, 0.1577787147654314, 0.015892903484705626, -0.6268924514885024, 0.6348212230383051, 0.01981971958128115, -0.8003749513508407, 0.1584596020313544, -0.012725593300099876}},
    {"ce_smooth/sum", {8.614289919540512}, {0.0964306956201512, -0.8940208002400826, 0.6173355026069102, 0.12220877276495988, 0.05804582924806127, -0.7199568426755363, 0.07933849205136156, 0.013066911502069786, 0.04658858256497968, 0.5809628565571252, 0.07756702731310963, 0.37565380592525566, 0.1577787147654314, 0.015892903484705626, -0.6268924514885024, 0.6348212230383051, 0.01981971958128115, -0.8003749513508407, 0.1584596020313544, -0.012725593300099876}},
    {"ce_smooth/mean", {2.153572479885128}, {0.0241076739050378, -0.22350520006002064, 0.15433387565172754, 0.03055219319123997, 0.014511457312015318, -0.17998921066888407, 0.01983462301284039, 0.0032667278755174464, 0.01164714564124492, 0.1452407141392813, 0.019391756828277408, 0.09391345148131391, 0.03944467869135785, 0.0039732258711764066, -0.1567231128721256, 0.15870530575957628, 0.004954929895320288, -0.20009373783771017, 0.0396149005078386, -0.003181398325024969}},
    {"ce_smooth_weight_ignore/none", {3.5260609066542536, 0.0, 1.8717715951559868, 1.2595597344808243}, {0.11289641840263182, -0.8939168834410429, 0.6298848446173378, 0.10277760785601972, 0.048358012565053524, 0.0, 0.0, 0.0, 0.0, 0.0, 0.13786245771326142, 0.5552806338153218, 0.24849025126893728, 0.012188281666761986, -0.9538216244642824, 0.3587709575632211, 0.0020601246480297596, -0.39372772304836573, 0.05886661952537034, -0.02596997868825533}},
    {"ce_smooth_weight_ignore/sum", {6.657392236291065}, {0.11289641840263182, -0.8939168834410429, 0.6298848446173378, 0.10277760785601972, 0.048358012565053524, 0.0, 0.0, 0.0, 0.0, 0.0, 0.13786245771326142, 0.5552806338153218, 0.24849025126893728, 0.012188281666761986, -0.9538216244642824, 0.3587709575632211, 0.0020601246480297596, -0.39372772304836573, 0.05886661952537034, -0.02596997868825533}},
    {"ce_smooth_weight_ignore/mean", {2.219130745430355}, {0.03763213946754393, -0.2979722944803476, 0.2099616148724459, 0.03425920261867323, 0.016119337521684502, 0.0, 0.0, 0.0, 0.0, 0.0, 0.045954152571087134, 0.18509354460510724, 0.08283008375631241, 0.004062760555587325, -0.3179405414880941, 0.11959031918774035, 0.00068670821600991922, -0.13124257434945524, 0.019622206508456776, -0.008656659562751778}},
    // PROB = {0.16286826670469107, 0.17999727183941286, 0.1091738640352333, 0.400591295495598, 0.14736930192506473, 0.37205423120546866, 0.05035206475957229, 0.22566229830192955, 0.1671747423029825, 0.18475666343004696, 0.09501737095167516, 0.09501737095167516, 0.09501737095167516, 0.7020886843348313, 0.012859202810143251, 0.26931919259216225, 0.14780550671802675, 0.1805300535766594, 0.07339804245561454, 0.32894720465753696}
    {"ce_prob/none", {2.213688870942891, 2.031320618125769, 2.825124496889145, 2.719829408570575}, {-0.04643757108453986, -0.15401807207949544, 0.5281616385716769, -0.2583825227306381, -0.06932347267700345, -0.17201107388100487, 0.048986427291789265, -0.19259538679985977, -0.10058615973800282, 0.4162061931270782, 0.002549656361434477, 0.3006364349735805, 0.08276134381375623, -0.6661957808501257, 0.28024834570135443, 0.38550203044614284, -0.1079857871367456, -0.06090500492750009, 0.10506155957573983, -0.3216727979576368}},
    {"ce_prob/sum", {9.78996339452838}, {-0.04643757108453986, -0.15401807207949544, 0.5281616385716769, -0.2583825227306381, -0.06932347267700345, -0.17201107388100487, 0.048986427291789265, -0.19259538679985977, -0.10058615973800282, 0.4162061931270782, 0.002549656361434477, 0.3006364349735805, 0.08276134381375623, -0.6661957808501257, 0.28024834570135443, 0.38550203044614284, -0.1079857871367456, -0.06090500492750009, 0.10506155957573983, -0.3216727979576368}},
    {"ce_prob/mean", {2.447490848632095}, {-0.011609392771134965, -0.03850451801987386, 0.13204040964291922, -0.06459563068265953, -0.017330868169250863, -0.04300276847025122, 0.012246606822947316, -0.04814884669996494, -0.025146539934500705, 0.10405154828176955, 0.00063741409035861923, 0.07515910874339513, 0.020690335953439058, -0.1665489452125314, 0.07006208642533861, 0.09637550761153571, -0.0269964467841864, -0.015226251231875022, 0.026265389893934957, -0.0804181994894092}},
    {"ce_prob_weight_smooth/none", {2.8310035075511792, 1.7112301039505877, 4.634081733573808, 3.3399136368765214}, {0.11390508267913729, -0.14914801663703714, 0.7467537992571777, -0.5812477436760977, -0.13026312162318018, 0.10270184348947747, 0.020925908498118966, -0.08284031099611175, -0.28310428074599564, 0.24231683975451104, 0.12822283125459252, 0.5000309861791472, 0.2193318185770518, -1.2488256818117403, 0.4012400458009488, 0.5649771401578805, -0.11547750346671949, 0.021560257215590798, -0.0038404685755037073, -0.46721942533124805}},
    {"ce_prob_weight_smooth/sum", {12.516228981952096}, {0.11390508267913729, -0.14914801663703714, 0.7467537992571777, -0.5812477436760977, -0.13026312162318018, 0.10270184348947747, 0.020925908498118966, -0.08284031099611175, -0.28310428074599564, 0.24231683975451104, 0.12822283125459252, 0.5000309861791472, 0.2193318185770518, -1.2488256818117403, 0.4012400458009488, 0.5649771401578805, -0.11547750346671949, 0.021560257215590798, -0.0038404685755037073, -0.46721942533124805}},
    {"ce_prob_weight_smooth/mean", {3.129057245488024}, {0.028476270669784323, -0.037287004159259285, 0.18668844981429442, -0.14531193591902442, -0.032565780405795046, 0.02567546087236937, 0.0052314771245297416, -0.020710077749027937, -0.07077607018649891, 0.06057920993862776, 0.03205570781364813, 0.1250077465447868, 0.05483295464426295, -0.31220642045293506, 0.1003100114502372, 0.14124428503947012, -0.028869375866679873, 0.0053900643038976995, -0.00096011714387592682, -0.11680485633281201}},
    // X3 = {0.2, -0.4, 1.0, 0.3, 1.5, 0.1, -0.2, 0.0, -0.7, 0.8, 0.4, -1.1, 0.0, 0.6, -0.5, 2.0, 0.3, -1.0, 0.9, 0.2, 1.2, 0.5, 0.1, -0.3} (shape [2, 3, 4]); T3 = {0, 2, 1, 1, 2, 0, 0, 1} ([2, 4]); W3 = {0.5, 1.0, 2.0}
    {"ce_3d/none", {1.6244972152579191, 0.5865523010014776, 1.8151888001696852, 0.9868348922324126, 0.5351848373623431, 0.7451388506409538, 1.9282288619223373, 2.035512919831622}, {-0.8029892957169069, 0.16753679151490453, 0.5405388318516456, 0.503166126402285, 0.7228907207112739, 0.2762214717954759, -0.8371928325325013, -0.6272453655313468, 0.08009857500563294, -0.4437582633103805, 0.2966540006808555, 0.12407923912906205, 0.17636759795175985, -0.5253316126458087, -0.8545944962207969, 0.7901654541382399, 0.2380713554662065, 0.09583389460894956, 0.5896483941044577, -0.8693865289198439, -0.41443895341796644, 0.4294977180368592, 0.2649461021163392, 0.07922107478160406}},
    {"ce_3d/sum", {10.257138678418753}, {-0.8029892957169069, 0.16753679151490453, 0.5405388318516456, 0.503166126402285, 0.7228907207112739, 0.2762214717954759, -0.8371928325325013, -0.6272453655313468, 0.08009857500563294, -0.4437582633103805, 0.2966540006808555, 0.12407923912906205, 0.17636759795175985, -0.5253316126458087, -0.8545944962207969, 0.7901654541382399, 0.2380713554662065, 0.09583389460894956, 0.5896483941044577, -0.8693865289198439, -0.41443895341796644, 0.4294977180368592, 0.2649461021163392, 0.07922107478160406}},
    {"ce_3d/mean", {1.2821423348023442}, {-0.10037366196461336, 0.020942098939363066, 0.0675673539814557, 0.06289576580028562, 0.09036134008890924, 0.03452768397443449, -0.10464910406656266, -0.07840567069141835, 0.010012321875704118, -0.05546978291379756, 0.03708175008510694, 0.015509904891132756, 0.02204594974396998, -0.06566645158072609, -0.10682431202759961, 0.09877068176727999, 0.029758919433275813, 0.011979236826118695, 0.07370604926305721, -0.10867331611498049, -0.051804869177245805, 0.0536872147546074, 0.0331182627645424, 0.009902634347700508}},
    {"ce_3d_weight_smooth/none", {0.9372150886461542, 1.1675585769194987, 1.78544194683918, 1.0716154737696195, 1.0757709382778244, 0.48224534869654045, 1.0059963550893245, 2.0727714684954828}, {-0.3550272675729139, 0.3044455170702337, 0.5328811457158398, 0.49488556184232313, 0.37630474173638856, 0.49609115427466216, -0.7678127130747096, -0.5543661216235359, -0.021277474163474665, -0.8005366713448959, 0.23493156735886983, 0.0594805597812131, 0.3213712294075397, -0.19768791383262493, -0.3842702145251182, 0.7866682117072107, 0.42297009797689583, 0.02097254027840475, 0.3008007566591927, -0.800542971068508, -0.7443413273844357, 0.1767153735542202, 0.08346945786592554, 0.013874759361297477}},
    {"ce_3d_weight_smooth/sum", {9.598615196733626}, {-0.3550272675729139, 0.3044455170702337, 0.5328811457158398, 0.49488556184232313, 0.37630474173638856, 0.49609115427466216, -0.7678127130747096, -0.5543661216235359, -0.021277474163474665, -0.8005366713448959, 0.23493156735886983, 0.0594805597812131, 0.3213712294075397, -0.19768791383262493, -0.3842702145251182, 0.7866682117072107, 0.42297009797689583, 0.02097254027840475, 0.3008007566591927, -0.800542971068508, -0.7443413273844357, 0.1767153735542202, 0.08346945786592554, 0.013874759361297477}},
    {"ce_3d_weight_smooth/mean", {1.129248846674544}, {-0.04176791383210752, 0.03581711965532161, 0.06269189949598114, 0.058221830804979176, 0.04427114608663395, 0.058363665208783784, -0.09033090742055407, -0.065219543720416, -0.0025032322545264314, -0.0941807848641054, 0.02763900792457291, 0.006997712915436832, 0.03780837993029879, -0.023257401627367637, -0.04520826053236685, 0.09254920137731888, 0.04976118799728186, 0.0024673576798123235, 0.0353883243128462, -0.09418152600805976, -0.08756956792758067, 0.02079004394755532, 0.009819936219520651, 0.0016323246307408774}},
    {"ce_1d/none", {0.43285546687876886}, {0.23862655824004822, 0.11271920470830456, -0.35134576294835285}},
    {"ce_1d/sum", {0.43285546687876886}, {0.23862655824004822, 0.11271920470830456, -0.35134576294835285}},
    {"ce_1d/mean", {0.43285546687876886}, {0.23862655824004822, 0.11271920470830456, -0.35134576294835285}},
    // LOGP = log_softmax(LOGITS, 1)
    {"nll/none", {3.6504590703727624, 1.6092221490903658, 1.2272156775488217, 2.1233930225285635}, {0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 0.0, 0.0}},
    {"nll/sum", {8.610289919540513}, {0.0, -1.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.0, 0.0, 0.0, -1.0, 0.0, 0.0}},
    {"nll/mean", {2.1525724798851282}, {0.0, -0.25, 0.0, 0.0, 0.0, -0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.25, 0.0, 0.0, -0.25, 0.0, 0.0}},
    {"nll_weight_ignore/none", {3.6504590703727624, 0.0, 1.8408235163232325, 1.0616965112642818}, {0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.5, 0.0, 0.0, -0.5, 0.0, 0.0}},
    {"nll_weight_ignore/sum", {6.552979097960277}, {0.0, -1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -1.5, 0.0, 0.0, -0.5, 0.0, 0.0}},
    {"nll_weight_ignore/mean", {2.184326365986759}, {0.0, -0.3333333333333333, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, -0.5, 0.0, 0.0, -0.16666666666666666, 0.0, 0.0}},
    // P = {0.1, 0.5, 0.9, 0.0, 1.0, 0.3, 0.0, 1.0, 0.75}  PT = {0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 0.2}  BW = {1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 1.0, 1.0, 3.0} (shape [3, 3])
    {"bce/none", {0.10536051565782628, 0.6931471805599453, 0.10536051565782628, 0.0, -0.0, 0.7803238741323343, 100.0, 100.0, 1.1665719033862687}, {1.111111111111111, -2.0, -1.1111111111111112, 0.0, 0.0, -0.9523809523809524, -1000000003995.8029, 1000000003995.8029, 2.9333333333333336}},
    {"bce/sum", {202.85076398939418}, {1.111111111111111, -2.0, -1.1111111111111112, 0.0, 0.0, -0.9523809523809524, -1000000003995.8029, 1000000003995.8029, 2.9333333333333336}},
    {"bce/mean", {22.538973776599352}, {0.12345679012345677, -0.2222222222222222, -0.1234567901234568, 0.0, 0.0, -0.10582010582010583, -111111111555.0892, 111111111555.0892, 0.32592592592592595}},
    {"bce_weight/none", {0.10536051565782628, 1.3862943611198906, 0.05268025782891314, 0.0, -0.0, 0.19508096853308357, 100.0, 100.0, 3.499715710158806}, {1.111111111111111, -4.0, -0.5555555555555556, 0.0, 0.0, -0.2380952380952381, -1000000003995.8029, 1000000003995.8029, 8.8}},
    {"bce_weight/sum", {205.2391318132985}, {1.111111111111111, -4.0, -0.5555555555555556, 0.0, 0.0, -0.2380952380952381, -1000000003995.8029, 1000000003995.8029, 8.8}},
    {"bce_weight/mean", {22.80434797925539}, {0.12345679012345677, -0.4444444444444444, -0.0617283950617284, 0.0, 0.0, -0.026455026455026457, -111111111555.0892, 111111111555.0892, 0.9777777777777779}},
    // BX = {-100.0, 100.0, 0.0, 2.5, 100.0, -100.0, -1.5, 0.0}  BT = {0.0, 1.0, 0.0, 0.3, 0.0, 1.0, 1.0, 1.0}  PW = {2.0, 0.5, 3.0, 1.5} (shape [2, 4], PW [4])
    {"bce_logits/none", {0.0, 0.0, 0.6931471805599453, 1.8288897342925496, 100.0, 100.0, 1.7014132779827524, 0.6931471805599453}, {3.7200759760208356e-44, 0.0, 0.5, 0.6241418199787565, 1.0, -1.0, -0.8175744761936437, -0.5}},
    {"bce_logits/sum", {204.91659737339518}, {3.7200759760208356e-44, 0.0, 0.5, 0.6241418199787565, 1.0, -1.0, -0.8175744761936437, -0.5}},
    {"bce_logits/mean", {25.614574671674397}, {4.6500949700260445e-45, 0.0, 0.0625, 0.07801772749734456, 0.125, -0.125, -0.10219680952420546, -0.0625}},
    {"bce_logits_pos_weight/none", {0.0, 0.0, 0.6931471805599453, 1.840723194436432, 100.0, 50.0, 5.104239833948258, 1.0397207708399179}, {3.7200759760208356e-44, 0.0, 0.5, 0.6127630929755701, 1.0, -0.5, -2.452723428580931, -0.75}},
    {"bce_logits_pos_weight/sum", {158.67783097978457}, {3.7200759760208356e-44, 0.0, 0.5, 0.6127630929755701, 1.0, -0.5, -2.452723428580931, -0.75}},
    {"bce_logits_pos_weight/mean", {19.83472887247307}, {4.6500949700260445e-45, 0.0, 0.0625, 0.07659538662194626, 0.125, -0.0625, -0.30659042857261637, -0.09375}},
    {"bce_logits_weight_pos_weight/none", {0.0, 0.0, 0.34657359027997264, 1.840723194436432, 100.0, 100.0, 2.552119916974129, 1.0397207708399179}, {3.7200759760208356e-44, 0.0, 0.25, 0.6127630929755701, 1.0, -1.0, -1.2263617142904655, -0.75}},
    {"bce_logits_weight_pos_weight/sum", {205.77913747253046}, {3.7200759760208356e-44, 0.0, 0.25, 0.6127630929755701, 1.0, -1.0, -1.2263617142904655, -0.75}},
    {"bce_logits_weight_pos_weight/mean", {25.722392184066308}, {4.6500949700260445e-45, 0.0, 0.03125, 0.07659538662194626, 0.125, -0.125, -0.15329521428630818, -0.09375}},
    // HX = {0.3, -0.5, 1.7, 0.2, 1.0, -1.0}  HT = {1.0, -1.0, -1.0, 1.0, -1.0, 1.0}
    {"hinge_m1/none", {0.3, 1.5, 0.0, 0.2, 0.0, -1.0}, {1.0, -1.0, 0.0, 1.0, -1.0, 1.0}},
    {"hinge_m1/sum", {1.0}, {1.0, -1.0, 0.0, 1.0, -1.0, 1.0}},
    {"hinge_m1/mean", {0.16666666666666666}, {0.16666666666666666, -0.16666666666666666, 0.0, 0.16666666666666666, -0.16666666666666666, 0.16666666666666666}},
    {"hinge_m15/none", {0.3, 2.0, 0.0, 0.2, 0.5, -1.0}, {1.0, -1.0, 0.0, 1.0, -1.0, 1.0}},
    {"hinge_m15/sum", {2.0}, {1.0, -1.0, 0.0, 1.0, -1.0, 1.0}},
    {"hinge_m15/mean", {0.3333333333333333}, {0.16666666666666666, -0.16666666666666666, 0.0, 0.16666666666666666, -0.16666666666666666, 0.16666666666666666}},
    // MX = {0.1, 0.9, -0.3, 0.4, 1.2, 0.35, 0.8, -0.6, -0.2, 0.15, 0.05, 0.7}  MT = {2, 0, 3}; MW = {0.5, 1.0, 2.0, 1.5}
    {"multi_margin_p1/none", {1.3250000000000002, 0.18750000000000003, 0.22500000000000003}, {0.25, 0.25, -0.75, 0.25, -0.5, 0.25, 0.25, 0.0, 0.25, 0.25, 0.25, -0.75}},
    {"multi_margin_p1/sum", {1.7375000000000003}, {0.25, 0.25, -0.75, 0.25, -0.5, 0.25, 0.25, 0.0, 0.25, 0.25, 0.25, -0.75}},
    {"multi_margin_p1/mean", {0.5791666666666667}, {0.08333333333333333, 0.08333333333333333, -0.25, 0.08333333333333333, -0.16666666666666666, 0.08333333333333333, 0.08333333333333333, 0.0, 0.08333333333333333, 0.08333333333333333, 0.08333333333333333, -0.25}},
    {"multi_margin_p2/none", {2.4225000000000003, 0.09562500000000003, 0.08375000000000002}, {0.7000000000000001, 1.1, -2.6500000000000004, 0.8500000000000001, -0.37500000000000006, 0.07500000000000001, 0.30000000000000004, 0.0, 0.05000000000000002, 0.22500000000000003, 0.17500000000000002, -0.45000000000000007}},
    {"multi_margin_p2/sum", {2.6018750000000006}, {0.7000000000000001, 1.1, -2.6500000000000004, 0.8500000000000001, -0.37500000000000006, 0.07500000000000001, 0.30000000000000004, 0.0, 0.05000000000000002, 0.22500000000000003, 0.17500000000000002, -0.45000000000000007}},
    {"multi_margin_p2/mean", {0.8672916666666669}, {0.23333333333333334, 0.3666666666666667, -0.8833333333333334, 0.2833333333333333, -0.125, 0.025, 0.1, 0.0, 0.01666666666666667, 0.07500000000000001, 0.058333333333333334, -0.15000000000000002}},
    {"multi_margin_p1_weight_m05/none", {1.9000000000000001, 0.012500000000000011, 0.0}, {0.5, 0.5, -1.5, 0.5, -0.125, 0.0, 0.125, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"multi_margin_p1_weight_m05/sum", {1.9125}, {0.5, 0.5, -1.5, 0.5, -0.125, 0.0, 0.125, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"multi_margin_p1_weight_m05/mean", {0.6375000000000001}, {0.16666666666666666, 0.16666666666666666, -0.5, 0.16666666666666666, -0.041666666666666664, 0.0, 0.041666666666666664, 0.0, 0.0, 0.0, 0.0, 0.0}},
    {"multi_margin_p2_weight/none", {4.845000000000001, 0.047812500000000015, 0.12562500000000004}, {1.4000000000000001, 2.2, -5.300000000000001, 1.7000000000000002, -0.18750000000000003, 0.037500000000000006, 0.15000000000000002, 0.0, 0.07500000000000002, 0.3375, 0.2625, -0.675}},
    {"multi_margin_p2_weight/sum", {5.018437500000001}, {1.4000000000000001, 2.2, -5.300000000000001, 1.7000000000000002, -0.18750000000000003, 0.037500000000000006, 0.15000000000000002, 0.0, 0.07500000000000002, 0.3375, 0.2625, -0.675}},
    {"multi_margin_p2_weight/mean", {1.6728125000000003}, {0.4666666666666667, 0.7333333333333334, -1.7666666666666668, 0.5666666666666667, -0.0625, 0.0125, 0.05, 0.0, 0.025000000000000005, 0.11250000000000002, 0.0875, -0.225}},
      // clang-format on
  };
  return refs;
}

// The inputs of make_nn_reference.py.
const D kX{0.2, -1.3, 0.7, 1.5, 0.3, -0.4}, kY{0.5, -0.2, 0.1, -1.0, 0.1, 0.9};
const D kLogits{0.3,  -1.2, 2.0, 0.5,  -0.1, 1.1, 0.4,  -0.7, 0.0, 2.2,
                -0.5, 0.9,  0.1, -1.5, 0.6,  2.5, -0.3, 0.8,  1.2, -2.0};
const D kW{0.2, 1.0, 0.5, 2.0, 1.5};
const D kProb{0.16286826670469107, 0.17999727183941286, 0.1091738640352333,   0.400591295495598,
              0.14736930192506473, 0.37205423120546866, 0.05035206475957229,  0.22566229830192955,
              0.1671747423029825,  0.18475666343004696, 0.09501737095167516,  0.09501737095167516,
              0.09501737095167516, 0.7020886843348313,  0.012859202810143251, 0.26931919259216225,
              0.14780550671802675, 0.1805300535766594,  0.07339804245561454,  0.32894720465753696};
const D kX3{0.2, -0.4, 1.0,  0.3, 1.5, 0.1,  -0.2, 0.0, -0.7, 0.8, 0.4, -1.1,
            0.0, 0.6,  -0.5, 2.0, 0.3, -1.0, 0.9,  0.2, 1.2,  0.5, 0.1, -0.3};
const D kP{0.1, 0.5, 0.9, 0.0, 1.0, 0.3, 0.0, 1.0, 0.75}, kPT{0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1.0, 0.0, 0.2};
const D kBW{1.0, 2.0, 0.5, 1.5, 1.0, 0.25, 1.0, 1.0, 3.0};
const D kBX{-100.0, 100.0, 0.0, 2.5, 100.0, -100.0, -1.5, 0.0}, kBT{0.0, 1.0, 0.0, 0.3, 0.0, 1.0, 1.0, 1.0};
const D kPW{2.0, 0.5, 3.0, 1.5};
const D kHX{0.3, -0.5, 1.7, 0.2, 1.0, -1.0}, kHT{1.0, -1.0, -1.0, 1.0, -1.0, 1.0};
const D kMX{0.1, 0.9, -0.3, 0.4, 1.2, 0.35, 0.8, -0.6, -0.2, 0.15, 0.05, 0.7}, kMW{0.5, 1.0, 2.0, 1.5};

// Runs loss case `base` with reduction r; returns (the input leaf, the loss).
std::pair<Tensor, Tensor> run_loss(const std::string& base, Reduction r) {
  auto leaf = [](const D& v, const Shape& s) { return t64(v, s).requires_grad_(true); };
  const Tensor tgt = i64({1, 0, 4, 2}, {4}), tgt_ign = i64({1, -100, 4, 2}, {4}),
               tgt_ign2 = i64({1, 2, 4, 2}, {4});
  const Tensor w = t64(kW, {5});
  if (base == "mse" || base == "l1" || base == "smooth_l1_b1" || base == "smooth_l1_b05") {
    Tensor x = leaf(kX, {2, 3});
    const Tensor y = t64(kY, {2, 3});
    if (base == "mse") return {x, F::mse_loss(x, y, r)};
    if (base == "l1") return {x, F::l1_loss(x, y, r)};
    return {x, F::smooth_l1_loss(x, y, r, base == "smooth_l1_b1" ? 1.0 : 0.5)};
  }
  if (base.rfind("ce_3d", 0) == 0) {
    Tensor x = leaf(kX3, {2, 3, 4});
    F::CrossEntropyOptions o;
    o.reduction = r;
    if (base == "ce_3d_weight_smooth") {
      o.weight = t64({0.5, 1.0, 2.0}, {3});
      o.label_smoothing = 0.1;
    }
    return {x, F::cross_entropy(x, i64({0, 2, 1, 1, 2, 0, 0, 1}, {2, 4}), o)};
  }
  if (base == "ce_1d") {
    Tensor x = leaf({0.5, -0.25, 1.5}, {3});
    F::CrossEntropyOptions o;
    o.reduction = r;
    return {x, F::cross_entropy(x, scalar_tensor(int64_t{2}, kInt64), o)};
  }
  if (base.rfind("ce", 0) == 0) {
    Tensor x = leaf(kLogits, {4, 5});
    F::CrossEntropyOptions o;
    o.reduction = r;
    Tensor t = tgt;
    if (base == "ce_weight") o.weight = w;
    if (base == "ce_ignore_default") {
      o.weight = w;
      t = tgt_ign;
    }
    if (base == "ce_ignore_2") {
      o.ignore_index = 2;
      t = tgt_ign2;
    }
    if (base == "ce_smooth") o.label_smoothing = 0.1;
    if (base == "ce_smooth_weight_ignore") {
      o.weight = w;
      o.label_smoothing = 0.1;
      t = tgt_ign;
    }
    if (base == "ce_prob") t = t64(kProb, {4, 5});
    if (base == "ce_prob_weight_smooth") {
      t = t64(kProb, {4, 5});
      o.weight = w;
      o.label_smoothing = 0.1;
    }
    return {x, F::cross_entropy(x, t, o)};
  }
  if (base == "nll" || base == "nll_weight_ignore") {
    Tensor x;
    {
      NoGradGuard g;
      x = log_softmax(t64(kLogits, {4, 5}), 1);
    }
    x.requires_grad_(true);
    F::NLLLossOptions o;
    o.reduction = r;
    if (base == "nll") return {x, F::nll_loss(x, tgt, o)};
    o.weight = w;
    return {x, F::nll_loss(x, tgt_ign, o)};
  }
  if (base == "bce" || base == "bce_weight") {
    Tensor x = leaf(kP, {3, 3});
    return {x, F::binary_cross_entropy(x, t64(kPT, {3, 3}), base == "bce" ? Tensor() : t64(kBW, {3, 3}), r)};
  }
  if (base.rfind("bce_logits", 0) == 0) {
    Tensor x = leaf(kBX, {2, 4});
    const Tensor t = t64(kBT, {2, 4});
    if (base == "bce_logits") return {x, F::binary_cross_entropy_with_logits(x, t, Tensor(), Tensor(), r)};
    const Tensor pw = t64(kPW, {4});
    if (base == "bce_logits_pos_weight")
      return {x, F::binary_cross_entropy_with_logits(x, t, Tensor(), pw, r)};
    return {x, F::binary_cross_entropy_with_logits(x, t, t64({1.0, 2.0, 0.5, 1.0}, {4}), pw, r)};
  }
  if (base == "hinge_m1" || base == "hinge_m15") {
    Tensor x = leaf(kHX, {6});
    return {x, F::hinge_embedding_loss(x, t64(kHT, {6}), base == "hinge_m1" ? 1.0 : 1.5, r)};
  }
  if (base.rfind("multi_margin", 0) == 0) {
    Tensor x = leaf(kMX, {3, 4});
    const Tensor t = i64({2, 0, 3}, {3}), mw = t64(kMW, {4});
    if (base == "multi_margin_p1") return {x, F::multi_margin_loss(x, t, 1, 1.0, Tensor(), r)};
    if (base == "multi_margin_p2") return {x, F::multi_margin_loss(x, t, 2, 1.0, Tensor(), r)};
    if (base == "multi_margin_p1_weight_m05") return {x, F::multi_margin_loss(x, t, 1, 0.5, mw, r)};
    return {x, F::multi_margin_loss(x, t, 2, 1.0, mw, r)};
  }
  ADD_FAILURE() << "unknown loss case " << base;
  return {};
}

TEST(Losses, ValuesAndInputGradientsMatchPyTorch) {
  int checked = 0;
  for (const LossRef& ref : loss_reference()) {
    const std::string name = ref.name;
    SCOPED_TRACE(name);
    const std::string base = name.substr(0, name.find('/')), red = name.substr(name.find('/') + 1);
    const Reduction r = red == "none" ? Reduction::None : red == "sum" ? Reduction::Sum : Reduction::Mean;
    auto [x, loss] = run_loss(base, r);
    ASSERT_TRUE(loss.defined());
    EXPECT_EQ(loss.dtype(), kFloat64);
    if (r != Reduction::None) {
      EXPECT_EQ(loss.dim(), 0);
    }
    EXPECT_TRUE(all_close(loss.to_vector<double>(), ref.value, 5e-11, 5e-11)) << "value";
    loss.sum().backward();
    ASSERT_TRUE(x.grad().defined());
    // the two exact-0/1 BCE gradients are +-1e12: relative 1e-8 covers PyTorch 1.13's float
    // epsilon (1e-12f) against an exact 1e-12
    EXPECT_TRUE(all_close(x.grad().to_vector<double>(), ref.grad,
                          (base.rfind("bce", 0) == 0 ? 1e-8 : 1e-10) / 2,
                          (base.rfind("bce", 0) == 0 ? 1e-8 : 1e-10) / 2))
        << "gradient";
    ++checked;
  }
  EXPECT_EQ(checked, 84);
}

TEST(Losses, GradientsWithRespectToTheTargetMatchPyTorch) {
  // PyTorch 1.13.1, make_nn_reference.py section "losses: gradients w.r.t. the target"
  const Tensor pt = t64(kPT, {3, 3}).requires_grad_(true);
  F::binary_cross_entropy(t64(kP, {3, 3}), pt, t64(kBW, {3, 3})).backward();
  const D g = pt.grad().to_vector<double>();
  // PyTorch gives +-inf where the input is exactly 0 or 1 (elements 3, 4, 6, 7); nabla's clamped
  // logs give finite values there, so only the others are compared
  const D want{0.24413606414846878, 0.0, -0.12206803207423442, 0, 0, 0.023536051677422325, 0, 0,
               -0.36620409622270317};
  for (int i : {0, 1, 2, 5, 8}) EXPECT_NEAR(g[i], want[i], 1e-12) << i;
  for (double v : g) EXPECT_TRUE(std::isfinite(v));

  const Tensor bt = t64(kBT, {2, 4}).requires_grad_(true);
  F::binary_cross_entropy_with_logits(t64(kBX, {2, 4}), bt, Tensor(), t64(kPW, {4})).backward();
  EXPECT_TRUE(all_close(bt.grad().to_vector<double>(),
                        {25.0, -12.5, 0.1732867951399863, -0.30756939160671565, -12.5, 6.25,
                         0.6128533194956882, 0.04332169878499657},
                        5e-13, 5e-13))
      << "bce_logits_pos_weight d/d target";

  const Tensor q = t64(kProb, {4, 5}).requires_grad_(true);
  F::CrossEntropyOptions o;
  o.weight = t64(kW, {5});
  o.label_smoothing = 0.1;
  F::cross_entropy(t64(kLogits, {4, 5}), q, o).backward();
  EXPECT_TRUE(all_close(
      q.grad().to_vector<double>(),
      {0.09677065816677431,  0.8213532908338715, 0.05067664541693577, 0.8777065816677431, 0.8607799362508074,
       0.07241499670906647,  0.5195749835453324, 0.38353749177266616, 1.2191499670906647, 0.17186247531799848,
       0.10472470548969698,  0.2086235274484849, 0.19431176372424244, 1.4972470548969699, 0.41418529117272734,
       0.019052686013785368, 0.7252634300689268, 0.2388817150344634,  0.7755268601378537, 1.6616451451033902},
      5e-13, 5e-13))
      << "ce_prob_weight_smooth d/d target";
}

TEST(Losses, NoneReductionKeepsTheBatchShape) {
  F::CrossEntropyOptions o;
  o.reduction = Reduction::None;
  EXPECT_EQ(F::cross_entropy(t64(kX3, {2, 3, 4}), i64({0, 2, 1, 1, 2, 0, 0, 1}, {2, 4}), o).sizes(),
            (Shape{2, 4}));
  EXPECT_EQ(F::cross_entropy(zeros({2, 3, 4}), softmax(randn({2, 3, 4}), 1), o).sizes(), (Shape{2, 4}));
  EXPECT_EQ(F::cross_entropy(zeros({3}), scalar_tensor(int64_t{1}, kInt64), o).sizes(), Shape{});
  EXPECT_EQ(F::mse_loss(zeros({2, 3}), ones({2, 3}), Reduction::None).sizes(), (Shape{2, 3}));
}

TEST(Losses, BinaryCrossEntropyIsFiniteAtExactZeroAndOne) {
  // float32 too: sigmoid saturates to exactly 1.0f for logits above ~17
  const Tensor x =
      sigmoid(from_vector<float>({-200.0f, 200.0f, 40.0f, -40.0f}, {4})).detach().requires_grad_(true);
  const Tensor t = from_vector<float>({0.0f, 1.0f, 0.0f, 1.0f}, {4});
  const Tensor loss = F::binary_cross_entropy(x, t, Tensor(), Reduction::Sum);
  EXPECT_TRUE(std::isfinite(loss.item<double>()));
  // sigmoid(200) = 1 and sigmoid(-200) = 0 exactly (loss 0 with their targets); sigmoid(40) = 1
  // exactly with target 0 is clamped at -100; sigmoid(-40) = 4.25e-18 with target 1 gives 40
  EXPECT_NEAR(loss.item<double>(), 140.0, 1e-3);
  loss.backward();
  for (float g : x.grad().to_vector<float>()) EXPECT_TRUE(std::isfinite(g)) << g;
  // through the sigmoid as well: a saturated unit gets no gradient (not NaN)
  const Tensor z = from_vector<float>({-200.0f, 200.0f, 40.0f, -40.0f, 0.5f}, {5}).requires_grad_(true);
  F::binary_cross_entropy(sigmoid(z), from_vector<float>({0.0f, 1.0f, 1.0f, 0.0f, 1.0f}, {5})).backward();
  for (float g : z.grad().to_vector<float>()) EXPECT_TRUE(std::isfinite(g)) << g;
  EXPECT_NABLA_ERROR(F::binary_cross_entropy(full({2}, 1.5), zeros({2})), "binary_cross_entropy", "[0, 1]");
}

TEST(Losses, BinaryCrossEntropyWithLogitsIsStableForLargeLogits) {
  for (ScalarType dt : {kFloat32, kFloat64}) {
    const Tensor x = t64({-1000.0, 1000.0, -100.0, 100.0, 0.0}, {5}).to(dt).requires_grad_(true);
    const Tensor t = t64({1.0, 0.0, 0.0, 1.0, 1.0}, {5}).to(dt);
    const Tensor loss = F::binary_cross_entropy_with_logits(x, t, Tensor(), Tensor(), Reduction::None);
    EXPECT_TRUE(all_close(loss.to_vector<double>(), {1000.0, 1000.0, 0.0, 0.0, std::log(2.0)}, 5e-7, 5e-7))
        << "value";
    loss.sum().backward();
    EXPECT_TRUE(all_close(x.grad().to_vector<double>(), {-1.0, 1.0, 0.0, 0.0, -0.5}, 5e-7, 5e-7))
        << "gradient";
  }
}

TEST(Losses, CrossEntropyFloat32AgreesWithFloat64) {
  manual_seed(17);
  const Tensor logits = randn({1000, 10}, kFloat64) * 3.0;
  const Tensor target = randint(0, 10, {1000}, kInt64);
  for (double smoothing : {0.0, 0.1}) {
    F::CrossEntropyOptions o;
    o.label_smoothing = smoothing;
    o.weight = rand({10}, kFloat64) + 0.5;
    const Tensor x64 = logits.detach().requires_grad_(true);
    const Tensor x32 = logits.to(kFloat32).detach().requires_grad_(true);
    const Tensor l64 = F::cross_entropy(x64, target, o);
    F::CrossEntropyOptions o32 = o;
    o32.weight = o.weight.to(kFloat32);
    const Tensor l32 = F::cross_entropy(x32, target, o32);
    EXPECT_EQ(l32.dtype(), kFloat32);
    EXPECT_NEAR(l32.item<double>(), l64.item<double>(), 1e-6 * std::abs(l64.item<double>()));
    l64.backward();
    l32.backward();
    EXPECT_TRUE(all_close(x32.grad().to_vector<double>(), x64.grad().to_vector<double>(), 5e-7, 5e-7))
        << "gradient";
    // and the fused op agrees with log_softmax + nll_loss
    F::NLLLossOptions n;
    n.weight = o.weight;
    if (smoothing == 0.0) {
      EXPECT_NEAR(F::nll_loss(log_softmax(logits, 1), target, n).item<double>(), l64.item<double>(), 1e-12);
    }
  }
}

TEST(Losses, CrossEntropyIsStableForExtremeLogits) {
  for (ScalarType dt : {kFloat32, kFloat64}) {
    SCOPED_TRACE(dtype_name(dt));
    const Tensor x = t64({1000.0, 0.0, -1000.0, 1000.0, 0.0, -1000.0, -INFINITY, 5.0, 5.0}, {3, 3})
                         .to(dt)
                         .requires_grad_(true);
    F::CrossEntropyOptions o;
    o.reduction = Reduction::None;
    const Tensor loss = F::cross_entropy(x, i64({0, 1, 2}, {3}), o);
    EXPECT_TRUE(all_close(loss.to_vector<double>(), {0.0, 1000.0, std::log(2.0)}, 5e-7, 5e-7)) << "value";
    loss.sum().backward();
    EXPECT_TRUE(all_close(x.grad().to_vector<double>(), {0, 0, 0, 1, -1, 0, 0, 0.5, -0.5}, 5e-7, 5e-7))
        << "gradient";
  }
}

TEST(Losses, CrossEntropyBadTargetsAreClearErrors) {
  const Tensor logits = t64(kLogits, {4, 5});
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, i64({1, 7, 0, 2}, {4})), "cross_entropy",
                     "target 7 is out of range for 5 classes");
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, i64({1, 0, -3, 2}, {4})), "cross_entropy",
                     "target -3 is out of range for 5 classes");
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, from_vector<int32_t>({1, 0, 4, 2}, {4})), "cross_entropy",
                     "int64", "int32");
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, i64({1, 0, 4}, {3})), "cross_entropy", "[3]", "[4, 5]");
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, zeros({4, 4}, kFloat64)), "cross_entropy",
                     "probability targets", "[4, 5]", "[4, 4]");
  F::CrossEntropyOptions o;
  o.weight = ones({4}, kFloat64);
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, i64({1, 0, 4, 2}, {4}), o), "cross_entropy",
                     "weight of shape [5]", "[4]");
  o = {};
  o.label_smoothing = 1.5;
  EXPECT_NABLA_ERROR(F::cross_entropy(logits, i64({1, 0, 4, 2}, {4}), o), "cross_entropy", "label_smoothing");
  EXPECT_NABLA_ERROR(F::cross_entropy(i64({1, 2}, {1, 2}), i64({0}, {1})), "cross_entropy",
                     "floating-point logits");
  // a bad target among many rows, where the kernel runs on several threads
  L many(20000, 3);
  many[19999] = 10;
  EXPECT_NABLA_ERROR(F::cross_entropy(zeros({20000, 10}), i64(many, {20000})), "cross_entropy",
                     "target 10 is out of range for 10 classes");
}

TEST(Losses, OtherLossesRejectBadInput) {
  EXPECT_NABLA_ERROR(F::mse_loss(zeros({2, 3}), zeros({3, 2})), "mse_loss", "[2, 3]", "[3, 2]");
  EXPECT_NABLA_ERROR(F::nll_loss(zeros({2, 3}), zeros({2})), "nll_loss", "int64");
  EXPECT_NABLA_ERROR(F::nll_loss(zeros({2, 3}), i64({0, 1, 2}, {3})), "nll_loss", "[3]", "[2, 3]");
  EXPECT_NABLA_ERROR(F::nll_loss(zeros({2, 3}), i64({0, 3}, {2})), "nll_loss",
                     "target 3 is out of range for 3 classes");
  EXPECT_NABLA_ERROR(F::multi_margin_loss(zeros({2, 3}), i64({0, 1}, {2}), 3), "multi_margin_loss",
                     "p = 1 and p = 2");
  EXPECT_NABLA_ERROR(F::multi_margin_loss(zeros({2, 3}), i64({0, 5}, {2})), "multi_margin_loss",
                     "target 5 is out of range for 3 classes");
  EXPECT_NABLA_ERROR(F::smooth_l1_loss(zeros({2}), zeros({2}), Reduction::Mean, -1.0), "smooth_l1_loss",
                     "beta");
}

TEST(Losses, LossModulesWrapTheFunctions) {
  const Tensor x = t64(kX, {2, 3}), y = t64(kY, {2, 3});
  EXPECT_EQ(nn::MSELoss()(x, y).item<double>(), F::mse_loss(x, y).item<double>());
  EXPECT_EQ(nn::L1Loss(Reduction::Sum)(x, y).item<double>(), F::l1_loss(x, y, Reduction::Sum).item<double>());
  EXPECT_EQ(nn::SmoothL1Loss(Reduction::Mean, 0.5)(x, y).item<double>(),
            F::smooth_l1_loss(x, y, Reduction::Mean, 0.5).item<double>());
  F::CrossEntropyOptions o;
  o.label_smoothing = 0.1;
  o.weight = t64(kW, {5});
  const Tensor logits = t64(kLogits, {4, 5}), tgt = i64({1, 0, 4, 2}, {4});
  nn::CrossEntropyLoss ce(o);
  EXPECT_EQ(ce(logits, tgt).item<double>(), F::cross_entropy(logits, tgt, o).item<double>());
  ce.reduction = Reduction::Sum;  // the module's reduction wins
  o.reduction = Reduction::Sum;
  EXPECT_EQ(ce(logits, tgt).item<double>(), F::cross_entropy(logits, tgt, o).item<double>());
  EXPECT_EQ(nn::NLLLoss()(log_softmax(logits, 1), tgt).item<double>(),
            F::nll_loss(log_softmax(logits, 1), tgt).item<double>());
  const Tensor p = t64(kP, {3, 3}), pt = t64(kPT, {3, 3});
  EXPECT_EQ(nn::BCELoss()(p, pt).item<double>(), F::binary_cross_entropy(p, pt).item<double>());
  const Tensor bx = t64(kBX, {2, 4}), bt = t64(kBT, {2, 4}), pw = t64(kPW, {4});
  EXPECT_EQ(nn::BCEWithLogitsLoss(Tensor(), pw)(bx, bt).item<double>(),
            F::binary_cross_entropy_with_logits(bx, bt, Tensor(), pw).item<double>());
  EXPECT_EQ(nn::HingeEmbeddingLoss(1.5)(t64(kHX, {6}), t64(kHT, {6})).item<double>(),
            F::hinge_embedding_loss(t64(kHX, {6}), t64(kHT, {6}), 1.5).item<double>());
  EXPECT_EQ(nn::MultiMarginLoss(2)(t64(kMX, {3, 4}), i64({2, 0, 3}, {3})).item<double>(),
            F::multi_margin_loss(t64(kMX, {3, 4}), i64({2, 0, 3}, {3}), 2).item<double>());
  EXPECT_EQ(nn::CrossEntropyLoss().repr(), "CrossEntropyLoss()");
}

}  // namespace
}  // namespace nabla

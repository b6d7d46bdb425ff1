// Recurrent networks: RNN, LSTM, GRU and their cells against PyTorch 1.13 (outputs, final
// states and every gradient, tests/reference/make_rnn_reference.py), parameter names and
// initialisation as PyTorch's, dropout between layers, inference without a reserve, more than
// 32 op inputs, Embedding with padding_idx, and clear errors for bad shapes. (The op-level
// gradcheck and float32/16-bit checks run from tests/op_db.cpp.)
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "nabla/nabla.h"
#include "test_util.h"

namespace nabla {
namespace {

using test_util::all_close;
using test_util::throws_with;

namespace F = nn::functional;

struct RnnRef {
  const char* name;
  std::vector<double> output, h_n, c_n, grad_x;
  std::vector<std::vector<double>> grad_states, grad_params;
};

const std::vector<RnnRef>& references() {
  static const std::vector<RnnRef> refs{
#include "rnn_reference.inc"
  };
  return refs;
}

const RnnRef& ref(const std::string& name) {
  for (const RnnRef& r : references()) {
    if (name == r.name) return r;
  }
  throw std::runtime_error("no reference named " + name);
}

// make_rnn_reference.py's fill(): element i of the k-th tensor is 0.5 sin(0.7 i + 1.3 k + 0.1).
Tensor fill(const Shape& shape, int k, ScalarType t = kFloat64) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = 0.5 * std::sin(0.7 * i + 1.3 * k + 0.1);
  return from_vector(v, shape).to(t);
}

Tensor ramp(const Tensor& t) {
  std::vector<double> v(static_cast<std::size_t>(t.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 0.3 * std::cos(0.5 * static_cast<double>(i));
  return from_vector(v, t.sizes()).to(t.dtype());
}

void set_params(nn::Module& m, int first, ScalarType t) {
  m.to(t);
  NoGradGuard g;
  int k = first;
  for (auto& [name, p] : m.named_parameters()) p.copy_(fill(p.sizes(), k++, t));
}

Tensor loss_of(const F::RNNOutput& r) {
  Tensor l = (r.output * ramp(r.output)).sum() + (r.h_n * ramp(r.h_n)).sum();
  if (r.c_n.defined()) l = l + (r.c_n * ramp(r.c_n)).sum();
  return l;
}

void check_against(const RnnRef& want, nn::Module& m, const F::RNNOutput& r, const Tensor& x,
                   const std::vector<Tensor>& states, double tol) {
  const std::string n = want.name;
  EXPECT_TRUE(all_close(r.output, want.output, tol, tol)) << n + " output";
  EXPECT_TRUE(all_close(r.h_n, want.h_n, tol, tol)) << n + " h_n";
  if (!want.c_n.empty()) {
    EXPECT_TRUE(all_close(r.c_n, want.c_n, tol, tol)) << n + " c_n";
  }
  loss_of(r).backward();
  EXPECT_TRUE(all_close(x.grad(), want.grad_x, tol * 10, tol * 10)) << n + " grad input";
  ASSERT_EQ(states.size(), want.grad_states.size()) << n;
  for (std::size_t i = 0; i < states.size(); ++i) {
    EXPECT_TRUE(all_close(states[i].grad(), want.grad_states[i], tol * 10, tol * 10))
        << n + " grad state " + std::to_string(i);
  }
  const auto params = m.named_parameters();
  ASSERT_EQ(params.size(), want.grad_params.size()) << n;
  for (std::size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(all_close(params[i].second.grad(), want.grad_params[i], tol * 10, tol * 10))
        << n + " grad " + params[i].first;
  }
}

struct SeqCase {
  std::string name;
  std::function<std::shared_ptr<nn::RNNBase>()> make;
  Shape x;
  bool with_states;
};

std::vector<SeqCase> seq_cases() {
  return {
      {"rnn_tanh 2 layers bidirectional",
       [=] {
         return std::make_shared<nn::RNN>(3, 4, nn::RNNOptions{.num_layers = 2, .bidirectional = true});
       },
       {5, 2, 3},
       true},
      {"rnn_relu batch_first",
       [=] {
         return std::make_shared<nn::RNN>(3, 4, nn::RNNOptions{.batch_first = true, .nonlinearity = "relu"});
       },
       {2, 5, 3},
       false},
      {"lstm 2 layers bidirectional batch_first",
       [=] {
         return std::make_shared<nn::LSTM>(
             3, 4, nn::RNNOptions{.num_layers = 2, .batch_first = true, .bidirectional = true});
       },
       {2, 5, 3},
       true},
      {"lstm no bias unbatched",
       [=] { return std::make_shared<nn::LSTM>(3, 4, nn::RNNOptions{.bias = false}); },
       {5, 3},
       true},
      {"gru 2 layers bidirectional",
       [=] {
         return std::make_shared<nn::GRU>(3, 4, nn::RNNOptions{.num_layers = 2, .bidirectional = true});
       },
       {5, 2, 3},
       true},
  };
}

void run_seq_case(const SeqCase& c, ScalarType t, double tol) {
  auto m = c.make();
  set_params(*m, 10, t);
  const Tensor x = fill(c.x, 1, t).requires_grad_(true);
  const bool lstm = m->type_name() == "LSTM";
  const int64_t layers = m->options.num_layers * (m->options.bidirectional ? 2 : 1);
  const Shape state = c.x.size() == 2
                          ? Shape{layers, m->hidden_size}
                          : Shape{layers, m->options.batch_first ? c.x[0] : c.x[1], m->hidden_size};
  std::vector<Tensor> states;
  if (c.with_states) {
    states.push_back(fill(state, 2, t).requires_grad_(true));
    if (lstm) states.push_back(fill(state, 3, t).requires_grad_(true));
  }
  const F::RNNOutput r = m->forward_with_state(x, states.empty() ? Tensor() : states[0],
                                               states.size() > 1 ? states[1] : Tensor());
  check_against(ref(c.name), *m, r, x, states, tol);
}

TEST(RecurrentModules, MatchPyTorchInFloat64) {
  for (const SeqCase& c : seq_cases()) {
    SCOPED_TRACE(c.name);
    run_seq_case(c, kFloat64, 1e-12);
  }
}

TEST(RecurrentModules, MatchPyTorchInFloat32) {
  for (const SeqCase& c : seq_cases()) {
    SCOPED_TRACE(c.name);
    run_seq_case(c, kFloat32, 2e-6);
  }
}

TEST(RecurrentCells, HandWrittenLoopsMatchPyTorch) {
  for (const char* name : {"rnn_cell", "lstm_cell", "gru_cell"}) {
    SCOPED_TRACE(name);
    const std::string n = name;
    std::shared_ptr<nn::RNNCellBase> cell;
    if (n == "rnn_cell") cell = std::make_shared<nn::RNNCell>(3, 4);
    if (n == "lstm_cell") cell = std::make_shared<nn::LSTMCell>(3, 4);
    if (n == "gru_cell") cell = std::make_shared<nn::GRUCell>(3, 4);
    set_params(*cell, 10, kFloat64);
    const Tensor x = fill({3, 2, 3}, 1).requires_grad_(true);
    const Tensor h0 = fill({2, 4}, 2).requires_grad_(true), c0 = fill({2, 4}, 3).requires_grad_(true);
    const std::vector<Tensor> states =
        n == "lstm_cell" ? std::vector<Tensor>{h0, c0} : std::vector<Tensor>{h0};
    Tensor h = states[0], c = n == "lstm_cell" ? states[1] : Tensor();
    std::vector<Tensor> outs;
    for (int64_t t = 0; t < 3; ++t) {
      if (n == "rnn_cell") h = static_cast<nn::RNNCell&>(*cell).step(x.select(0, t), h);
      if (n == "gru_cell") h = static_cast<nn::GRUCell&>(*cell).step(x.select(0, t), h);
      if (n == "lstm_cell") std::tie(h, c) = static_cast<nn::LSTMCell&>(*cell).step(x.select(0, t), h, c);
      outs.push_back(h);
    }
    check_against(ref(name), *cell, F::RNNOutput{stack(outs), h, c}, x, states, 1e-12);
  }
}

TEST(RecurrentModules, ParameterNamesShapesAndInitAsPyTorch) {
  manual_seed(3);
  nn::RNNOptions o;
  o.num_layers = 2;
  o.bidirectional = true;
  nn::LSTM lstm(3, 5, o);
  // torch.nn.LSTM(3, 5, num_layers=2, bidirectional=True).named_parameters()
  const std::vector<std::pair<std::string, Shape>> want{{"weight_ih_l0", {20, 3}},
                                                        {"weight_hh_l0", {20, 5}},
                                                        {"bias_ih_l0", {20}},
                                                        {"bias_hh_l0", {20}},
                                                        {"weight_ih_l0_reverse", {20, 3}},
                                                        {"weight_hh_l0_reverse", {20, 5}},
                                                        {"bias_ih_l0_reverse", {20}},
                                                        {"bias_hh_l0_reverse", {20}},
                                                        {"weight_ih_l1", {20, 10}},
                                                        {"weight_hh_l1", {20, 5}},
                                                        {"bias_ih_l1", {20}},
                                                        {"bias_hh_l1", {20}},
                                                        {"weight_ih_l1_reverse", {20, 10}},
                                                        {"weight_hh_l1_reverse", {20, 5}},
                                                        {"bias_ih_l1_reverse", {20}},
                                                        {"bias_hh_l1_reverse", {20}}};
  const auto got = lstm.named_parameters();
  ASSERT_EQ(got.size(), want.size());
  const double bound = 1.0 / std::sqrt(5.0);
  double lo = 1, hi = -1;
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    EXPECT_EQ(got[i].second.sizes(), want[i].second) << want[i].first;
    lo = std::min(lo, got[i].second.min().item<double>());
    hi = std::max(hi, got[i].second.max().item<double>());
  }
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.8 * bound);  // uniform over the whole range, not a narrower one
  EXPECT_GT(hi, 0.8 * bound);
  EXPECT_EQ(nn::GRU(3, 4).named_parameters()[0].second.size(0), 12);
  EXPECT_EQ(nn::RNN(3, 4).named_parameters()[0].second.size(0), 4);
  nn::RNNOptions nb;
  nb.bias = false;
  EXPECT_EQ(nn::GRU(3, 4, nb).named_parameters().size(), 2u);
  // PyTorch's reprs
  EXPECT_EQ(lstm.repr(), "LSTM(3, 5, num_layers=2, bidirectional=True)");
  EXPECT_EQ(nn::RNNCell(3, 4, /*bias=*/false, "relu").repr(), "RNNCell(3, 4, bias=False, nonlinearity=relu)");
  EXPECT_EQ(nn::Embedding(5, 3, -1).repr(), "Embedding(5, 3, padding_idx=4)");
}

TEST(RecurrentModules, StateDictRoundTripsBetweenModules) {
  nn::RNNOptions o;
  o.num_layers = 2;
  nn::GRU a(3, 4, o), b(3, 4, o);
  b.load_state_dict(a.state_dict());
  const Tensor x = randn({4, 2, 3});
  EXPECT_EQ(a(x).to_vector<float>(), b(x).to_vector<float>());
}

TEST(RecurrentModules, InferenceWithoutGradMatchesTraining) {
  nn::RNNOptions o;
  o.num_layers = 2;
  o.bidirectional = true;
  nn::LSTM m(3, 4, o);
  const Tensor x = randn({6, 2, 3});
  const auto with_grad = m.forward_with_state(x);
  ASSERT_TRUE(with_grad.output.requires_grad());
  NoGradGuard g;
  const auto without = m.forward_with_state(x);
  EXPECT_FALSE(without.output.requires_grad());
  EXPECT_EQ(without.output.to_vector<float>(), with_grad.output.to_vector<float>());
  EXPECT_EQ(without.c_n.to_vector<float>(), with_grad.c_n.to_vector<float>());
}

TEST(RecurrentModules, DropoutBetweenLayersOnlyInTrainingAndReproducible) {
  nn::RNNOptions o;
  o.num_layers = 3;
  o.dropout = 0.5;
  manual_seed(1);
  nn::GRU m(3, 8, o);
  const Tensor x = randn({5, 4, 3});
  manual_seed(7);
  const auto a = m(x).to_vector<float>();
  manual_seed(7);
  const auto b = m(x).to_vector<float>();
  EXPECT_EQ(a, b);  // Philox masks from the global generator
  manual_seed(8);
  EXPECT_NE(m(x).to_vector<float>(), a);
  m.eval();
  const auto e1 = m(x).to_vector<float>();
  nn::RNNOptions plain = o;
  plain.dropout = 0.0;
  nn::GRU same(3, 8, plain);
  same.load_state_dict(m.state_dict());
  EXPECT_EQ(e1, same(x).to_vector<float>());  // eval: no dropout
  EXPECT_NE(e1, a);
}

TEST(RecurrentOps, GradcheckWithDropoutAndManyLayers) {
  // Dropout: the same seed inside the function gives the same masks on every evaluation.
  for (double p : {0.0, 0.4}) {
    SCOPED_TRACE(p);
    F::RNNOptions o;
    o.num_layers = 5;  // 5 layers x 2 directions x 4 = 40 weights: more than 32 op inputs
    o.bidirectional = true;
    o.dropout = p;
    std::vector<Tensor> in{fill({2, 1, 2}, 1).requires_grad_(true), fill({10, 1, 1}, 2).requires_grad_(true),
                           fill({10, 1, 1}, 3).requires_grad_(true)};
    int k = 4;
    for (int64_t l = 0; l < 5; ++l) {
      for (int d = 0; d < 2; ++d) {
        in.push_back(fill({4, l == 0 ? 2 : 2}, k++).requires_grad_(true));
        in.push_back(fill({4, 1}, k++).requires_grad_(true));
        in.push_back(fill({4}, k++).requires_grad_(true));
        in.push_back(fill({4}, k++).requires_grad_(true));
      }
    }
    const auto r = autograd::gradcheck(
        [&](const std::vector<Tensor>& v) {
          manual_seed(11);
          const auto out = F::lstm(v[0], v[1], v[2], std::vector<Tensor>(v.begin() + 3, v.end()), o);
          return cat({out.output.reshape({-1}), out.h_n.reshape({-1}), out.c_n.reshape({-1})});
        },
        in);
    EXPECT_TRUE(r.ok) << r.message;
  }
}

TEST(Embedding, LooksUpRowsAndPaddingRowGetsNoGradient) {
  manual_seed(0);
  nn::Embedding e(6, 3, /*padding_idx=*/2);
  EXPECT_EQ(e.weight.select(0, 2).to_vector<float>(), std::vector<float>(3, 0.0f));
  {
    NoGradGuard g;
    e.weight.select(0, 2).fill_(5.0);  // a non-zero padding row is still read, as PyTorch
  }
  const Tensor idx = from_vector<int64_t>({1, 2, 5, 2, 1, 0}, {2, 3});
  const Tensor y = e(idx);
  ASSERT_EQ(y.sizes(), (Shape{2, 3, 3}));
  EXPECT_EQ(y.select(0, 0).select(0, 0).to_vector<float>(), e.weight.select(0, 1).to_vector<float>());
  EXPECT_EQ(y.select(0, 0).select(0, 1).to_vector<float>(), std::vector<float>(3, 5.0f));
  (y * 2.0).sum().backward();
  const auto g = e.weight.grad().to_vector<float>();
  // rows: 0 once, 1 twice, 2 padding, 3 and 4 never, 5 once
  const std::vector<float> want{2, 2, 2, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 2};
  EXPECT_EQ(g, want);
}

TEST(Embedding, InitIsStandardNormal) {
  manual_seed(5);
  nn::Embedding e(2000, 50);
  const Tensor w = e.weight;
  EXPECT_NEAR(w.mean().item<double>(), 0.0, 0.01);
  EXPECT_NEAR(w.std().item<double>(), 1.0, 0.01);
}

TEST(RecurrentErrors, RanksFeatureSizesAndStateShapesAreClear) {
  nn::RNNOptions o;
  o.num_layers = 2;
  nn::LSTM lstm(3, 4, o);
  EXPECT_TRUE(throws_with([&] { lstm(randn({2, 3, 4, 3})); }, {"lstm", "3 dims", "[2, 3, 4, 3]"}));
  EXPECT_TRUE(throws_with([&] { lstm(randn({3})); }, {"lstm", "[3]"}));
  EXPECT_TRUE(throws_with([&] { lstm(randn({0, 2, 3})); }, {"lstm", "at least one step", "[0, 2, 3]"}));
  EXPECT_TRUE(throws_with([&] { lstm(randn({5, 2, 7})); }, {"lstm", "7 features", "[16, 3]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        lstm.forward_with_state(randn({5, 2, 3}), randn({2, 3, 4}));
      },
      {"lstm", "h0", "[2, 2, 4]", "[2, 3, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        lstm.forward_with_state(randn({5, 2, 3}), randn({2, 2, 4}), randn({1, 2, 4}));
      },
      {"lstm", "c0", "[2, 2, 4]", "[1, 2, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        lstm.forward_with_state(randn({5, 3}), randn({2, 2, 4}));
      },
      {"lstm", "h0", "[2, 4]"}));
  EXPECT_TRUE(throws_with([&] { lstm(randn({5, 2, 3}, kFloat64)); }, {"lstm", "weight_ih_l0", "float32"}));
  nn::GRU gru(3, 4);
  EXPECT_TRUE(throws_with(
      [&] {
        gru.forward_with_state(randn({5, 2, 3}), randn({1, 2, 5}));
      },
      {"gru", "hx", "[1, 2, 4]", "[1, 2, 5]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        gru.forward_with_state(randn({5, 2, 3}), Tensor(), randn({1, 2, 4}));
      },
      {"GRU", "c0"}));
  EXPECT_TRUE(throws_with(
      [&] {
        F::gru(randn({5, 2, 3}), Tensor(), {randn({12, 3})}, F::RNNOptions{});
      },
      {"gru", "expected 4 weight tensors", "got 1"}));
  EXPECT_TRUE(throws_with(
      [&] {
        F::rnn(randn({5, 2, 3}), Tensor(), {randn({4, 3}), randn({4, 4})}, [] {
          F::RNNOptions r;
          r.bias = false;
          r.nonlinearity = "sigmoid";
          return r;
        }());
      },
      {"rnn", "nonlinearity", "sigmoid"}));
  EXPECT_TRUE(throws_with([] { nn::RNN(0, 4); }, {"RNN", "positive"}));
  nn::LSTMCell cell(3, 4);
  EXPECT_TRUE(throws_with(
      [&] {
        cell.step(randn({2, 3}), randn({3, 4}), Tensor());
      },
      {"lstm_cell", "hx", "[2, 4]"}));
  EXPECT_TRUE(throws_with(
      [&] {
        cell.step(randn({2, 5}), Tensor(), Tensor());
      },
      {"lstm_cell", "5 features"}));
  nn::Embedding emb(4, 2);
  EXPECT_TRUE(throws_with(
      [&] {
        emb(from_vector<int64_t>({0, 4}));
      },
      {"embedding", "index 4", "4 embeddings"}));
  EXPECT_TRUE(throws_with([&] { emb(randn({2})); }, {"embedding", "integer"}));
}

}  // namespace
}  // namespace nabla

// libtorch's options builders (issue 20, item 3), written as libtorch programs write them after
// the two lines of a port: layers from Conv2dOptions(...).stride(2)..., functional calls with
// FuncOptions, optimizers from AdamOptions(...).betas(...). Each is checked against nabla's
// positional spelling: same seed, same parameters, same outputs, same optimizer steps.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

#include "nabla/torch_compat.h"
#include "test_util.h"

namespace torch = nabla::torch_compat;
namespace F = torch::nn::functional;

namespace {

std::vector<double> values(const torch::Tensor& t) { return t.to(torch::kFloat64).to_vector<double>(); }

// The named parameters of two modules agree in names, shapes and values.
void expect_same_parameters(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto pa = a.named_parameters();
  const auto pb = b.named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (std::size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pa[i].first, pb[i].first);
    EXPECT_EQ(pa[i].second.sizes(), pb[i].second.sizes()) << pa[i].first;
    EXPECT_EQ(values(pa[i].second), values(pb[i].second)) << pa[i].first;
  }
}

// Runs `make` and checks that it throws a nabla::Error whose message contains every piece.
template <class Make>
void expect_error(Make make, const std::vector<std::string>& pieces) {
  try {
    make();
    ADD_FAILURE() << "no error thrown";
  } catch (const nabla::Error& e) {
    const std::string what = e.what();
    for (const auto& p : pieces) EXPECT_NE(what.find(p), std::string::npos) << what;
  }
}

// ---- layers --------------------------------------------------------------------------------------

TEST(TorchCompatOptions, Conv2dFromOptionsEqualsPositional) {
  torch::manual_seed(3);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(1, 64, 4).stride(2).padding(1).bias(false));
  torch::manual_seed(3);
  auto positional = std::make_shared<nabla::nn::Conv2d>(1, 64, 4, /*stride=*/2, /*padding=*/1, /*dilation=*/1,
                                                        /*groups=*/1, /*bias=*/false);
  expect_same_parameters(*conv, *positional);
  EXPECT_FALSE(conv->bias.defined());
  EXPECT_EQ(conv->stride.h, 2);
  EXPECT_EQ(conv->padding.w, 1);
  const auto x = torch::randn({2, 1, 8, 8});
  const auto y = conv(x);
  EXPECT_EQ(y.sizes(), (torch::Shape{2, 64, 4, 4}));
  EXPECT_EQ(values(y), values(positional->forward(x)));
}

TEST(TorchCompatOptions, Conv2dDilationAndGroupsByName) {
  torch::manual_seed(4);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 6, {3, 2}).dilation(2).groups(2));
  torch::manual_seed(4);
  nabla::nn::Conv2d positional(4, 6, {3, 2}, 1, 0, /*dilation=*/2, /*groups=*/2);
  expect_same_parameters(*conv, positional);
  EXPECT_EQ(conv->groups, 2);
  EXPECT_EQ(conv->dilation.h, 2);
  EXPECT_EQ(conv->weight.sizes(), (torch::Shape{6, 2, 3, 2}));
}

TEST(TorchCompatOptions, ConvTranspose2dFromOptionsEqualsPositional) {
  torch::manual_seed(5);
  torch::nn::ConvTranspose2d deconv(
      torch::nn::ConvTranspose2dOptions(64, 1, 4).stride(2).padding(1).bias(false));
  torch::manual_seed(5);
  nabla::nn::ConvTranspose2d positional(64, 1, 4, /*stride=*/2, /*padding=*/1);
  // positional has a bias: compare the weight only, and the bias-free layer's output
  EXPECT_EQ(values(deconv->weight), values(positional.weight));
  EXPECT_FALSE(deconv->bias.defined());
  const auto x = torch::randn({1, 64, 3, 3});
  EXPECT_EQ(deconv(x).sizes(), (torch::Shape{1, 1, 6, 6}));
  EXPECT_EQ(values(deconv(x)), values(F::conv_transpose2d(x, positional.weight, torch::Tensor(), 2, 1)));
}

TEST(TorchCompatOptions, ConvTranspose2dGroupsAndDilationByName) {
  torch::manual_seed(6);
  torch::nn::ConvTranspose2d deconv(
      torch::nn::ConvTranspose2dOptions(4, 6, 3).groups(2).dilation(2).output_padding(1).stride(2));
  torch::manual_seed(6);
  // positional order: ..., output_padding, groups, bias, dilation (not Conv2d's)
  nabla::nn::ConvTranspose2d positional(4, 6, 3, 2, 0, /*output_padding=*/1, /*groups=*/2, /*bias=*/true,
                                        /*dilation=*/2);
  expect_same_parameters(*deconv, positional);
  const auto x = torch::randn({1, 4, 3, 3});
  EXPECT_EQ(values(deconv(x)), values(positional.forward(x)));
}

TEST(TorchCompatOptions, LeakyReLUNegativeSlope) {
  torch::nn::LeakyReLU act(torch::nn::LeakyReLUOptions().negative_slope(0.2));
  EXPECT_DOUBLE_EQ(act->negative_slope, 0.2);
  const auto x = torch::tensor({-1.0, 2.0});
  EXPECT_EQ(values(act(x)), values(torch::leaky_relu(x, 0.2)));
  EXPECT_NE(values(act(x)), values(torch::leaky_relu(x)));
  EXPECT_DOUBLE_EQ(torch::nn::LeakyReLUOptions().negative_slope(), 0.01);  // libtorch's default
}

TEST(TorchCompatOptions, LinearWithoutBias) {
  torch::manual_seed(7);
  torch::nn::Linear fc(torch::nn::LinearOptions(4, 3).bias(false));
  torch::manual_seed(7);
  nabla::nn::Linear positional(4, 3, /*bias=*/false);
  expect_same_parameters(*fc, positional);
  EXPECT_FALSE(fc->bias.defined());
  torch::manual_seed(7);
  torch::nn::Linear with_bias(torch::nn::LinearOptions(4, 3));
  torch::manual_seed(7);
  expect_same_parameters(*with_bias, nabla::nn::Linear(4, 3));
}

TEST(TorchCompatOptions, BatchNorm2dMomentumAndEps) {
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(3).momentum(0.2).eps(1e-3));
  EXPECT_DOUBLE_EQ(bn->momentum, 0.2);
  EXPECT_DOUBLE_EQ(bn->eps, 1e-3);
  nabla::nn::BatchNorm2d positional(3, 1e-3, 0.2);
  torch::manual_seed(8);
  const auto x = torch::randn({4, 3, 2, 2});
  EXPECT_EQ(values(bn(x)), values(positional.forward(x)));
  EXPECT_EQ(values(bn->running_mean), values(positional.running_mean));
  EXPECT_EQ(values(bn->running_var), values(positional.running_var));
}

TEST(TorchCompatOptions, BatchNorm1dWithoutAffineOrRunningStats) {
  torch::nn::BatchNorm1d bn(torch::nn::BatchNorm1dOptions(5).affine(false).track_running_stats(false));
  EXPECT_TRUE(bn->parameters().empty());
  EXPECT_FALSE(bn->running_mean.defined());
  const auto x = torch::randn({6, 5});
  EXPECT_EQ(values(bn(x)), values(nabla::nn::BatchNorm1d(5, 1e-5, 0.1, false, false).forward(x)));
}

TEST(TorchCompatOptions, DropoutFromOptions) {
  torch::nn::Dropout a(torch::nn::DropoutOptions(0.3));
  torch::nn::Dropout b(torch::nn::DropoutOptions().p(0.3));
  torch::nn::Dropout2d c(torch::nn::Dropout2dOptions(0.25).inplace(true));
  EXPECT_DOUBLE_EQ(a->p, 0.3);
  EXPECT_DOUBLE_EQ(b->p, 0.3);
  EXPECT_DOUBLE_EQ(c->p, 0.25);
  EXPECT_TRUE(c->inplace);
  const auto x = torch::ones({64});
  torch::manual_seed(9);
  const auto ya = a(x);
  torch::manual_seed(9);
  EXPECT_EQ(values(ya), values(nabla::nn::Dropout(0.3).forward(x)));
}

TEST(TorchCompatOptions, MaxPool2dAndAvgPool2d) {
  torch::nn::MaxPool2d maxpool(torch::nn::MaxPool2dOptions(2).stride(2));
  torch::nn::MaxPool2d maxpool_default(torch::nn::MaxPool2dOptions(3));  // stride = kernel
  torch::nn::AvgPool2d avgpool(
      torch::nn::AvgPool2dOptions({2, 2}).stride(1).padding(1).count_include_pad(false));
  EXPECT_EQ(maxpool_default->stride.h, 3);
  const auto x = torch::randn({1, 2, 6, 6});
  EXPECT_EQ(values(maxpool(x)), values(F::max_pool2d(x, 2, 2)));
  EXPECT_EQ(values(maxpool_default(x)), values(F::max_pool2d(x, 3)));
  EXPECT_EQ(values(avgpool(x)), values(F::avg_pool2d(x, 2, 1, 1, false, false)));
}

TEST(TorchCompatOptions, LSTMFromOptionsEqualsPositional) {
  torch::manual_seed(10);
  torch::nn::LSTM lstm(
      torch::nn::LSTMOptions(10, 20).num_layers(2).batch_first(true).dropout(0.1).bidirectional(true));
  torch::manual_seed(10);
  nabla::nn::RNNOptions o;
  o.num_layers = 2;
  o.batch_first = true;
  o.dropout = 0.1;
  o.bidirectional = true;
  nabla::nn::LSTM positional(10, 20, o);
  expect_same_parameters(*lstm, positional);
  EXPECT_EQ(lstm->options.num_layers, 2);
  EXPECT_TRUE(lstm->options.batch_first);
  lstm->eval();
  positional.eval();
  const auto x = torch::randn({3, 5, 10});
  const auto y = lstm->forward_with_state(x);
  EXPECT_EQ(y.output.sizes(), (torch::Shape{3, 5, 40}));
  EXPECT_EQ(values(y.output), values(positional.forward_with_state(x).output));
}

TEST(TorchCompatOptions, GRUFromOptionsEqualsPositional) {
  torch::manual_seed(11);
  torch::nn::GRU gru(torch::nn::GRUOptions(4, 6).num_layers(2).bias(false));
  torch::manual_seed(11);
  nabla::nn::RNNOptions o;
  o.num_layers = 2;
  o.bias = false;
  expect_same_parameters(*gru, nabla::nn::GRU(4, 6, o));
}

TEST(TorchCompatOptions, RNNNonlinearityReLU) {
  torch::manual_seed(12);
  torch::nn::RNN rnn(torch::nn::RNNOptions(3, 5).nonlinearity(torch::kReLU));
  EXPECT_EQ(rnn->options.nonlinearity, "relu");
  torch::manual_seed(12);
  nabla::nn::RNNOptions o;
  o.nonlinearity = "relu";
  nabla::nn::RNN positional(3, 5, o);
  expect_same_parameters(*rnn, positional);
  const auto x = torch::randn({4, 2, 3});
  EXPECT_EQ(values(rnn(x)), values(positional.forward(x)));
  EXPECT_EQ(torch::nn::RNNOptions(3, 5).nonlinearity(), "tanh");
  EXPECT_EQ(torch::nn::RNNOptions(3, 5).nonlinearity(torch::kTanh).nonlinearity(), "tanh");
}

TEST(TorchCompatOptions, RecurrentCellsFromOptions) {
  torch::manual_seed(13);
  torch::nn::RNNCell cell(torch::nn::RNNCellOptions(3, 4).bias(false).nonlinearity(torch::kReLU));
  torch::nn::LSTMCell lstm_cell(torch::nn::LSTMCellOptions(3, 4));
  torch::nn::GRUCell gru_cell(torch::nn::GRUCellOptions(3, 4).bias(false));
  torch::manual_seed(13);
  nabla::nn::RNNCell cell_p(3, 4, false, "relu");
  nabla::nn::LSTMCell lstm_p(3, 4);
  nabla::nn::GRUCell gru_p(3, 4, false);
  expect_same_parameters(*cell, cell_p);
  expect_same_parameters(*lstm_cell, lstm_p);
  expect_same_parameters(*gru_cell, gru_p);
  EXPECT_EQ(cell->nonlinearity, "relu");
}

TEST(TorchCompatOptions, EmbeddingPaddingIdx) {
  torch::manual_seed(14);
  torch::nn::Embedding emb(torch::nn::EmbeddingOptions(10, 3).padding_idx(0));
  torch::manual_seed(14);
  nabla::nn::Embedding positional(10, 3, 0);
  expect_same_parameters(*emb, positional);
  EXPECT_EQ(emb->padding_idx, 0);
  EXPECT_EQ(values(emb->weight.select(0, 0)), (std::vector<double>{0, 0, 0}));
}

TEST(TorchCompatOptions, LayerNormFlattenSoftmaxLogSoftmax) {
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({4}).eps(1e-3).elementwise_affine(false));
  EXPECT_DOUBLE_EQ(ln->eps, 1e-3);
  EXPECT_TRUE(ln->parameters().empty());
  torch::nn::Flatten flat(torch::nn::FlattenOptions().start_dim(0).end_dim(1));
  torch::nn::Softmax softmax(torch::nn::SoftmaxOptions(1));
  torch::nn::LogSoftmax log_softmax(torch::nn::LogSoftmaxOptions(1));
  const auto x = torch::randn({2, 3, 4});
  EXPECT_EQ(values(ln(x)), values(F::layer_norm(x, {4}, torch::Tensor(), torch::Tensor(), 1e-3)));
  EXPECT_EQ(flat(x).sizes(), (torch::Shape{6, 4}));
  EXPECT_EQ(values(softmax(x)), values(torch::softmax(x, 1)));
  EXPECT_EQ(values(log_softmax(x)), values(torch::log_softmax(x, 1)));
}

TEST(TorchCompatOptions, ActivationOptions) {
  torch::nn::ReLU relu(torch::nn::ReLUOptions().inplace(false));
  torch::nn::ELU elu(torch::nn::ELUOptions().alpha(0.5));
  torch::nn::Softplus softplus(torch::nn::SoftplusOptions().beta(2.0).threshold(10.0));
  const auto x = torch::tensor({-1.0, 0.5});
  EXPECT_EQ(values(relu(x)), (std::vector<double>{0.0, 0.5}));
  EXPECT_EQ(values(elu(x)), values(torch::elu(x, 0.5)));
  EXPECT_EQ(values(softplus(x)), values(torch::softplus(x, 2.0, 10.0)));
}

// ---- losses ------------------------------------------------------------------------------------

TEST(TorchCompatOptions, CrossEntropyLossOptions) {
  torch::nn::CrossEntropyLoss loss(
      torch::nn::CrossEntropyLossOptions().ignore_index(1).reduction(torch::kSum).label_smoothing(0.1));
  const auto logits = torch::randn({4, 3});
  const auto target = torch::tensor({0, 1, 2, 1});
  nabla::nn::functional::CrossEntropyOptions o;
  o.ignore_index = 1;
  o.reduction = torch::kSum;
  o.label_smoothing = 0.1;
  EXPECT_EQ(values(loss(logits, target)), values(nabla::nn::functional::cross_entropy(logits, target, o)));
  EXPECT_EQ(loss->options.ignore_index, 1);
  EXPECT_EQ(torch::nn::CrossEntropyLossOptions().ignore_index(), -100);  // libtorch's default
}

TEST(TorchCompatOptions, LossModuleOptions) {
  const auto x = torch::rand({6});
  const auto y = torch::rand({6});
  torch::nn::MSELoss mse(torch::nn::MSELossOptions(torch::kSum));
  torch::nn::NLLLoss nll(torch::nn::NLLLossOptions().reduction(torch::kNone));
  torch::nn::BCELoss bce(torch::nn::BCELossOptions().reduction(torch::kSum));
  torch::nn::BCEWithLogitsLoss bcel(torch::nn::BCEWithLogitsLossOptions().pos_weight(torch::full({6}, 2.0)));
  EXPECT_EQ(values(mse(x, y)), values(F::mse_loss(x, y, torch::kSum)));
  EXPECT_EQ(values(bce(x, y)), values(F::binary_cross_entropy(x, y, torch::Tensor(), torch::kSum)));
  EXPECT_EQ(values(bcel(x, y)),
            values(F::binary_cross_entropy_with_logits(x, y, torch::Tensor(), torch::full({6}, 2.0))));
  const auto logp = torch::log_softmax(torch::randn({3, 4}), 1);
  const auto t = torch::tensor({0, 3, 1});
  EXPECT_EQ(nll(logp, t).sizes(), (torch::Shape{3}));
  EXPECT_DOUBLE_EQ(nll(logp, t)[1].item<double>(), -logp[1][3].item<double>());
}

// ---- functional with FuncOptions ----------------------------------------------------------------

TEST(TorchCompatOptions, FunctionalLossesWithFuncOptions) {
  const auto logp = torch::log_softmax(torch::randn({5, 4}), 1);
  const auto target = torch::tensor({0, 1, 2, 3, 1});
  EXPECT_EQ(values(F::nll_loss(logp, target, F::NLLLossFuncOptions().reduction(torch::kSum))),
            values(F::nll_loss(logp, target, {torch::Tensor(), -100, torch::kSum})));
  EXPECT_EQ(values(F::cross_entropy(logp, target, F::CrossEntropyFuncOptions().ignore_index(2))),
            values(F::cross_entropy(logp, target, {torch::Tensor(), 2})));
  const auto x = torch::rand({4});
  const auto y = torch::rand({4});
  EXPECT_EQ(values(F::mse_loss(x, y, F::MSELossFuncOptions(torch::kSum))),
            values(F::mse_loss(x, y, torch::kSum)));
  EXPECT_EQ(values(F::l1_loss(x, y, F::L1LossFuncOptions().reduction(torch::kNone))),
            values(F::l1_loss(x, y, torch::kNone)));
  EXPECT_EQ(values(F::smooth_l1_loss(x, y, F::SmoothL1LossFuncOptions().beta(0.5))),
            values(F::smooth_l1_loss(x, y, torch::kMean, 0.5)));
  EXPECT_EQ(values(F::binary_cross_entropy(x, y, F::BinaryCrossEntropyFuncOptions().reduction(torch::kSum))),
            values(F::binary_cross_entropy(x, y, torch::Tensor(), torch::kSum)));
  EXPECT_EQ(values(F::binary_cross_entropy_with_logits(x, y, F::BinaryCrossEntropyWithLogitsFuncOptions())),
            values(F::binary_cross_entropy_with_logits(x, y)));
}

TEST(TorchCompatOptions, FunctionalLayersWithFuncOptions) {
  torch::manual_seed(15);
  const auto x = torch::randn({1, 2, 6, 6});
  const auto w = torch::randn({3, 2, 3, 3});
  const auto b = torch::randn({3});
  EXPECT_EQ(values(F::conv2d(x, w, F::Conv2dFuncOptions().stride(1).padding(1))),
            values(F::conv2d(x, w, torch::Tensor(), 1, 1)));
  EXPECT_EQ(values(F::conv2d(x, w, F::Conv2dFuncOptions().bias(b).stride(2).dilation(2))),
            values(F::conv2d(x, w, b, 2, 0, 2)));
  const auto wt = torch::randn({2, 3, 3, 3});
  EXPECT_EQ(values(F::conv_transpose2d(x, wt, F::ConvTranspose2dFuncOptions().stride(2).output_padding(1))),
            values(F::conv_transpose2d(x, wt, torch::Tensor(), 2, 0, 1)));
  EXPECT_EQ(values(F::max_pool2d(x, F::MaxPool2dFuncOptions(2))), values(F::max_pool2d(x, 2)));
  EXPECT_EQ(values(F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1))), values(F::avg_pool2d(x, 3, 1)));
  EXPECT_EQ(values(F::leaky_relu(x, F::LeakyReLUFuncOptions().negative_slope(0.2))),
            values(torch::leaky_relu(x, 0.2)));
  EXPECT_EQ(values(F::log_softmax(x, F::LogSoftmaxFuncOptions(1))), values(torch::log_softmax(x, 1)));
  EXPECT_EQ(values(F::softmax(x, F::SoftmaxFuncOptions(-1).dtype(torch::kFloat64))),
            values(torch::softmax(x.to(torch::kFloat64), -1)));
  EXPECT_EQ(F::log_softmax(x, F::LogSoftmaxFuncOptions(1).dtype(torch::kFloat64)).dtype(), torch::kFloat64);
  const auto rm = torch::zeros({2});
  const auto rv = torch::ones({2});
  EXPECT_EQ(values(F::batch_norm(x, rm, rv, F::BatchNormFuncOptions().eps(1e-3))),
            values(F::batch_norm(x, rm, rv, torch::Tensor(), torch::Tensor(), false, 0.1, 1e-3)));
  EXPECT_EQ(values(F::layer_norm(x, F::LayerNormFuncOptions({6}).eps(1e-3))),
            values(F::layer_norm(x, {6}, torch::Tensor(), torch::Tensor(), 1e-3)));
}

// A module using F::dropout with libtorch's training flag idiom.
struct DropNetImpl : torch::nn::Module {
  torch::Tensor forward(torch::Tensor x) {
    return F::dropout(x, F::DropoutFuncOptions().p(0.5).training(is_training()));
  }
};
TORCH_MODULE(DropNet);

TEST(TorchCompatOptions, FunctionalDropoutFollowsTraining) {
  DropNet net;
  const auto x = torch::ones({100});
  torch::manual_seed(16);
  const auto y = net(x);
  torch::manual_seed(16);
  EXPECT_EQ(values(y), values(F::dropout(x, 0.5, true)));
  int zeros = 0;
  for (double v : values(y)) zeros += v == 0.0 ? 1 : 0;
  EXPECT_GT(zeros, 20);
  net->eval();
  EXPECT_EQ(values(net(x)), values(x));
}

// `namespace F = torch::nn::functional;` still reaches nabla's own functional ops.
TEST(TorchCompatOptions, FunctionalNamespaceKeepsNablasOps) {
  const auto x = torch::tensor({-1.0, 2.0});
  EXPECT_EQ(values(F::relu(x)), (std::vector<double>{0.0, 2.0}));
  EXPECT_EQ(values(F::relu(x, F::ReLUFuncOptions())), (std::vector<double>{0.0, 2.0}));
  EXPECT_EQ(values(F::leaky_relu(x, 0.5)), (std::vector<double>{-0.5, 2.0}));
  EXPECT_EQ(values(F::log_softmax(x, 0)), values(torch::log_softmax(x, 0)));
  EXPECT_EQ(values(F::linear(x.view({1, 2}), torch::eye(2))), values(x));
  EXPECT_EQ(values(F::elu(x)), values(torch::elu(x)));
  EXPECT_EQ(values(F::mse_loss(x, x)), (std::vector<double>{0.0}));
  EXPECT_EQ(F::dropout(x, 0.0).sizes(), x.sizes());
}

// ---- optimizers ----------------------------------------------------------------------------------

// Trains two copies of one linear model a few steps, one with each optimizer; returns the weights
// of both.
template <class MakeA, class MakeB>
void expect_same_steps(MakeA make_a, MakeB make_b) {
  torch::manual_seed(17);
  torch::nn::Linear a(3, 2);
  torch::manual_seed(17);
  torch::nn::Linear b(3, 2);
  auto opt_a = make_a(a->parameters());
  auto opt_b = make_b(b->parameters());
  const auto x = torch::randn({5, 3});
  const auto y = torch::randn({5, 2});
  for (int i = 0; i < 4; ++i) {
    opt_a->zero_grad();
    F::mse_loss(a(x), y).backward();
    opt_a->step();
    opt_b->zero_grad();
    F::mse_loss(b(x), y).backward();
    opt_b->step();
  }
  expect_same_parameters(*a, *b);
  torch::manual_seed(17);
  EXPECT_NE(values(a->weight), values(torch::nn::Linear(3, 2)->weight));  // it did train
}

TEST(TorchCompatOptions, AdamFromBuilderStepsAsNablasOptions) {
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::Adam>(
            p, torch::optim::AdamOptions(2e-2).betas({0.5, 0.999}).weight_decay(1e-2).amsgrad(true));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::AdamOptions o;
        o.lr = 2e-2;
        o.beta1 = 0.5;
        o.weight_decay = 1e-2;
        o.amsgrad = true;
        return std::make_unique<nabla::optim::Adam>(p, o);
      });
  auto opts = torch::optim::AdamOptions(2e-4).betas(std::make_tuple(0.5, 0.9)).eps(1e-6);
  EXPECT_DOUBLE_EQ(opts.lr(), 2e-4);
  EXPECT_DOUBLE_EQ(std::get<0>(opts.betas()), 0.5);
  EXPECT_DOUBLE_EQ(std::get<1>(opts.betas()), 0.9);
  EXPECT_DOUBLE_EQ(opts.eps(), 1e-6);
  EXPECT_DOUBLE_EQ(torch::optim::AdamOptions().lr(), 1e-3);
}

TEST(TorchCompatOptions, SGDFromBuilderAndFromLearningRate) {
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::SGD>(
            p, torch::optim::SGDOptions(0.01).momentum(0.5).nesterov(true).weight_decay(1e-3));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::SGDOptions o;
        o.lr = 0.01;
        o.momentum = 0.5;
        o.nesterov = true;
        o.weight_decay = 1e-3;
        return std::make_unique<nabla::optim::SGD>(p, o);
      });
  expect_same_steps(
      [](std::vector<torch::Tensor> p) { return std::make_unique<torch::optim::SGD>(p, /*lr=*/0.05); },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::SGDOptions o;
        o.lr = 0.05;
        return std::make_unique<nabla::optim::SGD>(p, o);
      });
  auto opts = torch::optim::SGDOptions(0.1).dampening(0.2);
  opts.lr() = 0.3;  // libtorch's non-const getter returns a reference
  EXPECT_DOUBLE_EQ(opts.lr(), 0.3);
  EXPECT_DOUBLE_EQ(opts.dampening(), 0.2);
  EXPECT_FALSE(opts.nesterov());
}

TEST(TorchCompatOptions, OtherOptimizersFromBuilders) {
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::AdamW>(p, torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::AdamWOptions o;
        o.lr = 1e-2;
        o.weight_decay = 0.1;
        return std::make_unique<nabla::optim::AdamW>(p, o);
      });
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::RMSprop>(
            p, torch::optim::RMSpropOptions(1e-2).alpha(0.9).momentum(0.1).centered(true));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::RMSpropOptions o;
        o.alpha = 0.9;
        o.momentum = 0.1;
        o.centered = true;
        return std::make_unique<nabla::optim::RMSprop>(p, o);
      });
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::Adagrad>(p, torch::optim::AdagradOptions(0.1).lr_decay(0.01));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::AdagradOptions o;
        o.lr = 0.1;
        o.lr_decay = 0.01;
        return std::make_unique<nabla::optim::Adagrad>(p, o);
      });
  expect_same_steps(
      [](std::vector<torch::Tensor> p) {
        return std::make_unique<torch::optim::Adadelta>(p, torch::optim::AdadeltaOptions(0.5).rho(0.8));
      },
      [](std::vector<torch::Tensor> p) {
        nabla::optim::AdadeltaOptions o;
        o.lr = 0.5;
        o.rho = 0.8;
        return std::make_unique<nabla::optim::Adadelta>(p, o);
      });
  EXPECT_DOUBLE_EQ(torch::optim::AdamWOptions().weight_decay(), 1e-2);  // libtorch's defaults
  EXPECT_DOUBLE_EQ(torch::optim::RMSpropOptions().lr(), 1e-2);
  EXPECT_DOUBLE_EQ(torch::optim::AdagradOptions().eps(), 1e-10);
}

// libtorch's optimizer defaults are nabla's (SGDOptions has none: libtorch requires the lr).
TEST(TorchCompatOptions, OptimizerDefaultsAgreeWithNablas) {
  auto map_of = [](const auto& nabla_options) { return nabla_options.to_map(); };
  EXPECT_EQ(map_of(nabla::optim::AdamOptions(torch::optim::AdamOptions())),
            map_of(nabla::optim::AdamOptions{}));
  EXPECT_EQ(map_of(nabla::optim::AdamWOptions(torch::optim::AdamWOptions())),
            map_of(nabla::optim::AdamWOptions{}));
  EXPECT_EQ(map_of(nabla::optim::RMSpropOptions(torch::optim::RMSpropOptions())),
            map_of(nabla::optim::RMSpropOptions{}));
  EXPECT_EQ(map_of(nabla::optim::AdagradOptions(torch::optim::AdagradOptions())),
            map_of(nabla::optim::AdagradOptions{}));
  EXPECT_EQ(map_of(nabla::optim::AdadeltaOptions(torch::optim::AdadeltaOptions())),
            map_of(nabla::optim::AdadeltaOptions{}));
  EXPECT_EQ(map_of(nabla::optim::LBFGSOptions(torch::optim::LBFGSOptions())),
            map_of(nabla::optim::LBFGSOptions{}));
  nabla::optim::SGDOptions sgd_defaults;
  sgd_defaults.lr = 0.1;
  EXPECT_EQ(map_of(nabla::optim::SGDOptions(torch::optim::SGDOptions(0.1))), map_of(sgd_defaults));
}

TEST(TorchCompatOptions, LBFGSFromBuilder) {
  auto run = [](auto make) {
    torch::manual_seed(18);
    torch::nn::Linear fc(3, 1);
    const auto x = torch::randn({8, 3});
    const auto y = torch::randn({8, 1});
    auto opt = make(fc->parameters());
    opt->step([&] {
      opt->zero_grad();
      auto loss = F::mse_loss(fc(x), y);
      loss.backward();
      return loss;
    });
    return values(fc->weight);
  };
  const auto a = run([](std::vector<torch::Tensor> p) {
    return std::make_unique<torch::optim::LBFGS>(
        p, torch::optim::LBFGSOptions(0.5).max_iter(5).history_size(3).line_search_fn("strong_wolfe"));
  });
  const auto b = run([](std::vector<torch::Tensor> p) {
    nabla::optim::LBFGSOptions o;
    o.lr = 0.5;
    o.max_iter = 5;
    o.history_size = 3;
    o.line_search_fn = "strong_wolfe";
    return std::make_unique<nabla::optim::LBFGS>(p, o);
  });
  EXPECT_EQ(a, b);
  EXPECT_EQ(torch::optim::LBFGSOptions().max_iter(), 20);
}

// Declaring torch::optim's builders leaves the rest of nabla::optim reachable under torch::optim.
TEST(TorchCompatOptions, OptimNamespaceKeepsNablasNames) {
  torch::nn::Linear fc(2, 1);
  torch::optim::SGD sgd(fc->parameters(), torch::optim::SGDOptions(0.4));
  torch::optim::Optimizer& base = sgd;
  torch::optim::StepLR scheduler(base, /*step_size=*/1, /*gamma=*/0.5);
  scheduler.step();
  EXPECT_DOUBLE_EQ(base.get_lr(), 0.2);
  EXPECT_EQ(base.name(), "SGD");
}

// A DCGAN-style stack from builders, as libtorch's DCGAN example writes it.
TEST(TorchCompatOptions, SequentialOfBuiltLayers) {
  torch::manual_seed(19);
  torch::nn::Sequential discriminator(
      torch::nn::Conv2d(torch::nn::Conv2dOptions(1, 4, 4).stride(2).padding(1).bias(false)),
      torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(4, 8, 4).stride(2).padding(1).bias(false)),
      torch::nn::BatchNorm2d(8), torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions().negative_slope(0.2)),
      torch::nn::Conv2d(torch::nn::Conv2dOptions(8, 1, 2).stride(1).padding(0).bias(false)),
      torch::nn::Sigmoid());
  const auto x = torch::randn({2, 1, 8, 8});
  const auto y = discriminator->forward(x);
  EXPECT_EQ(y.sizes(), (torch::Shape{2, 1, 1, 1}));
  EXPECT_EQ(discriminator->named_parameters().size(), 5u);  // three weights, batch norm's two
}

// ---- getters and validation ----------------------------------------------------------------------

TEST(TorchCompatOptions, GettersReturnWhatWasSet) {
  auto conv = torch::nn::Conv2dOptions(1, 64, 4).stride({2, 3}).padding(1).bias(false);
  EXPECT_EQ(conv.in_channels(), 1);
  EXPECT_EQ(conv.out_channels(), 64);
  EXPECT_EQ(conv.kernel_size().h, 4);
  EXPECT_EQ(conv.stride().w, 3);
  EXPECT_EQ(conv.padding().h, 1);
  EXPECT_FALSE(conv.bias());
  EXPECT_EQ(conv.groups(), 1);  // libtorch's default
  const auto lstm = torch::nn::LSTMOptions(10, 20).num_layers(2).bidirectional(true);
  EXPECT_EQ(lstm.num_layers(), 2);
  EXPECT_TRUE(lstm.bidirectional());
  EXPECT_FALSE(lstm.batch_first());
  EXPECT_EQ(torch::nn::EmbeddingOptions(10, 3).padding_idx(0).padding_idx(), 0);
  EXPECT_FALSE(torch::nn::EmbeddingOptions(10, 3).padding_idx().has_value());
  EXPECT_EQ(torch::nn::BatchNorm2dOptions(64).momentum(), 0.1);
  EXPECT_EQ(torch::nn::LayerNormOptions({4, 5}).normalized_shape(), (std::vector<int64_t>{4, 5}));
  EXPECT_EQ(torch::nn::MSELossOptions(torch::kSum).reduction(), torch::kSum);
  EXPECT_EQ(torch::nn::NLLLossOptions().reduction(), torch::kMean);
  EXPECT_DOUBLE_EQ(F::DropoutFuncOptions().p(), 0.5);
  EXPECT_TRUE(F::DropoutFuncOptions().training());
}

// The builders' defaults are those of nabla's positional constructors (both are libtorch's).
TEST(TorchCompatOptions, DefaultsAgreeWithPositional) {
  auto same_size = [](nabla::nn::Size2 a, nabla::nn::Size2 b) { return a.h == b.h && a.w == b.w; };
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(2, 4, 3));
  nabla::nn::Conv2d conv_p(2, 4, 3);
  EXPECT_TRUE(same_size(conv->stride, conv_p.stride) && same_size(conv->padding, conv_p.padding) &&
              same_size(conv->dilation, conv_p.dilation));
  EXPECT_EQ(conv->groups, conv_p.groups);
  EXPECT_EQ(conv->bias.defined(), conv_p.bias.defined());
  torch::nn::ConvTranspose2d deconv(torch::nn::ConvTranspose2dOptions(2, 4, 3));
  nabla::nn::ConvTranspose2d deconv_p(2, 4, 3);
  EXPECT_TRUE(same_size(deconv->stride, deconv_p.stride) && same_size(deconv->padding, deconv_p.padding) &&
              same_size(deconv->output_padding, deconv_p.output_padding) &&
              same_size(deconv->dilation, deconv_p.dilation));
  EXPECT_EQ(deconv->groups, deconv_p.groups);
  EXPECT_EQ(deconv->bias.defined(), deconv_p.bias.defined());
  torch::nn::MaxPool2d maxpool(torch::nn::MaxPool2dOptions(3));
  nabla::nn::MaxPool2d maxpool_p(3);
  EXPECT_TRUE(same_size(maxpool->stride, maxpool_p.stride) &&
              same_size(maxpool->padding, maxpool_p.padding) &&
              same_size(maxpool->dilation, maxpool_p.dilation));
  EXPECT_EQ(maxpool->ceil_mode, maxpool_p.ceil_mode);
  torch::nn::AvgPool2d avgpool(torch::nn::AvgPool2dOptions(3));
  nabla::nn::AvgPool2d avgpool_p(3);
  EXPECT_TRUE(same_size(avgpool->stride, avgpool_p.stride) && same_size(avgpool->padding, avgpool_p.padding));
  EXPECT_EQ(avgpool->ceil_mode, avgpool_p.ceil_mode);
  EXPECT_EQ(avgpool->count_include_pad, avgpool_p.count_include_pad);
  torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(3));
  nabla::nn::BatchNorm2d bn_p(3);
  EXPECT_EQ(bn->eps, bn_p.eps);
  EXPECT_EQ(bn->momentum, bn_p.momentum);
  EXPECT_EQ(bn->affine, bn_p.affine);
  EXPECT_EQ(bn->track_running_stats, bn_p.track_running_stats);
  torch::nn::LayerNorm ln(torch::nn::LayerNormOptions({3}));
  nabla::nn::LayerNorm ln_p({3});
  EXPECT_EQ(ln->eps, ln_p.eps);
  EXPECT_EQ(ln->elementwise_affine, ln_p.elementwise_affine);
  torch::nn::Dropout drop(torch::nn::DropoutOptions{});
  nabla::nn::Dropout drop_p;
  EXPECT_EQ(drop->p, drop_p.p);
  EXPECT_EQ(drop->inplace, drop_p.inplace);
  EXPECT_EQ(torch::nn::LeakyReLU(torch::nn::LeakyReLUOptions())->negative_slope,
            nabla::nn::LeakyReLU().negative_slope);
  EXPECT_EQ(torch::nn::Flatten(torch::nn::FlattenOptions())->start_dim, nabla::nn::Flatten().start_dim);
  EXPECT_EQ(torch::nn::Flatten(torch::nn::FlattenOptions())->end_dim, nabla::nn::Flatten().end_dim);
  EXPECT_EQ(torch::nn::ELU(torch::nn::ELUOptions())->alpha, nabla::nn::ELU().alpha);
  EXPECT_EQ(torch::nn::Softplus(torch::nn::SoftplusOptions())->beta, nabla::nn::Softplus().beta);
  EXPECT_EQ(torch::nn::Softplus(torch::nn::SoftplusOptions())->threshold, nabla::nn::Softplus().threshold);
  for (const auto& [built, positional] :
       {std::pair{torch::nn::LSTM(torch::nn::LSTMOptions(2, 3))->options, nabla::nn::LSTM(2, 3).options},
        std::pair{torch::nn::GRU(torch::nn::GRUOptions(2, 3))->options, nabla::nn::GRU(2, 3).options},
        std::pair{torch::nn::RNN(torch::nn::RNNOptions(2, 3))->options, nabla::nn::RNN(2, 3).options}}) {
    EXPECT_EQ(built.num_layers, positional.num_layers);
    EXPECT_EQ(built.bias, positional.bias);
    EXPECT_EQ(built.batch_first, positional.batch_first);
    EXPECT_EQ(built.dropout, positional.dropout);
    EXPECT_EQ(built.bidirectional, positional.bidirectional);
    EXPECT_EQ(built.nonlinearity, positional.nonlinearity);
  }
  EXPECT_EQ(torch::nn::Embedding(torch::nn::EmbeddingOptions(4, 2))->padding_idx,
            nabla::nn::Embedding(4, 2).padding_idx);
  EXPECT_EQ(torch::nn::MSELoss(torch::nn::MSELossOptions())->reduction, nabla::nn::MSELoss().reduction);
  EXPECT_EQ(torch::nn::SmoothL1Loss(torch::nn::SmoothL1LossOptions())->beta, nabla::nn::SmoothL1Loss().beta);
  EXPECT_EQ(torch::nn::HingeEmbeddingLoss(torch::nn::HingeEmbeddingLossOptions())->margin,
            nabla::nn::HingeEmbeddingLoss().margin);
  EXPECT_EQ(torch::nn::MultiMarginLoss(torch::nn::MultiMarginLossOptions())->p,
            nabla::nn::MultiMarginLoss().p);
  const nabla::nn::functional::CrossEntropyOptions ce = torch::nn::CrossEntropyLossOptions();
  EXPECT_EQ(ce.ignore_index, nabla::nn::functional::CrossEntropyOptions{}.ignore_index);
  EXPECT_EQ(ce.label_smoothing, nabla::nn::functional::CrossEntropyOptions{}.label_smoothing);
  EXPECT_EQ(ce.reduction, nabla::nn::functional::CrossEntropyOptions{}.reduction);
}

TEST(TorchCompatOptions, BadOptionsThrowNamingTheLayer) {
  expect_error([] { torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 4, 3).groups(2)); },
               {"Conv2d", "divisible by groups (2)"});
  expect_error([] { torch::nn::ConvTranspose2d(torch::nn::ConvTranspose2dOptions(4, 4, 0)); },
               {"ConvTranspose2d", "kernel_size"});
  expect_error([] { torch::nn::Linear(torch::nn::LinearOptions(-1, 3)); }, {"Linear", "in=-1"});
  expect_error([] { torch::nn::Dropout(torch::nn::DropoutOptions(1.5)); }, {"Dropout", "1.5"});
  expect_error([] { torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(0)); }, {"BatchNorm2d", "got 0"});
  expect_error([] { torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(4).momentum(std::nullopt)); },
               {"BatchNorm2d", "momentum"});
  expect_error([] { torch::nn::LSTM(torch::nn::LSTMOptions(3, 4).num_layers(0)); },
               {"LSTM", "num_layers", "0"});
  expect_error([] { torch::nn::LSTM(torch::nn::LSTMOptions(3, 4).proj_size(2)); }, {"LSTM", "proj_size (2)"});
  expect_error([] { torch::nn::GRU(torch::nn::GRUOptions(3, 4).dropout(2.0)); }, {"GRU", "dropout", "2"});
  expect_error([] { torch::nn::RNN(torch::nn::RNNOptions(3, 4).nonlinearity("sigmoid")); },
               {"RNN", "sigmoid"});
  expect_error([] { torch::nn::Embedding(torch::nn::EmbeddingOptions(5, 2).padding_idx(7)); },
               {"Embedding", "padding_idx 7"});
  expect_error([] { torch::nn::Embedding(torch::nn::EmbeddingOptions(5, 2).max_norm(1.0)); },
               {"Embedding", "max_norm"});
  expect_error([] { torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(2).divisor_override(3)); },
               {"AvgPool2d", "divisor_override (3)"});
  expect_error([] { torch::nn::MultiMarginLoss(torch::nn::MultiMarginLossOptions().p(3)); },
               {"MultiMarginLoss", "got 3"});
  expect_error([] { torch::nn::LayerNorm(torch::nn::LayerNormOptions(std::vector<int64_t>{})); },
               {"LayerNorm", "normalized_shape"});
}

TEST(TorchCompatOptions, BadOptimizerOptionsThrow) {
  torch::nn::Linear fc(2, 2);
  expect_error([&] { torch::optim::Adam(fc->parameters(), torch::optim::AdamOptions(-1.0)); },
               {"Adam", "learning rate -1"});
  expect_error(
      [&] {
        torch::optim::Adam(fc->parameters(), torch::optim::AdamOptions().betas({0.9, 1.5}));
      },
      {"Adam", "1.5"});
  expect_error([&] { torch::optim::SGD(fc->parameters(), torch::optim::SGDOptions(0.1).nesterov(true)); },
               {"SGD", "Nesterov"});
  expect_error([&] { torch::optim::LBFGS(fc->parameters(), torch::optim::LBFGSOptions(-1.0)); },
               {"LBFGS", "learning rate -1"});
  expect_error(
      [&] {
        torch::optim::LBFGS(fc->parameters(), torch::optim::LBFGSOptions().line_search_fn("backtracking"));
      },
      {"LBFGS", "backtracking"});
}

}  // namespace

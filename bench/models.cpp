// Definitions of the classic models of nabla-bench and nabla-parity (see models.h).
#include "models.h"

#include <fmt/ranges.h>

#include <cmath>

namespace nabla::bench {
namespace {

namespace nn = nabla::nn;
namespace F = nn::functional;
using Layers = std::initializer_list<std::shared_ptr<nn::Module>>;

testing::ParityModel classifier(bool cnn, const testing::Target& t) {
  std::shared_ptr<nn::Sequential> model;
  if (cnn) {
    model = std::make_shared<nn::Sequential>(
        Layers{std::make_shared<nn::Conv2d>(1, 32, 3), std::make_shared<nn::ReLU>(),
               std::make_shared<nn::MaxPool2d>(2), std::make_shared<nn::Conv2d>(32, 64, 3),
               std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
               std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(1600, 128),
               std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10)});
  } else {
    model = std::make_shared<nn::Sequential>(
        Layers{std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 128),
               std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10)});
  }
  model->to(t.dtype);
  model->to(t.device);
  auto opt = std::make_shared<optim::Adam>(model->parameters(), optim::AdamOptions{});
  testing::ParityModel m;
  m.modules = {{"", model}};
  m.step = [model, opt](const std::vector<Tensor>& b) {
    opt->zero_grad();
    F::cross_entropy((*model)(b[0]), b[1]).backward();
    opt->step();
  };
  return m;
}

testing::ParityModel dcgan32(const testing::Target& t) {
  auto g = std::make_shared<nn::Sequential>(
      Layers{std::make_shared<nn::ConvTranspose2d>(100, 256, 4, 1, 0, 0, 1, /*bias=*/false),
             std::make_shared<nn::BatchNorm2d>(256), std::make_shared<nn::ReLU>(),
             std::make_shared<nn::ConvTranspose2d>(256, 128, 4, 2, 1, 0, 1, /*bias=*/false),
             std::make_shared<nn::BatchNorm2d>(128), std::make_shared<nn::ReLU>(),
             std::make_shared<nn::ConvTranspose2d>(128, 64, 4, 2, 1, 0, 1, /*bias=*/false),
             std::make_shared<nn::BatchNorm2d>(64), std::make_shared<nn::ReLU>(),
             std::make_shared<nn::ConvTranspose2d>(64, 3, 4, 2, 1, 0, 1, /*bias=*/false),
             std::make_shared<nn::Tanh>()});
  auto d = std::make_shared<nn::Sequential>(Layers{
      std::make_shared<nn::Conv2d>(3, 64, 4, 2, 1, 1, 1, /*bias=*/false),
      std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(64, 128, 4, 2, 1, 1, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(128), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(128, 256, 4, 2, 1, 1, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(256), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(256, 1, 4, 1, 0, 1, 1, /*bias=*/false), std::make_shared<nn::Sigmoid>()});
  for (auto* net : {g.get(), d.get()}) {
    net->to(t.dtype);
    net->to(t.device);
  }
  optim::AdamOptions ao;
  ao.lr = 2e-4;
  ao.beta1 = 0.5;
  auto opt_g = std::make_shared<optim::Adam>(g->parameters(), ao);
  auto opt_d = std::make_shared<optim::Adam>(d->parameters(), ao);
  testing::ParityModel m;
  m.modules = {{"generator", g}, {"discriminator", d}};
  m.step = [g, d, opt_g, opt_d](const std::vector<Tensor>& b) {
    const Tensor& real = b[0];
    const TensorOptions o = TensorOptions(real.dtype()).device(real.device());
    const Tensor ones = nabla::ones({real.size(0)}, o), zeros = nabla::zeros({real.size(0)}, o);
    const Tensor fake = (*g)(b[1]);
    opt_d->zero_grad();
    (F::binary_cross_entropy((*d)(real).view({-1}), ones) +
     F::binary_cross_entropy((*d)(fake.detach()).view({-1}), zeros))
        .backward();
    opt_d->step();
    opt_g->zero_grad();
    F::binary_cross_entropy((*d)(fake).view({-1}), ones).backward();
    opt_g->step();
  };
  return m;
}

// The seed_lstm example's model: LSTM(3 -> 50, batch_first) over 10 steps, Dense(50 -> 3) on the
// last step's output (for one layer, the final hidden state), cross-entropy, Adam(1e-3).
testing::ParityModel seed_lstm(const testing::Target& t) {
  nn::RNNOptions ro;
  ro.batch_first = true;
  auto lstm = std::make_shared<nn::LSTM>(3, 50, ro);
  auto dense = std::make_shared<nn::Linear>(50, 3);
  for (nn::Module* m : {static_cast<nn::Module*>(lstm.get()), static_cast<nn::Module*>(dense.get())}) {
    m->to(t.dtype);
    m->to(t.device);
  }
  std::vector<Tensor> params = lstm->parameters();
  for (const Tensor& p : dense->parameters()) params.push_back(p);
  auto opt = std::make_shared<optim::Adam>(params, optim::AdamOptions{});
  testing::ParityModel m;
  m.modules = {{"lstm", lstm}, {"dense", dense}};
  m.step = [lstm, dense, opt](const std::vector<Tensor>& b) {
    opt->zero_grad();
    F::cross_entropy((*dense)((*lstm)(b[0]).select(1, -1)), b[1]).backward();
    opt->step();
  };
  return m;
}

// The GPU comparison of issue 6: LSTM(512 -> 512, 2 layers) over 100 steps at batch 64,
// forward + backward of sum(output) (no optimizer), as the whole-sequence op (cells = false) or
// as a hand-written loop of LSTMCell steps (cells = true), the same weights' shapes.
testing::ParityModel lstm_large(bool cells, const testing::Target& t) {
  constexpr int64_t kHidden = 512, kLayers = 2;
  testing::ParityModel m;
  if (!cells) {
    nn::RNNOptions ro;
    ro.num_layers = kLayers;
    auto lstm = std::make_shared<nn::LSTM>(kHidden, kHidden, ro);
    lstm->to(t.dtype);
    lstm->to(t.device);
    m.modules = {{"lstm", lstm}};
    m.step = [lstm](const std::vector<Tensor>& b) {
      lstm->zero_grad();
      (*lstm)(b[0]).sum().backward();
    };
    return m;
  }
  std::vector<std::shared_ptr<nn::LSTMCell>> layers;
  for (int64_t l = 0; l < kLayers; ++l) {
    layers.push_back(std::make_shared<nn::LSTMCell>(kHidden, kHidden));
    layers.back()->to(t.dtype);
    layers.back()->to(t.device);
    m.modules.emplace_back(fmt::format("cell{}", l), layers.back());
  }
  m.step = [layers](const std::vector<Tensor>& b) {
    for (const auto& c : layers) c->zero_grad();
    Tensor seq = b[0];  // [T, N, H]
    for (const auto& cell : layers) {
      Tensor h, c;
      std::vector<Tensor> outs;
      for (int64_t step = 0; step < seq.size(0); ++step) {
        std::tie(h, c) = cell->step(seq.select(0, step), h, c);
        outs.push_back(h);
      }
      seq = stack(outs, 0);
    }
    seq.sum().backward();
  };
  return m;
}

}  // namespace

const std::vector<std::string>& model_names() {
  static const std::vector<std::string> names{"mlp", "cnn", "lstm", "dcgan32"};
  return names;
}

bool is_model(const std::string& name) {
  for (const std::string& n : model_names()) {
    if (n == name) return true;
  }
  return name == "lstm512" || name == "lstm512_cells";
}

int64_t default_batch(const std::string& name, Device device) {
  if (name == "dcgan32") return device.is_cuda() ? 128 : 16;
  if (name == "lstm") return 10;
  return 64;  // mlp, cnn, lstm512, lstm512_cells
}

testing::ParityModel make_model(const std::string& name, const testing::Target& target) {
  if (name == "mlp" || name == "cnn") return classifier(name == "cnn", target);
  if (name == "dcgan32") return dcgan32(target);
  if (name == "lstm") return seed_lstm(target);
  if (name == "lstm512" || name == "lstm512_cells") return lstm_large(name == "lstm512_cells", target);
  NABLA_FAIL("unknown model '{}' (expected one of: {})", name, fmt::join(model_names(), ", "));
}

std::vector<Tensor> make_batch(const std::string& name, int64_t batch, uint64_t seed) {
  Generator gen(seed);
  if (name == "mlp" || name == "cnn") {
    return {rand({batch, 1, 28, 28}, gen), (rand({batch}, gen) * 10.0).to(kInt64)};
  }
  if (name == "lstm512" || name == "lstm512_cells") return {rand({100, batch, 512}, gen) * 2.0 - 1.0};
  if (name == "lstm") {
    // sequences of 10 steps x 3 features and one of 3 classes each
    const Tensor u1 = rand({batch, 10, 3}, gen).clamp(1e-7, 1.0), u2 = rand({batch, 10, 3}, gen);
    return {(u1.log() * -2.0).sqrt() * (u2 * (2.0 * M_PI)).cos(), (rand({batch}, gen) * 3.0).to(kInt64)};
  }
  if (name == "dcgan32") {
    // noise as N(0, 1) by Box-Muller from two uniform draws of the generator
    const Tensor u1 = rand({batch, 100, 1, 1}, gen).clamp(1e-7, 1.0), u2 = rand({batch, 100, 1, 1}, gen);
    return {rand({batch, 3, 32, 32}, gen) * 2.0 - 1.0, (u1.log() * -2.0).sqrt() * (u2 * (2.0 * M_PI)).cos()};
  }
  NABLA_FAIL("unknown model '{}' (expected one of: {})", name, fmt::join(model_names(), ", "));
}

}  // namespace nabla::bench

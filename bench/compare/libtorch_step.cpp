// libtorch-step: the libtorch C++ side of `nabla-bench models` (bench/models.h): the same four
// models (mlp, cnn, lstm, dcgan32), layers, sizes, batches, losses, optimizers and timing
// protocol (median of 5 rounds of --steps steps after --warmup), with no Python in the loop.
//
//   libtorch-step --model mlp|cnn|lstm|dcgan32 [--batch N] [--steps N] [--warmup N] [--threads N]
//
// Prints one JSON line with ms_per_step, as `nabla-bench models --json` and model_step.py do.
// Not part of nabla's build (libtorch's headers take about a minute to compile): compare.py
// compiles it on demand into build/bench/libtorch-step, or by hand:
//   g++ -std=c++17 -O2 -D_GLIBCXX_USE_CXX11_ABI=1 -I/usr/include/torch/csrc/api/include \
//       bench/compare/libtorch_step.cpp -o libtorch-step -ltorch -ltorch_cpu -lc10
#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;
using Step = std::function<void()>;

// zero_grad(set_to_none=True), as nabla's Optimizer::zero_grad and model_step.py do
// (libtorch 1.13's Optimizer::zero_grad zeroes the gradients instead).
void clear_grads(torch::optim::Optimizer& opt) {
  for (auto& group : opt.param_groups()) {
    for (auto& p : group.params()) p.mutable_grad() = torch::Tensor();
  }
}

Step classifier(bool cnn, int64_t batch) {
  nn::Sequential model;
  if (cnn) {
    model = nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 32, 3)), nn::ReLU(), nn::MaxPool2d(2),
                           nn::Conv2d(nn::Conv2dOptions(32, 64, 3)), nn::ReLU(), nn::MaxPool2d(2),
                           nn::Flatten(), nn::Linear(1600, 128), nn::ReLU(), nn::Linear(128, 10));
  } else {
    model = nn::Sequential(nn::Flatten(), nn::Linear(784, 128), nn::ReLU(), nn::Linear(128, 10));
  }
  auto opt = std::make_shared<torch::optim::Adam>(model->parameters(), torch::optim::AdamOptions(1e-3));
  const torch::Tensor x = torch::rand({batch, 1, 28, 28}), y = torch::randint(0, 10, {batch});
  return [model, opt, x, y]() mutable {
    clear_grads(*opt);
    F::cross_entropy(model->forward(x), y).backward();
    opt->step();
  };
}

Step seed_lstm(int64_t batch) {
  nn::LSTM lstm(nn::LSTMOptions(3, 50).batch_first(true));
  nn::Linear dense(50, 3);
  std::vector<torch::Tensor> params = lstm->parameters();
  for (const torch::Tensor& p : dense->parameters()) params.push_back(p);
  auto opt = std::make_shared<torch::optim::Adam>(params, torch::optim::AdamOptions(1e-3));
  const torch::Tensor x = torch::randn({batch, 10, 3}), y = torch::randint(0, 3, {batch});
  return [lstm, dense, opt, x, y]() mutable {
    clear_grads(*opt);
    // the last step's output of a one-layer LSTM, as nabla's select(1, -1)
    const torch::Tensor out = std::get<0>(lstm->forward(x)).select(1, -1);
    F::cross_entropy(dense->forward(out), y).backward();
    opt->step();
  };
}

Step dcgan32(int64_t batch) {
  auto up = [](int64_t in, int64_t out, int64_t stride, int64_t pad) {
    return nn::ConvTranspose2d(
        nn::ConvTranspose2dOptions(in, out, 4).stride(stride).padding(pad).bias(false));
  };
  auto down = [](int64_t in, int64_t out, int64_t stride, int64_t pad) {
    return nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(stride).padding(pad).bias(false));
  };
  auto leaky = [] { return nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)); };
  nn::Sequential g(up(100, 256, 1, 0), nn::BatchNorm2d(256), nn::ReLU(), up(256, 128, 2, 1),
                   nn::BatchNorm2d(128), nn::ReLU(), up(128, 64, 2, 1), nn::BatchNorm2d(64), nn::ReLU(),
                   up(64, 3, 2, 1), nn::Tanh());
  nn::Sequential d(down(3, 64, 2, 1), leaky(), down(64, 128, 2, 1), nn::BatchNorm2d(128), leaky(),
                   down(128, 256, 2, 1), nn::BatchNorm2d(256), leaky(), down(256, 1, 1, 0), nn::Sigmoid());
  const auto ao = torch::optim::AdamOptions(2e-4).betas({0.5, 0.999});
  auto opt_g = std::make_shared<torch::optim::Adam>(g->parameters(), ao);
  auto opt_d = std::make_shared<torch::optim::Adam>(d->parameters(), ao);
  const torch::Tensor real = torch::rand({batch, 3, 32, 32}) * 2 - 1, z = torch::randn({batch, 100, 1, 1});
  const torch::Tensor ones = torch::ones({batch}), zeros = torch::zeros({batch});
  return [=]() mutable {
    const torch::Tensor fake = g->forward(z);
    clear_grads(*opt_d);
    (F::binary_cross_entropy(d->forward(real).view({-1}), ones) +
     F::binary_cross_entropy(d->forward(fake.detach()).view({-1}), zeros))
        .backward();
    opt_d->step();
    clear_grads(*opt_g);
    F::binary_cross_entropy(d->forward(fake).view({-1}), ones).backward();
    opt_g->step();
  };
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s --model mlp|cnn|lstm|dcgan32 [--batch N] [--steps N] [--warmup N] [--threads N]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "mlp";
  int64_t batch = 0, steps = 0, warmup = 5;
  int threads = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string v = argv[++i];
    if (f == "--model")
      model = v;
    else if (f == "--batch")
      batch = std::atoll(v.c_str());
    else if (f == "--steps")
      steps = std::atoll(v.c_str());
    else if (f == "--warmup")
      warmup = std::atoll(v.c_str());
    else if (f == "--threads")
      threads = std::atoi(v.c_str());
    else
      return usage(argv[0]);
  }
  if (threads > 0) torch::set_num_threads(threads);
  torch::manual_seed(0);
  // nabla-bench models' CPU defaults (bench/nabla_bench.cpp, bench/models.cpp)
  Step step;
  if (model == "mlp" || model == "cnn") {
    batch = batch > 0 ? batch : 64;
    steps = steps > 0 ? steps : (model == "mlp" ? 200 : 20);
    step = classifier(model == "cnn", batch);
  } else if (model == "lstm") {
    batch = batch > 0 ? batch : 10;
    steps = steps > 0 ? steps : 200;
    step = seed_lstm(batch);
  } else if (model == "dcgan32") {
    batch = batch > 0 ? batch : 16;
    steps = steps > 0 ? steps : 5;
    step = dcgan32(batch);
  } else {
    std::fprintf(stderr, "libtorch-step: unknown --model %s (mlp, cnn, lstm, dcgan32)\n", model.c_str());
    return 2;
  }
  for (int64_t i = 0; i < warmup; ++i) step();
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    rounds.push_back(s * 1000.0 / static_cast<double>(steps));
  }
  std::sort(rounds.begin(), rounds.end());
  const double ms = rounds[rounds.size() / 2];
  std::printf(
      "{\"model\": \"%s\", \"framework\": \"libtorch %s\", \"device\": \"cpu\", \"threads\": %d, \"batch\": "
      "%lld, "
      "\"ms_per_step\": %.4f, \"samples_per_s\": %.1f}\n",
      model.c_str(), TORCH_VERSION, torch::get_num_threads(), static_cast<long long>(batch), ms,
      1000.0 * static_cast<double>(batch) / ms);
  return 0;
}

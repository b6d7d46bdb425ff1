// Training-step benchmark of the classic models at a fixed batch on random inputs: forward,
// backward and optimizer step (for dcgan32, one discriminator and one generator step).
// bench/compare/model_step.sh runs it interleaved with the same definitions in PyTorch
// (bench/compare/model_step.py); the definitions are fixed so results compare across
// frameworks:
//   mlp      784-128(ReLU)-10, cross-entropy, Adam(1e-3), batch 64
//   cnn      Conv32 3x3-ReLU-MaxPool2-Conv64 3x3-ReLU-MaxPool2-Flatten-Dense128-ReLU-Dense10
//            on 1x28x28, cross-entropy, Adam(1e-3), batch 64
//   dcgan32  DCGAN generator (100->256->128->64->3, 4x4 transposed convs, BatchNorm, ReLU,
//            Tanh) and discriminator (3->64->128->256->1, 4x4 strided convs, LeakyReLU(0.2),
//            BatchNorm, Sigmoid) on 32x32, BCE, Adam(2e-4, 0.5, 0.999), batch 16
//   lstm     the seed_lstm example: LSTM(3 -> 50, batch_first) over 10 steps, Dense(50 -> 3) on
//            the last hidden state, cross-entropy, Adam(1e-3), batch 10
//
//   model_step [--model mlp|cnn|dcgan32|lstm] [--batch N] [--steps N] [--warmup N] [--threads N]
//              [--device cpu|cuda]
//
// Prints one JSON line: {"model", "framework", "device", "threads", "batch", "ms_per_step",
// "samples_per_s"}; ms_per_step is the median over 5 rounds of `steps` steps each.
#include <nabla/nabla.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

namespace nn = nabla::nn;
namespace F = nn::functional;
using nabla::Tensor;
using Layers = std::initializer_list<std::shared_ptr<nn::Module>>;

namespace {

// One training step of a model on fixed random inputs.
using Step = std::function<void()>;

Step mlp_or_cnn(bool cnn, int64_t batch, nabla::Device dev) {
  std::shared_ptr<nn::Sequential> model;
  if (cnn) {
    model = std::make_shared<nn::Sequential>(Layers{
        std::make_shared<nn::Conv2d>(1, 32, 3), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
        std::make_shared<nn::Conv2d>(32, 64, 3), std::make_shared<nn::ReLU>(), std::make_shared<nn::MaxPool2d>(2),
        std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(1600, 128), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(128, 10)});
  } else {
    model = std::make_shared<nn::Sequential>(Layers{std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 128),
                                                    std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(128, 10)});
  }
  model->to(dev);
  auto opt = std::make_shared<nabla::optim::Adam>(model->parameters(), nabla::optim::AdamOptions{});
  const nabla::TensorOptions o = nabla::TensorOptions().device(dev);
  const Tensor x = nabla::rand({batch, 1, 28, 28}, o);
  const Tensor y = nabla::randint(0, 10, {batch}, nabla::TensorOptions(nabla::kInt64).device(dev));
  return [=] {
    opt->zero_grad();
    F::cross_entropy((*model)(x), y).backward();
    opt->step();
  };
}

Step dcgan32(int64_t batch, nabla::Device dev) {
  auto g = std::make_shared<nn::Sequential>(Layers{
      std::make_shared<nn::ConvTranspose2d>(100, 256, 4, 1, 0, 0, 1, false), std::make_shared<nn::BatchNorm2d>(256),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::ConvTranspose2d>(256, 128, 4, 2, 1, 0, 1, false),
      std::make_shared<nn::BatchNorm2d>(128), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(128, 64, 4, 2, 1, 0, 1, false), std::make_shared<nn::BatchNorm2d>(64),
      std::make_shared<nn::ReLU>(), std::make_shared<nn::ConvTranspose2d>(64, 3, 4, 2, 1, 0, 1, false),
      std::make_shared<nn::Tanh>()});
  auto d = std::make_shared<nn::Sequential>(Layers{
      std::make_shared<nn::Conv2d>(3, 64, 4, 2, 1, 1, 1, false), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(64, 128, 4, 2, 1, 1, 1, false), std::make_shared<nn::BatchNorm2d>(128),
      std::make_shared<nn::LeakyReLU>(0.2), std::make_shared<nn::Conv2d>(128, 256, 4, 2, 1, 1, 1, false),
      std::make_shared<nn::BatchNorm2d>(256), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(256, 1, 4, 1, 0, 1, 1, false), std::make_shared<nn::Sigmoid>()});
  g->to(dev);
  d->to(dev);
  nabla::optim::AdamOptions ao;
  ao.lr = 2e-4;
  ao.beta1 = 0.5;
  auto opt_g = std::make_shared<nabla::optim::Adam>(g->parameters(), ao);
  auto opt_d = std::make_shared<nabla::optim::Adam>(d->parameters(), ao);
  const nabla::TensorOptions o = nabla::TensorOptions().device(dev);
  const Tensor real = nabla::rand({batch, 3, 32, 32}, o) * 2.0 - 1.0;
  const Tensor z = nabla::randn({batch, 100, 1, 1}, o);
  const Tensor ones = nabla::ones({batch}, o), zeros = nabla::zeros({batch}, o);
  return [=] {
    const Tensor fake = (*g)(z);
    opt_d->zero_grad();
    (F::binary_cross_entropy((*d)(real).view({-1}), ones) + F::binary_cross_entropy((*d)(fake.detach()).view({-1}), zeros))
        .backward();
    opt_d->step();
    opt_g->zero_grad();
    F::binary_cross_entropy((*d)(fake).view({-1}), ones).backward();
    opt_g->step();
  };
}

Step seed_lstm(int64_t batch, nabla::Device dev) {
  nn::RNNOptions ro;
  ro.batch_first = true;
  auto lstm = std::make_shared<nn::LSTM>(3, 50, ro);
  auto dense = std::make_shared<nn::Linear>(50, 3);
  lstm->to(dev);
  dense->to(dev);
  std::vector<Tensor> params = lstm->parameters();
  for (const Tensor& p : dense->parameters()) params.push_back(p);
  auto opt = std::make_shared<nabla::optim::Adam>(params, nabla::optim::AdamOptions{});
  const Tensor x = nabla::randn({batch, 10, 3}, nabla::TensorOptions().device(dev));
  const Tensor y = nabla::randint(0, 3, {batch}, nabla::TensorOptions(nabla::kInt64).device(dev));
  return [=] {
    opt->zero_grad();
    F::cross_entropy((*dense)(lstm->forward_with_state(x).h_n[0]), y).backward();
    opt->step();
  };
}

}  // namespace

int main(int argc, char** argv) {
  std::string model = "mlp", device = "cpu";
  int64_t batch = 0, steps = 0, warmup = 10;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i], v = argv[i + 1];
    if (f == "--model") model = v;
    else if (f == "--device") device = v;
    else if (f == "--batch") batch = std::atoll(v.c_str());
    else if (f == "--steps") steps = std::atoll(v.c_str());
    else if (f == "--warmup") warmup = std::atoll(v.c_str());
    else if (f == "--threads") threads = std::atoi(v.c_str());
    else {
      std::fprintf(stderr,
                   "usage: %s [--model mlp|cnn|dcgan32|lstm] [--batch N] [--steps N] [--warmup N] [--threads N] "
                   "[--device cpu|cuda]\n",
                   argv[0]);
      return 2;
    }
  }
  try {
    const nabla::Device dev(device);
    if (dev.is_cuda() && !nabla::cuda::is_available()) {
      std::fprintf(stderr, "model_step: no CUDA device is available here\n");
      return 2;
    }
    if (threads > 0) nabla::set_num_threads(threads);
    nabla::manual_seed(0);
    Step step;
    if (model == "mlp" || model == "cnn") {
      if (batch == 0) batch = 64;
      if (steps == 0) steps = model == "mlp" ? 200 : 20;
      step = mlp_or_cnn(model == "cnn", batch, dev);
    } else if (model == "dcgan32") {
      if (batch == 0) batch = dev.is_cuda() ? 128 : 16;
      if (steps == 0) steps = 5;
      step = dcgan32(batch, dev);
    } else if (model == "lstm") {
      if (batch == 0) batch = 10;
      if (steps == 0) steps = 200;
      step = seed_lstm(batch, dev);
    } else {
      std::fprintf(stderr, "model_step: unknown --model %s (mlp, cnn, dcgan32, lstm)\n", model.c_str());
      return 2;
    }
    if (batch < 1 || steps < 1 || warmup < 0) {
      std::fprintf(stderr, "model_step: batch and steps must be positive\n");
      return 2;
    }
    for (int64_t i = 0; i < warmup; ++i) step();
    nabla::cuda::synchronize();
    std::vector<double> rounds;
    for (int r = 0; r < 5; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int64_t i = 0; i < steps; ++i) step();
      nabla::cuda::synchronize();
      rounds.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                       static_cast<double>(steps));
    }
    std::sort(rounds.begin(), rounds.end());
    const double ms = rounds[rounds.size() / 2];
    std::printf("{\"model\": \"%s\", \"framework\": \"nabla\", \"device\": \"%s\", \"threads\": %d, \"batch\": %lld, "
                "\"ms_per_step\": %.4f, \"samples_per_s\": %.1f}\n",
                model.c_str(), dev.str().c_str(), nabla::get_num_threads(), static_cast<long long>(batch), ms,
                1000.0 * static_cast<double>(batch) / ms);
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "model_step: %s\n", e.what());
    return 1;
  }
  return 0;
}

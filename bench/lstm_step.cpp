// Training-step benchmark of the seed_lstm model (LSTM(3 -> 50) over 10 steps, Dense(3),
// cross-entropy, Adam(1e-3)) at a fixed batch on random inputs: forward, backward and
// optimizer step. bench/compare/lstm_step.sh runs it interleaved with the same model in PyTorch.
//
//   lstm_step [--batch N] [--steps N] [--warmup N] [--threads N] [--device cpu|cuda]
//
// Prints one JSON line: {"model": "lstm", "device": ..., "batch": ..., "ms_per_step": ...,
// "samples_per_s": ...}; ms_per_step is the median over 5 rounds of `steps` steps each (on
// CUDA each round ends with a synchronize).
#include <nabla/nabla.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace nn = nabla::nn;

struct SeedLstm : nn::Module {
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> dense;
  SeedLstm() : nn::Module("SeedLstm") {
    nn::RNNOptions o;
    o.batch_first = true;
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(3, 50, o));
    dense = register_module("dense", std::make_shared<nn::Linear>(50, 3));
  }
  nabla::Tensor forward(const nabla::Tensor& x) override { return (*dense)(lstm->forward_with_state(x).h_n[0]); }
};

int main(int argc, char** argv) {
  int64_t batch = 10, steps = 200, warmup = 50;
  int threads = 0;
  std::string device = "cpu";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (f == "--batch") batch = v;
    else if (f == "--steps") steps = v;
    else if (f == "--warmup") warmup = v;
    else if (f == "--threads") threads = static_cast<int>(v);
    else if (f == "--device") device = argv[i + 1];
    else {
      std::fprintf(stderr, "usage: %s [--batch N] [--steps N] [--warmup N] [--threads N] [--device cpu|cuda]\n",
                   argv[0]);
      return 2;
    }
  }
  if (batch < 1 || steps < 1 || warmup < 0) {
    std::fprintf(stderr, "lstm_step: batch and steps must be positive\n");
    return 2;
  }
  const nabla::Device dev(device);
  if (dev.is_cuda() && !nabla::cuda::is_available()) {
    std::fprintf(stderr, "lstm_step: no CUDA device here\n");
    return 2;
  }
  if (threads > 0) nabla::set_num_threads(threads);
  nabla::manual_seed(0);
  SeedLstm model;
  model.to(dev);
  nabla::optim::Adam opt(model.parameters(), nabla::optim::AdamOptions{});
  const auto x = nabla::randn({batch, 10, 3}).to(dev);
  const auto y = nabla::randint(0, 3, {batch}).to(dev);
  auto step = [&] {
    opt.zero_grad();
    const auto loss = nn::functional::cross_entropy(model(x), y);
    loss.backward();
    opt.step();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  if (dev.is_cuda()) nabla::cuda::synchronize();
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    if (dev.is_cuda()) nabla::cuda::synchronize();
    rounds.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                     static_cast<double>(steps));
  }
  std::sort(rounds.begin(), rounds.end());
  const double ms = rounds[rounds.size() / 2];
  std::printf("{\"model\": \"lstm\", \"framework\": \"nabla\", \"device\": \"%s\", \"threads\": %d, \"batch\": %lld, "
              "\"ms_per_step\": %.4f, \"samples_per_s\": %.1f}\n",
              device.c_str(), nabla::get_num_threads(), static_cast<long long>(batch), ms,
              1000.0 * static_cast<double>(batch) / ms);
  return 0;
}

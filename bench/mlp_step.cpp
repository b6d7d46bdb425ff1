// Training-step benchmark of the fashion_mlp model (784-128(ReLU)-10, cross-entropy,
// Adam(1e-3)) at a fixed batch on random inputs: forward, backward and optimizer step.
// bench/compare/mlp_step.sh runs it interleaved with the same model in PyTorch.
//
//   mlp_step [--batch N] [--steps N] [--warmup N] [--threads N]
//
// Prints one JSON line: {"model": "mlp", "device": "cpu", "batch": ..., "ms_per_step": ...,
// "samples_per_s": ...}; ms_per_step is the median over 5 rounds of `steps` steps each.
#include <nabla/nabla.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  int64_t batch = 64, steps = 200, warmup = 50;
  int threads = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string f = argv[i];
    const long long v = std::atoll(argv[i + 1]);
    if (f == "--batch") batch = v;
    else if (f == "--steps") steps = v;
    else if (f == "--warmup") warmup = v;
    else if (f == "--threads") threads = static_cast<int>(v);
    else {
      std::fprintf(stderr, "usage: %s [--batch N] [--steps N] [--warmup N] [--threads N]\n", argv[0]);
      return 2;
    }
  }
  if (batch < 1 || steps < 1 || warmup < 0) {
    std::fprintf(stderr, "mlp_step: batch and steps must be positive\n");
    return 2;
  }
  if (threads > 0) nabla::set_num_threads(threads);
  namespace nn = nabla::nn;
  nabla::manual_seed(0);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::Linear>(128, 10)});
  nabla::optim::Adam opt(model->parameters(), nabla::optim::AdamOptions{});
  const auto x = nabla::rand({batch, 1, 28, 28});
  const auto y = nabla::randint(0, 10, {batch});
  auto step = [&] {
    opt.zero_grad();
    const auto loss = nn::functional::cross_entropy((*model)(x), y);
    loss.backward();
    opt.step();
  };
  for (int64_t i = 0; i < warmup; ++i) step();
  std::vector<double> rounds;
  for (int r = 0; r < 5; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < steps; ++i) step();
    rounds.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count() /
                     static_cast<double>(steps));
  }
  std::sort(rounds.begin(), rounds.end());
  const double ms = rounds[rounds.size() / 2];
  std::printf("{\"model\": \"mlp\", \"framework\": \"nabla\", \"device\": \"cpu\", \"threads\": %d, \"batch\": %lld, "
              "\"ms_per_step\": %.4f, \"samples_per_s\": %.1f}\n",
              nabla::get_num_threads(), static_cast<long long>(batch), ms, 1000.0 * static_cast<double>(batch) / ms);
  return 0;
}

// Linear regression by gradient descent: fits y = w x + b to y = 3x + 2 + noise.
//
// The smallest complete training loop, written by hand: random data, a forward pass, a mean
// squared error, backward, and a parameter update under NoGradGuard.
//
//   linear_regression [--epochs N] [--lr F] [--seed S] [--limit N (samples)] [--batch-size N]
//                     [--device cpu|cuda|auto]
//
// Ends with one JSON line {"w": ..., "b": ..., "loss": ...}.
#include "common.h"

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 300;
  d.lr = 0.1;
  d.batch_size = 256;
  d.limit = 256;
  const example::Args a = example::parse(argc, argv, d);
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed);

  const int64_t n = a.limit;
  const auto x = (nabla::rand({n, 1}) * 2.0 - 1.0).to(dev);
  const auto y = (x * 3.0 + 2.0 + nabla::randn({n, 1}).to(dev) * 0.1);
  auto w = nabla::zeros({1}, dev).requires_grad_(true);
  auto b = nabla::zeros({1}, dev).requires_grad_(true);

  double loss = 0;
  for (int64_t epoch = 0; epoch < a.epochs; ++epoch) {
    for (int64_t s = 0; s < n; s += a.batch_size) {
      const int64_t m = std::min(a.batch_size, n - s);
      const auto pred = x.narrow(0, s, m) * w + b;
      const auto err = pred - y.narrow(0, s, m);
      const auto l = (err * err).mean();
      l.backward();
      {
        nabla::NoGradGuard no_grad;
        w.sub_(w.grad() * a.lr);
        b.sub_(b.grad() * a.lr);
        w.grad().zero_();
        b.grad().zero_();
      }
      loss = l.item<double>();
    }
    if (!a.quiet && (epoch + 1) % std::max<int64_t>(1, a.epochs / 10) == 0) {
      std::printf("epoch %lld/%lld  loss %.6f\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(a.epochs), loss);
    }
  }
  const double wv = w.item<double>(), bv = b.item<double>();
  if (!a.quiet) std::printf("learned w = %.4f, b = %.4f (true: w = 3, b = 2)\n", wv, bv);
  example::print_json({{"w", wv}, {"b", bv}, {"loss", loss}});
  return 0;
}

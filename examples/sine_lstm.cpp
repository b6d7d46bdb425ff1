// Next-value prediction on noisy sine waves with an LSTM(1 -> 32) and a linear read-out.
//
//   sine_lstm [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] [--device cpu|cuda|auto]
//
// Each sample is 20 observed values y_t = sin(w t + phase) + noise (w uniform in [0.5, 1.5],
// phase uniform in [0, 2 pi), noise normal with std 0.03) and the target is the next observed
// value y_20: the network has to infer frequency and phase from the window. The noise alone
// sets a floor of 0.0009 on the mean squared error. Data: 2000 training and 500 test windows
// drawn after manual_seed(--seed + 2000). Ends with {"loss": ..., "test_mse": ...}.
#include <cmath>

#include "common.h"

namespace {

namespace nn = nabla::nn;

constexpr int64_t kSteps = 20;

// windows [n, 20, 1] and next values [n, 1]
std::pair<nabla::Tensor, nabla::Tensor> sine_windows(int64_t n) {
  const auto w = nabla::rand({n, 1}) + 0.5;
  const auto phase = nabla::rand({n, 1}) * (2.0 * M_PI);
  const auto t = nabla::arange(kSteps + 1, nabla::kFloat32).unsqueeze(0);
  const auto y = nabla::sin(w * t + phase) + nabla::randn({n, kSteps + 1}) * 0.03;
  return {y.narrow(1, 0, kSteps).unsqueeze(2).contiguous(), y.narrow(1, kSteps, 1).contiguous()};
}

struct SineLstm : nn::Module {
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> head;
  SineLstm() : nn::Module("SineLstm") {
    nn::RNNOptions o;
    o.batch_first = true;
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(1, 32, o));
    head = register_module("head", std::make_shared<nn::Linear>(32, 1));
  }
  nabla::Tensor forward(const nabla::Tensor& x) override {
    return (*head)(lstm->forward_with_state(x).h_n[0]);
  }
};

double mse(SineLstm& m, const nabla::Tensor& x, const nabla::Tensor& y) {
  nabla::NoGradGuard g;
  return nn::functional::mse_loss(m(x), y).item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 15;
  d.lr = 1e-2;
  d.batch_size = 32;
  const example::Args a = example::parse(argc, argv, d);
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed + 2000);  // the data first, then the model from --seed
  const int64_t n_train = a.limit > 0 ? a.limit : 2000;
  auto [x_train, y_train] = sine_windows(n_train);
  auto [x_test, y_test] = sine_windows(500);
  x_train = x_train.to(dev), y_train = y_train.to(dev), x_test = x_test.to(dev), y_test = y_test.to(dev);

  nabla::manual_seed(a.seed);
  SineLstm model;
  model.to(dev);
  nabla::optim::AdamOptions o;
  o.lr = a.lr;
  nabla::optim::Adam opt(model.parameters(), o);
  double loss = 0;
  for (int64_t epoch = 0; epoch < a.epochs; ++epoch) {
    const auto perm = nabla::randperm(n_train, nabla::TensorOptions(nabla::kInt64).device(dev));
    double total = 0;
    int64_t batches = 0;
    for (int64_t s = 0; s < n_train; s += a.batch_size) {
      const auto idx = perm.narrow(0, s, std::min(a.batch_size, n_train - s));
      opt.zero_grad();
      const auto l =
          nn::functional::mse_loss(model(x_train.index_select(0, idx)), y_train.index_select(0, idx));
      l.backward();
      opt.step();
      total += l.item<double>();
      ++batches;
    }
    loss = total / static_cast<double>(batches);
    if (!a.quiet) {
      std::printf("epoch %lld/%lld  loss %.5f  test mse %.5f\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(a.epochs), loss, mse(model, x_test, y_test));
    }
  }
  example::print_json({{"loss", loss}, {"test_mse", mse(model, x_test, y_test)}});
  return 0;
}

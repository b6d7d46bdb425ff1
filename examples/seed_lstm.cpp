// The classic sequence classifier: LSTM(50, tanh) over sequences of 10 steps x 3 features,
// then Dense(3) with softmax, trained with categorical cross-entropy and Adam at batch 10.
//
//   seed_lstm [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] [--device cpu|cuda|auto]
//
// The data is a deterministic synthetic task (the "seed task"): each sequence is 10 steps of 3
// features, x_t = 0.35 e_c + noise (standard normal) for a class c in {0, 1, 2} (e_c is the
// unit vector of feature c). One step says little (the drift is a third of the noise), so the
// network must accumulate evidence over the sequence; the label is the feature with the
// largest sum over the 10 steps (almost always c), so labels agree with the data exactly.
// Data set: 1500 training and 500 test sequences drawn after manual_seed(--seed + 1000).
// Softmax + categorical cross-entropy is nabla's fused cross_entropy on the Dense layer's
// logits. Ends with {"loss": ..., "test_accuracy": ..., "train_accuracy": ...}.
#include "common.h"

namespace {

namespace nn = nabla::nn;

// The seed task: [n, 10, 3] sequences and int64 labels [n].
std::pair<nabla::Tensor, nabla::Tensor> seed_task(int64_t n) {
  const auto c = nabla::randint(0, 3, {n}, nabla::TensorOptions(nabla::kInt64));
  const auto drift = nabla::one_hot(c, 3).to(nabla::kFloat32).unsqueeze(1) * 0.35;
  const auto x = nabla::randn({n, 10, 3}) + drift;
  return {x, x.sum(1).argmax(1)};
}

struct SeedLstm : nn::Module {
  std::shared_ptr<nn::LSTM> lstm;
  std::shared_ptr<nn::Linear> dense;
  SeedLstm() : nn::Module("SeedLstm") {
    nn::RNNOptions o;
    o.batch_first = true;
    lstm = register_module("lstm", std::make_shared<nn::LSTM>(3, 50, o));
    dense = register_module("dense", std::make_shared<nn::Linear>(50, 3));
  }
  // logits of the last step's hidden state
  nabla::Tensor forward(const nabla::Tensor& x) override {
    return (*dense)(lstm->forward_with_state(x).h_n[0]);
  }
};

double accuracy(SeedLstm& m, const nabla::Tensor& x, const nabla::Tensor& y) {
  nabla::NoGradGuard g;
  return nabla::eq(m(x).argmax(1), y).to(nabla::kFloat32).mean().item<double>();
}

}  // namespace

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 8;
  d.lr = 1e-3;
  d.batch_size = 10;
  const example::Args a = example::parse(argc, argv, d);
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed + 1000);  // the data first, then the model from --seed
  const int64_t n_train = a.limit > 0 ? a.limit : 1500;
  auto [x_train, y_train] = seed_task(n_train);
  auto [x_test, y_test] = seed_task(500);
  x_train = x_train.to(dev), y_train = y_train.to(dev), x_test = x_test.to(dev), y_test = y_test.to(dev);

  nabla::manual_seed(a.seed);
  SeedLstm model;
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
          nn::functional::cross_entropy(model(x_train.index_select(0, idx)), y_train.index_select(0, idx));
      l.backward();
      opt.step();
      total += l.item<double>();
      ++batches;
    }
    loss = total / static_cast<double>(batches);
    if (!a.quiet) {
      std::printf("epoch %lld/%lld  loss %.4f  test accuracy %.3f\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(a.epochs), loss, accuracy(model, x_test, y_test));
    }
  }
  example::print_json({{"loss", loss},
                       {"test_accuracy", accuracy(model, x_test, y_test)},
                       {"train_accuracy", accuracy(model, x_train, y_train)}});
  return 0;
}

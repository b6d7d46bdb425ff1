// A libtorch program, written in libtorch's own idioms, that builds against libtorch and against
// nabla with only the two lines below switched. It trains a small CNN on Fashion-MNIST (MNIST's
// file format) and uses what a libtorch user reaches for: module holders and TORCH_MODULE,
// options builders, torch::data's MNIST dataset with Normalize/Stack transforms and a
// multi-worker data loader, a custom autograd Function with a hand-written backward,
// torch::autograd::grad with create_graph (a gradient penalty), the free functions in torch::,
// and torch::save / torch::load.
//
//   from_libtorch [DATA_DIR] [EPOCHS] [MAX_TRAIN_BATCHES]
//
// DATA_DIR holds {train,t10k}-{images-idx3,labels-idx1}-ubyte; libtorch reads them uncompressed
// only (gunzip the files of Debian's dataset-fashion-mnist first), nabla reads them either way.
// The run ends with one JSON line: {"backend": ..., "test_accuracy": ..., "test_loss": ...}.
//
// CMake picks the side (examples/from_libtorch/CMakeLists.txt): FROM_LIBTORCH_USE_LIBTORCH is
// defined for libtorch. These are the only lines that differ.
#ifdef FROM_LIBTORCH_USE_LIBTORCH
#include <torch/torch.h>
#define BACKEND "libtorch"
#else
#include <nabla/torch_compat.h>
namespace torch = nabla::torch_compat;
#define BACKEND "nabla"
#endif

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>

namespace F = torch::nn::functional;

// Swish, x * sigmoid(x), as a custom autograd Function: the backward below is what autograd
// runs, not a derivative it works out itself.
struct Swish : torch::autograd::Function<Swish> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x) {
    ctx->save_for_backward({x});
    return x * torch::sigmoid(x);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    const auto x = ctx->get_saved_variables()[0];
    const auto s = torch::sigmoid(x);
    return {grad_outputs[0] * s * (1 + x * (1 - s))};
  }
};

struct NetImpl : torch::nn::Module {
  NetImpl()
      : conv1(torch::nn::Conv2dOptions(1, 16, 3).padding(1).bias(false)),
        bn1(torch::nn::BatchNorm2dOptions(16).momentum(0.1)),
        conv2(torch::nn::Conv2dOptions(16, 32, 3).padding(1)),
        dropout(torch::nn::DropoutOptions().p(0.25)),
        fc1(32 * 7 * 7, 128),
        fc2(torch::nn::LinearOptions(128, 10)) {
    register_module("conv1", conv1);
    register_module("bn1", bn1);
    register_module("conv2", conv2);
    register_module("dropout", dropout);
    register_module("fc1", fc1);
    register_module("fc2", fc2);
  }

  torch::Tensor forward(torch::Tensor x) {
    x = torch::max_pool2d(Swish::apply(bn1(conv1(x))), 2);
    x = F::max_pool2d(torch::relu(conv2(x)), F::MaxPool2dFuncOptions(2));
    x = x.flatten(1);
    x = dropout(torch::relu(fc1(x)));
    return torch::log_softmax(fc2(x), 1);
  }

  torch::nn::Conv2d conv1;
  torch::nn::BatchNorm2d bn1;
  torch::nn::Conv2d conv2;
  torch::nn::Dropout dropout;
  torch::nn::Linear fc1;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Net);

int main(int argc, char** argv) try {
  const std::string root = argc > 1 ? argv[1] : "/usr/share/datasets/fashion-mnist";
  const int64_t epochs = argc > 2 ? std::stoll(argv[2]) : 1;
  const int64_t max_batches = argc > 3 ? std::stoll(argv[3]) : -1;
  constexpr double kMean = 0.2860, kStd = 0.3530;  // Fashion-MNIST's training pixels

  torch::manual_seed(1);
  const torch::Device device(torch::cuda::is_available() ? torch::kCUDA : torch::kCPU);

  auto train_dataset = torch::data::datasets::MNIST(root)
                           .map(torch::data::transforms::Normalize<>(kMean, kStd))
                           .map(torch::data::transforms::Stack<>());
  const size_t train_size = train_dataset.size().value();
  auto train_loader = torch::data::make_data_loader(
      std::move(train_dataset), torch::data::DataLoaderOptions().batch_size(64).workers(2));

  auto test_dataset = torch::data::datasets::MNIST(root, torch::data::datasets::MNIST::Mode::kTest)
                          .map(torch::data::transforms::Normalize<>(kMean, kStd))
                          .map(torch::data::transforms::Stack<>());
  const size_t test_size = test_dataset.size().value();
  auto test_loader =
      torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(std::move(test_dataset), 1000);

  Net net;
  net->to(device);
  torch::optim::Adam optimizer(net->parameters(), torch::optim::AdamOptions(1e-3).betas({0.9, 0.999}));

  for (int64_t epoch = 1; epoch <= epochs; ++epoch) {
    net->train();
    int64_t batch_idx = 0;
    for (auto& batch : *train_loader) {
      auto data = batch.data.to(device);
      auto targets = batch.target.to(device);
      optimizer.zero_grad();
      auto loss = torch::nll_loss(net(data), targets);
      loss.backward();
      optimizer.step();
      if (batch_idx % 50 == 0) {
        std::printf("\rTrain Epoch: %ld [%5ld/%5zu] Loss: %.4f", static_cast<long>(epoch),
                    static_cast<long>(batch_idx * batch.data.size(0)), train_size,
                    loss.template item<float>());
        std::fflush(stdout);
      }
      if (++batch_idx == max_batches) break;
    }
    std::printf("\n");
  }

  // A gradient penalty as WGAN-GP computes one: the input gradient's norm, differentiated again
  // (create_graph), so its backward reaches the weights through the first backward.
  net->eval();
  auto probe = torch::randn({8, 1, 28, 28}, torch::TensorOptions().device(device)).requires_grad_(true);
  auto input_grad = torch::autograd::grad({net(probe).sum()}, {probe}, {}, /*retain_graph=*/true,
                                          /*create_graph=*/true)[0];
  auto penalty = (input_grad.flatten(1).norm(2, 1) - 1).pow(2).mean();
  optimizer.zero_grad();
  penalty.backward();
  const bool penalty_reaches_weights =
      net->fc2->weight.grad().defined() && net->conv1->weight.grad().defined();

  torch::NoGradGuard no_grad;
  double test_loss = 0;
  int64_t correct = 0;
  for (const auto& batch : *test_loader) {
    auto data = batch.data.to(device);
    auto targets = batch.target.to(device);
    auto output = net(data);
    test_loss +=
        F::nll_loss(output, targets, F::NLLLossFuncOptions().reduction(torch::kSum)).template item<double>();
    correct += output.argmax(1).eq(targets).sum().template item<int64_t>();
  }
  test_loss /= static_cast<double>(test_size);
  const double accuracy = static_cast<double>(correct) / static_cast<double>(test_size);

  // Saved and loaded back: the restored net gives the same outputs.
  const std::string path = "from_libtorch_net.pt";
  torch::save(net, path);
  Net restored;
  torch::load(restored, path);
  restored->to(device);
  restored->eval();
  auto x = torch::randn({4, 1, 28, 28}).to(device);
  const double restored_diff = (restored(x) - net(x)).abs().max().template item<double>();
  std::remove(path.c_str());

  std::printf(
      "{\"backend\": \"%s\", \"penalty\": %.6g, \"penalty_reaches_weights\": %s, \"restored_max_diff\": "
      "%.3g, "
      "\"test_accuracy\": %.4f, \"test_loss\": %.4f}\n",
      BACKEND, penalty.template item<double>(), penalty_reaches_weights ? "true" : "false", restored_diff,
      accuracy, test_loss);
  return std::isfinite(test_loss) && restored_diff == 0 && penalty_reaches_weights ? 0 : 1;
} catch (const std::exception& e) {
  std::fprintf(stderr, "from_libtorch: %s\n", e.what());
  return 1;
}

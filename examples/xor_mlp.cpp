// XOR with a 2-4-1 multilayer perceptron: the classic problem a single layer cannot solve.
//
//   xor_mlp [--epochs N] [--lr F] [--seed S] [--device cpu|cuda|auto]
//
// Full-batch training with Adam on the four XOR points; ends with {"accuracy": ..., "loss": ...}.
#include "common.h"

int main(int argc, char** argv) {
  example::Args d;
  // Four tanh units can settle in a local minimum that gets only 2 of 4 points right for
  // some initialisations; the default seed starts in the basin of the solution.
  d.epochs = 1000;
  d.lr = 0.1;
  d.seed = 1;
  d.batch_size = 4;
  const example::Args a = example::parse(argc, argv, d);
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed);
  namespace nn = nabla::nn;

  const auto x = nabla::from_vector<float>({0, 0, 0, 1, 1, 0, 1, 1}, {4, 2}).to(dev);
  const auto y = nabla::from_vector<float>({0, 1, 1, 0}, {4, 1}).to(dev);
  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(2, 4), std::make_shared<nn::Tanh>(), std::make_shared<nn::Linear>(4, 1),
      std::make_shared<nn::Sigmoid>()});
  model->to(dev);
  nabla::optim::AdamOptions o;
  o.lr = a.lr;
  nabla::optim::Adam opt(model->parameters(), o);

  double loss = 0;
  for (int64_t epoch = 0; epoch < a.epochs; ++epoch) {
    opt.zero_grad();
    const auto l = nn::functional::binary_cross_entropy((*model)(x), y);
    l.backward();
    opt.step();
    loss = l.item<double>();
    if (!a.quiet && (epoch + 1) % std::max<int64_t>(1, a.epochs / 5) == 0) {
      std::printf("epoch %lld/%lld  loss %.5f\n", static_cast<long long>(epoch + 1),
                  static_cast<long long>(a.epochs), loss);
    }
  }
  nabla::NoGradGuard g;
  const auto pred = (*model)(x);
  const double acc =
      nabla::eq(nabla::gt(pred, 0.5), nabla::gt(y, 0.5)).to(nabla::kFloat32).mean().item<double>();
  if (!a.quiet) std::cout << "predictions " << pred.reshape({-1}) << "\n";
  example::print_json({{"accuracy", acc}, {"loss", loss}});
  return 0;
}

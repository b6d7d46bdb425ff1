// A 2-5-1 binary classifier (ReLU hidden layer, sigmoid output) on a linearly separable 2-D
// point set: two Gaussian blobs around (-1.5, -1.5) and (1.5, 1.5).
//
//   binary_classifier [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] [--device ...]
//
// Uses the DataLoader and Trainer::fit; ends with {"accuracy": ..., "loss": ...}.
#include "common.h"

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 20;
  d.lr = 0.05;
  d.batch_size = 32;
  const example::Args a = example::parse(argc, argv, d);
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed);
  namespace nn = nabla::nn;

  const int64_t n = a.limit > 0 ? a.limit : 512;
  const auto label = nabla::randint(0, 2, {n, 1}).to(nabla::kFloat32);
  const auto x = nabla::randn({n, 2}) * 0.7 + (label * 3.0 - 1.5);
  auto train = std::make_shared<nabla::data::TensorDataset>(x, label);
  nabla::data::DataLoader loader(
      train, nabla::data::DataLoaderOptions(a.batch_size).shuffle(true).seed(a.seed).device(dev));

  auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Linear>(2, 5), std::make_shared<nn::ReLU>(), std::make_shared<nn::Linear>(5, 1),
      std::make_shared<nn::Sigmoid>()});
  model->to(dev);
  nabla::optim::SGDOptions o;
  o.lr = a.lr;
  o.momentum = 0.9;
  auto opt = std::make_shared<nabla::optim::SGD>(model->parameters(), o);
  nabla::train::Trainer trainer(model, opt, [](const nabla::Tensor& p, const nabla::Tensor& t) {
    return nn::functional::binary_cross_entropy(p, t);
  });
  nabla::train::FitOptions fo;
  fo.epochs = a.epochs;
  fo.verbose = a.quiet ? 0 : 1;
  trainer.fit(loader, fo);
  nabla::data::DataLoader eval_loader(train, nabla::data::DataLoaderOptions(256).device(dev));
  const auto logs = trainer.evaluate(eval_loader);
  example::print_json({{"accuracy", logs.at("accuracy")}, {"loss", logs.at("loss")}});
  return 0;
}

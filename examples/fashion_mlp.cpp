// A 784-128-10 multilayer perceptron on Fashion-MNIST (the Debian package
// dataset-fashion-mnist), trained with Adam and cross-entropy, with a progress bar.
//
//   fashion_mlp [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] [--device cpu|cuda|auto]
//               [--data DIR] [--checkpoint FILE]
//
// Ends with {"test_accuracy": ..., "test_loss": ..., "train_loss": ...}.
#include "common.h"

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 1;
  d.lr = 1e-3;
  d.batch_size = 64;
  const example::Args a =
      example::parse(argc, argv, d, {"data", "checkpoint"}, " [--data DIR] [--checkpoint FILE]");
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed);
  namespace nn = nabla::nn;
  namespace data = nabla::data;
  try {
    const std::string root = a.extra.count("data") ? a.extra.at("data") : data::FashionMNIST::default_root();
    auto train_set = std::make_shared<data::FashionMNIST>(root, /*train=*/true);
    auto test_set = std::make_shared<data::FashionMNIST>(root, /*train=*/false);
    std::shared_ptr<data::Dataset> train = train_set;
    if (a.limit > 0 && a.limit < train_set->size()) {
      train = std::make_shared<data::TensorDataset>(train_set->images().narrow(0, 0, a.limit),
                                                    train_set->targets().narrow(0, 0, a.limit));
    }
    data::DataLoader train_loader(
        train, data::DataLoaderOptions(a.batch_size).shuffle(true).seed(a.seed).device(dev));
    data::DataLoader test_loader(test_set, data::DataLoaderOptions(1000).device(dev));

    auto model = std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
        std::make_shared<nn::Flatten>(), std::make_shared<nn::Linear>(784, 128), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(128, 10)});
    model->to(dev);
    if (!a.quiet)
      std::cout << *model << "\n" << model->num_parameters() << " parameters, training on " << dev << "\n";
    nabla::optim::AdamOptions o;
    o.lr = a.lr;
    auto opt = std::make_shared<nabla::optim::Adam>(model->parameters(), o);
    nabla::train::Trainer trainer(model, opt, [](const nabla::Tensor& out, const nabla::Tensor& t) {
      return nn::functional::cross_entropy(out, t);
    });
    nabla::train::FitOptions fo;
    fo.epochs = a.epochs;
    fo.verbose = a.quiet ? 0 : 1;
    if (a.extra.count("checkpoint")) {
      fo.callbacks.push_back(
          std::make_shared<nabla::train::ModelCheckpoint>(a.extra.at("checkpoint"), 1, 0, &train_loader));
    }
    const auto history = trainer.fit(train_loader, fo, &test_loader);
    const auto test = trainer.evaluate(test_loader);
    std::map<std::string, double> result{{"test_accuracy", test.at("accuracy")},
                                         {"test_loss", test.at("loss")}};
    if (!history.epochs.empty()) result["train_loss"] = history.epochs.back().at("loss");
    example::print_json(result);
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "fashion_mlp: %s\n", e.what());
    return 1;
  }
  return 0;
}

// The classic DCGAN (Radford et al. 2015) on Fashion-MNIST padded to 32x32: a generator of
// transposed convolutions with batch norm and ReLU ending in Tanh, a discriminator of strided
// convolutions with LeakyReLU(0.2) and batch norm ending in Sigmoid, binary cross-entropy,
// Adam(2e-4, betas 0.5/0.999), weights drawn from N(0, 0.02) as the paper. After every epoch
// it writes an 8x8 grid of samples from a fixed noise batch to <out>/epoch_<N>.png.
//
//   dcgan [--epochs N] [--batch-size N] [--lr F] [--seed S] [--limit N] [--device cpu|cuda|auto]
//         [--data DIR] [--out DIR] [--nz N] [--width N]
//
// Ends with {"d_loss": ..., "g_loss": ..., "d_real": ..., "d_fake": ...} (epoch means; d_real
// and d_fake are the discriminator's mean outputs on real and generated images).
#include <filesystem>

#include "common.h"
#include "png.h"

namespace nn = nabla::nn;
using nabla::Tensor;

namespace {

std::shared_ptr<nn::Sequential> generator(int64_t nz, int64_t w) {
  // z [N, nz, 1, 1] -> 4x4 -> 8x8 -> 16x16 -> 32x32
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::ConvTranspose2d>(nz, 4 * w, 4, 1, 0, 0, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(4 * w), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(4 * w, 2 * w, 4, 2, 1, 0, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(2 * w), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(2 * w, w, 4, 2, 1, 0, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(w), std::make_shared<nn::ReLU>(),
      std::make_shared<nn::ConvTranspose2d>(w, 1, 4, 2, 1, 0, 1, /*bias=*/false),
      std::make_shared<nn::Tanh>()});
}

std::shared_ptr<nn::Sequential> discriminator(int64_t w) {
  // 32x32 -> 16x16 -> 8x8 -> 4x4 -> 1x1
  return std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<nn::Module>>{
      std::make_shared<nn::Conv2d>(1, w, 4, 2, 1, 1, 1, /*bias=*/false), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(w, 2 * w, 4, 2, 1, 1, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(2 * w), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(2 * w, 4 * w, 4, 2, 1, 1, 1, /*bias=*/false),
      std::make_shared<nn::BatchNorm2d>(4 * w), std::make_shared<nn::LeakyReLU>(0.2),
      std::make_shared<nn::Conv2d>(4 * w, 1, 4, 1, 0, 1, 1, /*bias=*/false),
      std::make_shared<nn::Sigmoid>()});
}

// The paper's initialisation: conv weights N(0, 0.02); batch-norm weights N(1, 0.02), biases 0.
void dcgan_init(nn::Module& m) {
  for (auto& [name, mod] : m.named_modules()) {
    if (auto* c = dynamic_cast<nn::Conv2d*>(mod)) nn::init::normal_(c->weight, 0.0, 0.02);
    if (auto* c = dynamic_cast<nn::ConvTranspose2d*>(mod)) nn::init::normal_(c->weight, 0.0, 0.02);
    if (auto* b = dynamic_cast<nn::BatchNorm*>(mod)) {
      nn::init::normal_(b->weight, 1.0, 0.02);
      nn::init::zeros_(b->bias);
    }
  }
}

// [N, 1, 28, 28] in [0, 1] -> [N, 1, 32, 32] in [-1, 1], the border at -1 (background).
Tensor to_gan_range(const Tensor& x) {
  Tensor out = nabla::full({x.size(0), 1, 32, 32}, -1.0, nabla::TensorOptions(x.dtype()).device(x.device()));
  out.narrow(2, 2, 28).narrow(3, 2, 28).copy_(x * 2.0 - 1.0);
  return out;
}

// An 8x8 grid (2-pixel gutters) of the first 64 images of g [N, 1, 32, 32] in [-1, 1].
void save_grid(const Tensor& g, const std::string& path) {
  constexpr int kSide = 8, kCell = 34, kImg = 32;
  const int64_t n = std::min<int64_t>(g.size(0), kSide * kSide);
  const std::vector<float> v = g.narrow(0, 0, n).to_vector<float>();
  std::vector<uint8_t> px(static_cast<std::size_t>(kSide * kCell * kSide * kCell), 0);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t gy = i / kSide, gx = i % kSide;
    for (int y = 0; y < kImg; ++y) {
      for (int x = 0; x < kImg; ++x) {
        const float val = std::clamp((v[static_cast<std::size_t>((i * kImg + y) * kImg + x)] + 1.0f) * 127.5f,
                                     0.0f, 255.0f);
        px[static_cast<std::size_t>((gy * kCell + 1 + y) * (kSide * kCell) + gx * kCell + 1 + x)] =
            static_cast<uint8_t>(val + 0.5f);
      }
    }
  }
  example::write_png_gray(path, px, kSide * kCell, kSide * kCell);
}

}  // namespace

int main(int argc, char** argv) {
  example::Args d;
  d.epochs = 5;
  d.lr = 2e-4;
  d.batch_size = 64;
  const example::Args a = example::parse(argc, argv, d, {"data", "out", "nz", "width"},
                                         " [--data DIR] [--out DIR] [--nz N] [--width N]");
  const nabla::Device dev = example::device_of(a);
  nabla::manual_seed(a.seed);
  namespace data = nabla::data;
  namespace F = nn::functional;
  try {
    const int64_t nz = a.extra.count("nz") ? std::stoll(a.extra.at("nz")) : 100;
    const int64_t width = a.extra.count("width") ? std::stoll(a.extra.at("width")) : 64;
    NABLA_CHECK(nz > 0 && width > 0, "dcgan: --nz and --width must be positive");
    const std::string out_dir = a.extra.count("out") ? a.extra.at("out") : "dcgan_out";
    std::filesystem::create_directories(out_dir);
    const std::string root = a.extra.count("data") ? a.extra.at("data") : data::FashionMNIST::default_root();
    auto train_set = std::make_shared<data::FashionMNIST>(root, /*train=*/true);
    std::shared_ptr<data::Dataset> train = train_set;
    if (a.limit > 0 && a.limit < train_set->size()) {
      train = std::make_shared<data::TensorDataset>(train_set->images().narrow(0, 0, a.limit),
                                                    train_set->targets().narrow(0, 0, a.limit));
    }
    // drop_last: batch norm wants a full batch, and every step then sees the same batch size
    data::DataLoader loader(
        train, data::DataLoaderOptions(a.batch_size).shuffle(true).seed(a.seed).drop_last(true).device(dev));
    NABLA_CHECK(loader.num_batches() > 0, "dcgan: {} images make no full batch of {}", train->size(),
                a.batch_size);

    auto g = generator(nz, width);
    auto dnet = discriminator(width);
    dcgan_init(*g);
    dcgan_init(*dnet);
    g->to(dev);
    dnet->to(dev);
    if (!a.quiet) {
      std::cout << *g << "\n"
                << *dnet << "\n"
                << g->num_parameters() << " + " << dnet->num_parameters() << " parameters, training on "
                << dev << "\n";
    }
    nabla::optim::AdamOptions o;
    o.lr = a.lr;
    o.beta1 = 0.5;
    o.beta2 = 0.999;
    nabla::optim::Adam opt_g(g->parameters(), o), opt_d(dnet->parameters(), o);
    const nabla::TensorOptions fo = nabla::TensorOptions().device(dev);
    const Tensor fixed_noise = nabla::randn({64, nz, 1, 1}, fo);

    nabla::train::Progress progress(stdout, a.quiet ? 0 : 1);
    std::map<std::string, double> result;
    for (int64_t epoch = 0; epoch < a.epochs; ++epoch) {
      progress.begin_epoch(epoch, a.epochs, loader.num_batches());
      Tensor sum_d = nabla::zeros({}, fo), sum_g = nabla::zeros({}, fo), sum_real = nabla::zeros({}, fo),
             sum_fake = nabla::zeros({}, fo);
      int64_t steps = 0, seen = 0;
      for (auto& batch : loader) {
        const Tensor real = to_gan_range(batch.data);
        const int64_t b = real.size(0);
        const Tensor ones = nabla::ones({b}, fo), zeros = nabla::zeros({b}, fo);
        // discriminator: real -> 1, generated -> 0
        const Tensor fake = (*g)(nabla::randn({b, nz, 1, 1}, fo));
        const Tensor d_real = (*dnet)(real).view({-1});
        const Tensor d_fake = (*dnet)(fake.detach()).view({-1});
        const Tensor loss_d = F::binary_cross_entropy(d_real, ones) + F::binary_cross_entropy(d_fake, zeros);
        opt_d.zero_grad();
        loss_d.backward();
        opt_d.step();
        // generator: make the (updated) discriminator call its images real
        const Tensor loss_g = F::binary_cross_entropy((*dnet)(fake).view({-1}), ones);
        opt_g.zero_grad();
        loss_g.backward();
        opt_g.step();
        {
          nabla::NoGradGuard ng;  // running sums stay on the device: no sync per step
          sum_d.add_(loss_d.detach());
          sum_g.add_(loss_g.detach());
          sum_real.add_(d_real.detach().mean());
          sum_fake.add_(d_fake.detach().mean());
        }
        ++steps;
        seen += b;
        if (!a.quiet && (steps % 10 == 0 || steps == loader.num_batches())) {
          const double n = static_cast<double>(steps);
          progress.update(steps, {{"d_loss", sum_d.item<double>() / n}, {"g_loss", sum_g.item<double>() / n}},
                          seen);
        }
      }
      const double n = static_cast<double>(steps);
      result = {{"d_loss", sum_d.item<double>() / n},
                {"g_loss", sum_g.item<double>() / n},
                {"d_real", sum_real.item<double>() / n},
                {"d_fake", sum_fake.item<double>() / n}};
      progress.end_epoch(result);
      {
        // sampled in training mode (batch statistics), as PyTorch's DCGAN example does: early
        // on, the running statistics lag far behind the generator
        nabla::NoGradGuard ng;
        const std::string path = fmt::format("{}/epoch_{}.png", out_dir, epoch + 1);
        save_grid((*g)(fixed_noise), path);
        if (!a.quiet) std::cout << "samples: " << path << "\n";
      }
    }
    example::print_json(result);
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "dcgan: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dcgan: %s\n", e.what());
    return 1;
  }
  return 0;
}

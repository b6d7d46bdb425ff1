// Linear regression by gradient descent: fits y = w x + b to y = 3x + 2 + noise.
//
// The smallest complete training loop: random data, a forward pass, a mean squared error,
// backward, and a parameter update under NoGradGuard. Uses only the public API.
//
//   linear_regression [--epochs N] [--lr F] [--seed S] [--samples N] [--device cpu|cuda]
//
// Ends with one JSON line {"w": ..., "b": ..., "loss": ...}.
#include <nabla/nabla.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <string_view>

namespace {

struct Options {
  int64_t epochs = 300;
  double lr = 0.1;
  uint64_t seed = 0;
  int64_t samples = 256;
  std::string device = "cpu";
};

void usage(std::FILE* out, const char* argv0) {
  std::fprintf(out,
               "usage: %s [--epochs N] [--lr F] [--seed S] [--samples N] [--device cpu|cuda]\n"
               "  --epochs N    training epochs (default 300)\n"
               "  --lr F        learning rate (default 0.1)\n"
               "  --seed S      random seed (default 0)\n"
               "  --samples N   number of (x, y) samples (default 256)\n"
               "  --device D    cpu, cuda or cuda:N (default cpu)\n",
               argv0);
}

bool parse_int(const std::string& s, int64_t min, int64_t* out) {
  char* end = nullptr;
  const long long v = std::strtoll(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v < min) return false;
  *out = v;
  return true;
}

bool parse_double(const std::string& s, double* out) {
  char* end = nullptr;
  const double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != '\0' || !(v > 0.0)) return false;
  *out = v;
  return true;
}

// Returns 0 to run, 1 after --help, 2 on a bad command line (with usage on stderr).
int parse_args(int argc, char** argv, Options* opt) {
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "-h" || flag == "--help") {
      usage(stdout, argv[0]);
      return 1;
    }
    std::string value;
    const auto eq = flag.find('=');
    if (eq != std::string::npos) {  // --flag=value
      value = flag.substr(eq + 1);
      flag.resize(eq);
    }
    if (flag != "--epochs" && flag != "--samples" && flag != "--seed" && flag != "--lr" &&
        flag != "--device") {
      std::fprintf(stderr, "%s: unknown argument %s\n", argv[0], flag.c_str());
      usage(stderr, argv[0]);
      return 2;
    }
    if (eq == std::string::npos) {  // --flag value
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: %s needs a value\n", argv[0], flag.c_str());
        usage(stderr, argv[0]);
        return 2;
      }
      value = argv[++i];
    }
    bool ok = true;
    if (flag == "--epochs") {
      ok = parse_int(value, 1, &opt->epochs);
    } else if (flag == "--samples") {
      ok = parse_int(value, 2, &opt->samples);
    } else if (flag == "--seed") {
      int64_t seed = 0;
      ok = parse_int(value, 0, &seed);
      opt->seed = static_cast<uint64_t>(seed);
    } else if (flag == "--lr") {
      ok = parse_double(value, &opt->lr);
    } else {  // --device
      opt->device = value;
    }
    if (!ok) {
      std::fprintf(stderr, "%s: bad value '%s' for %s\n", argv[0], value.c_str(), flag.c_str());
      usage(stderr, argv[0]);
      return 2;
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (const int rc = parse_args(argc, argv, &opt); rc != 0) return rc == 1 ? 0 : rc;

  nabla::Device device;
  try {
    device = nabla::Device(opt.device);
  } catch (const nabla::Error& e) {
    std::fprintf(stderr, "%s: bad --device '%s': %s\n", argv[0], opt.device.c_str(), e.what());
    usage(stderr, argv[0]);
    return 2;
  }
  if (device.is_cuda()) {
    try {
      (void)nabla::zeros({1}, device);
    } catch (const nabla::Error& e) {
      std::fprintf(stderr, "%s: cannot use device %s: %s\n", argv[0], device.str().c_str(), e.what());
      return 2;
    }
  }

  try {
    const auto on = nabla::TensorOptions().device(device);
    const int64_t n = opt.samples;

    // Data: x uniform on [-1, 1), y = 3x + 2 + N(0, 0.1^2).
    nabla::manual_seed(opt.seed);
    const nabla::Tensor x = nabla::rand({n, 1}, on) * 2 - 1;
    const nabla::Tensor noise = 0.1 * nabla::randn({n, 1}, on);
    const nabla::Tensor y = 3 * x + 2 + noise;

    nabla::Tensor w = nabla::zeros({1}, on).requires_grad_();
    nabla::Tensor b = nabla::zeros({1}, on).requires_grad_();

    const int64_t report_every = std::max<int64_t>(1, opt.epochs / 10);
    for (int64_t epoch = 1; epoch <= opt.epochs; ++epoch) {
      const nabla::Tensor pred = x * w + b;
      const nabla::Tensor err = pred - y;
      const nabla::Tensor loss = (err * err).mean();
      loss.backward();
      {
        nabla::NoGradGuard no_grad;
        w.sub_(w.grad() * opt.lr);
        b.sub_(b.grad() * opt.lr);
        w.grad().zero_();
        b.grad().zero_();
      }
      if (epoch % report_every == 0 || epoch == opt.epochs) {
        std::printf("epoch %lld/%lld  loss %.4f\n", static_cast<long long>(epoch),
                    static_cast<long long>(opt.epochs), loss.item<float>());
      }
    }

    float final_loss = 0.0f;
    {
      nabla::NoGradGuard no_grad;
      const nabla::Tensor err = x * w + b - y;
      final_loss = (err * err).mean().item<float>();
    }
    const float wv = w.item<float>();
    const float bv = b.item<float>();
    std::printf("learned w = %.4f, b = %.4f (true: w = 3, b = 2)\n", wv, bv);
    std::printf("{\"w\": %.4f, \"b\": %.4f, \"loss\": %.6f}\n", wv, bv, final_loss);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: error: %s\n", argv[0], e.what());
    return 1;
  }
  return 0;
}

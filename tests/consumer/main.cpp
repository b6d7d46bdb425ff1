// Downstream smoke test: builds against an installed nabla (CMake package or pkg-config),
// runs a forward computation and a backward pass, uses NABLA_CHECK (fmt in the public headers:
// the package must bring fmt's library to the link) and libtorch's spellings of
// nabla/torch_compat.h, and prints "consumer ok" on success.
#include <nabla/nabla.h>
#include <nabla/torch_compat.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

namespace torch = nabla::torch_compat;

namespace {
// a user module as libtorch writes it: forward by value, a holder member
struct NetImpl : torch::nn::Module {
  NetImpl() { fc = register_module("fc", torch::nn::Linear(3, 1)); }
  torch::Tensor forward(torch::Tensor x) { return fc(x); }
  torch::nn::Linear fc{nullptr};
};
TORCH_MODULE(Net);

// a user check, as a consumer writes one: NABLA_CHECK formats its message with fmt
int checked_positive(int n) {
  NABLA_CHECK(n > 0, "checked_positive: expected n > 0, got {}", n);
  return n;
}
}  // namespace

int main() {
  try {
    auto a = nabla::ones({2, 3});
    auto b = nabla::full({2, 3}, 2.0);
    const float s = (a + b).sum().item<float>();
    if (s != 18.0f) {
      std::printf("consumer FAILED: sum(ones + 2) = %g, expected 18\n", s);
      return 1;
    }

    auto x = nabla::from_vector(std::vector<float>{1, 2, 3}).requires_grad_();
    (x * x).sum().backward();
    const std::vector<float> g = x.grad().to_vector<float>();
    const std::vector<float> expected{2, 4, 6};
    if (g != expected) {
      std::printf("consumer FAILED: grad of sum(x*x) = [%g, %g, %g], expected [2, 4, 6]\n",
                  g.size() > 0 ? g[0] : -1.0f, g.size() > 1 ? g[1] : -1.0f, g.size() > 2 ? g[2] : -1.0f);
      return 1;
    }

    bool threw = false;
    try {
      checked_positive(-3);
    } catch (const nabla::Error& e) {
      threw = std::string(e.what()).find("expected n > 0, got -3") != std::string::npos;
    }
    if (!threw || checked_positive(2) != 2) {
      std::printf("consumer FAILED: NABLA_CHECK in user code did not throw its message\n");
      return 1;
    }

    Net net;
    torch::nn::Sequential seq(net, torch::nn::ReLU());
    const auto y = seq(torch::ones({2, 3}));
    if (y.sizes() != std::vector<int64_t>{2, 1} || net->parameters().size() != 2) {
      std::printf("consumer FAILED: a TORCH_MODULE in a Sequential gave shape %s\n", y.shape_str().c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::printf("consumer FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("consumer ok (nabla %s)\n", NABLA_VERSION_STRING);
  return 0;
}

// Downstream smoke test: builds against an installed nabla (CMake package or pkg-config),
// runs a forward computation and a backward pass, and prints "consumer ok" on success.
#include <nabla/nabla.h>

#include <cstdio>
#include <exception>
#include <vector>

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
  } catch (const std::exception& e) {
    std::printf("consumer FAILED: %s\n", e.what());
    return 1;
  }
  std::printf("consumer ok (nabla %s)\n", NABLA_VERSION_STRING);
  return 0;
}

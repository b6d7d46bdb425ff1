// Thread count of the CPU kernels.
#include "nabla/parallel.h"

#include <omp.h>

#include <atomic>
#include <cstdlib>
#include <thread>

#include "nabla/error.h"

namespace nabla {
namespace {
int initial_threads() {
  if (const char* env = std::getenv("NABLA_NUM_THREADS")) {
    const int n = std::atoi(env);
    if (n > 0) return n;
  }
  const unsigned hc = std::thread::hardware_concurrency();
  return hc == 0 ? 1 : static_cast<int>(hc);
}
std::atomic<int> g_threads{initial_threads()};  // read by the prefetch thread too
}  // namespace

int get_num_threads() { return g_threads; }

void set_num_threads(int n) {
  NABLA_CHECK(n > 0, "set_num_threads: expected a positive thread count, got {}", n);
  g_threads = n;
}

}  // namespace nabla

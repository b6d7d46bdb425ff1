// The global generator: a seed and a draw counter, guarded by a mutex.
#include "tensor/random_state.h"

#include <mutex>

#include "nabla/random.h"

namespace nabla {
namespace {
constexpr uint64_t kDefaultSeed = 67280421310721ull;  // PyTorch's default seed
std::mutex g_mutex;
GeneratorState g_state{kDefaultSeed, 0};
}  // namespace

void manual_seed(uint64_t seed) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_state = {seed, 0};
}

GeneratorState get_rng_state() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_state;
}

void set_rng_state(const GeneratorState& state) {
  std::lock_guard<std::mutex> lock(g_mutex);
  g_state = state;
}

PhiloxSlot next_philox_slot() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return {g_state.seed, g_state.offset++};
}

}  // namespace nabla

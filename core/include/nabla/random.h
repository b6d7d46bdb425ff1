// The global random generator: counter-based Philox4x32-10 (core/math/philox.h).
//
// Every random op draws element i of its output from counter (i, offset) under key seed, then
// advances offset by one, so a seed gives the same numbers on every device and thread count.
#pragma once

#include <cstdint>

namespace nabla {

/// Seeds the global generator and resets its counter.
void manual_seed(uint64_t seed);

/// The generator's full state, for checkpoints.
struct GeneratorState {
  uint64_t seed = 0;
  uint64_t offset = 0;
};
GeneratorState get_rng_state();
void set_rng_state(const GeneratorState& state);

}  // namespace nabla

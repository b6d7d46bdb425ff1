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

/// A private Philox stream (for data shuffling, dropout masks of one module, ...): the same
/// counter-based draws as the global generator, with its own seed and offset.
class Generator {
 public:
  explicit Generator(uint64_t seed = 0) : state_{seed, 0} {}
  /// The (seed, offset) of the next draw; advances the offset.
  GeneratorState next() { return {state_.seed, state_.offset++}; }
  GeneratorState state() const { return state_; }
  void set_state(const GeneratorState& s) { state_ = s; }

 private:
  GeneratorState state_;
};

}  // namespace nabla

// The global Philox generator state (seed, offset) behind nabla::manual_seed.
#pragma once

#include <cstdint>

namespace nabla {

struct PhiloxSlot {
  uint64_t seed;
  uint64_t offset;
};

/// The (seed, offset) for the next random op; advances the offset by one.
PhiloxSlot next_philox_slot();

}  // namespace nabla

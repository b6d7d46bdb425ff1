// The parameters of the random ops (uniform, normal, randint, randperm in ops.def) and how they
// travel in OpParams; read by the front ends (tensor/factories.cpp, copy.cpp) and both backends
// (cpu_fallback/random.cpp, cuda/kernels/random.cu, randperm.cu). Every draw starts at a Philox
// slot: element i comes from counter (i, slot.offset) under slot.seed (core/math/philox.h).
#pragma once

#include <cstdint>

#include "dispatch/op.h"
#include "tensor/random_state.h"

namespace nabla {
namespace detail {
/// A draw's OpParams: its slot and the op's two scalar arguments.
inline OpParams draw_params(const PhiloxSlot& slot, const Scalar& a = 0, const Scalar& b = 0) {
  OpParams p;
  p.s0 = a;
  p.s1 = b;
  p.i0 = static_cast<int64_t>(slot.seed);
  p.i1 = static_cast<int64_t>(slot.offset);
  return p;
}
inline PhiloxSlot slot_of(const OpParams& p) {
  return {static_cast<uint64_t>(p.i0), static_cast<uint64_t>(p.i1)};
}
}  // namespace detail

/// uniform: values in [low, high).
struct UniformParams {
  PhiloxSlot slot{};
  double low = 0.0, high = 1.0;

  OpParams params() const { return detail::draw_params(slot, low, high); }
  static UniformParams from(const OpParams& p) {
    return {detail::slot_of(p), p.s0.to_double(), p.s1.to_double()};
  }
};

/// normal: values of mean `mean` and standard deviation `stddev`.
struct NormalParams {
  PhiloxSlot slot{};
  double mean = 0.0, stddev = 1.0;

  OpParams params() const { return detail::draw_params(slot, mean, stddev); }
  static NormalParams from(const OpParams& p) {
    return {detail::slot_of(p), p.s0.to_double(), p.s1.to_double()};
  }
};

/// randint: integers in [low, high).
struct RandintParams {
  PhiloxSlot slot{};
  int64_t low = 0, high = 0;

  OpParams params() const { return detail::draw_params(slot, low, high); }
  static RandintParams from(const OpParams& p) { return {detail::slot_of(p), p.s0.to_int(), p.s1.to_int()}; }
};

/// randperm: a permutation of 0..n-1 (n is the output's size).
struct RandpermParams {
  PhiloxSlot slot{};

  OpParams params() const { return detail::draw_params(slot); }
  static RandpermParams from(const OpParams& p) { return {detail::slot_of(p)}; }
};

}  // namespace nabla

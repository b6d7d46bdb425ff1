// Helpers for the backward formulas (derivatives_<family>.cpp). Formulas are written in
// nabla ops; they run with grad mode off, except under create_graph (double backward), when
// their ops record and the saved tensors are connected to the graph: a formula is then
// differentiable as long as every op it runs is (a backward primitive needs a formula too).
// GradMode::is_enabled() inside a formula tells create_graph apart, for the few formulas
// that take an in-place shortcut (writing into a fresh zeros tensor) autograd cannot record.
#pragma once

#include "autograd/node.h"
#include "dispatch/dispatch.h"
#include "nabla/factories.h"
#include "nabla/ops.h"

namespace nabla {

// derivatives_<family>.cpp, for each family of families.def with derivatives
#define NABLA_FAMILY(name, kernels, derivatives) void register_##name##_derivatives();
#include "dispatch/families.def"
#undef NABLA_FAMILY

inline constexpr uint32_t kIn0 = 1u << 0, kIn1 = 1u << 1, kIn2 = 1u << 2, kIn3 = 1u << 3, kIn4 = 1u << 4;
inline constexpr uint32_t kOut0 = 1u << 0;

/// Zeros shaped like input i of the forward op.
inline Tensor zeros_like_input(const BackwardCtx& c, std::size_t i) {
  const TensorMeta& m = c.in_meta[i];
  return zeros(m.sizes, TensorOptions(m.dtype).device(m.device));
}

}  // namespace nabla

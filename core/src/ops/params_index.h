// The parameters of the index family (gather, scatter_add, index_select, index_add, cat in
// ops.def; one_hot takes none: its class count is the preallocated output's last size) and how
// they travel in OpParams; read by the front ends (ops/index.cpp), the backward formulas
// (autograd/derivatives_index.cpp) and both backends' kernels (through tensor/index_views.h).
#pragma once

#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

struct IndexParams {
  int64_t dim = 0;  // the dim indexed along (gather ... index_add) or joined along (cat), wrapped

  OpParams params() const {
    OpParams o;
    o.dim = dim;
    return o;
  }
  static IndexParams from(const OpParams& o) { return IndexParams{o.dim}; }
};

}  // namespace nabla

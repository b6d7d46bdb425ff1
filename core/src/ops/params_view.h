// The parameters of the view ops (view, permute, slice, select, expand, as_strided in ops.def)
// and how they travel in OpParams: the front ends (view.cpp) record them on the autograd node,
// and the backward formulas (autograd/derivatives_view.cpp) read them back. The views
// themselves are made by the front ends (sizes, strides and offset over the same storage).
#pragma once

#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

/// view and expand: the new sizes.
struct ViewParams {
  Shape sizes;

  OpParams params() const {
    OpParams p;
    p.sizes = sizes;
    return p;
  }
  static ViewParams from(const OpParams& p) { return {p.sizes}; }
};

/// permute: output dim i is input dim dims[i].
struct PermuteParams {
  Shape dims;

  OpParams params() const {
    OpParams p;
    p.dims = dims;
    return p;
  }
  static PermuteParams from(const OpParams& p) { return {p.dims}; }
};

/// slice: elements start, start + step, ... of dim `dim`.
struct SliceParams {
  int64_t dim = 0, start = 0, step = 1;

  OpParams params() const {
    OpParams p;
    p.dim = dim;
    p.i0 = start;
    p.i1 = step;
    return p;
  }
  static SliceParams from(const OpParams& p) { return {p.dim, p.i0, p.i1}; }
};

/// select: element `index` of dim `dim` (the dim goes).
struct SelectParams {
  int64_t dim = 0, index = 0;

  OpParams params() const {
    OpParams p;
    p.dim = dim;
    p.i0 = index;
    return p;
  }
  static SelectParams from(const OpParams& p) { return {p.dim, p.i0}; }
};

/// as_strided: the view's own sizes, strides and storage offset.
struct AsStridedParams {
  Shape sizes, strides;
  int64_t offset = 0;

  OpParams params() const {
    OpParams p;
    p.sizes = sizes;
    p.strides = strides;
    p.offset = offset;
    return p;
  }
  static AsStridedParams from(const OpParams& p) { return {p.sizes, p.strides, p.offset}; }
};

}  // namespace nabla

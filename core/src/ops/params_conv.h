// The parameters of the convolution ops (conv2d, conv2d_backward_input, conv2d_backward_weight
// in ops.def) and how they travel in OpParams; read by the front end (conv.cpp), the backward
// formulas and both backends (cpu_fallback/conv.cpp, cuda/cudnn/conv.cpp).
#pragma once

#include <array>
#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

/// Window geometry of a 2-d convolution; index 0 is height, 1 width. The kernel size is the
/// weight's, so it is not a parameter.
struct ConvParams {
  std::array<int64_t, 2> stride{1, 1}, padding{0, 0}, dilation{1, 1};
  int64_t groups = 1;

  OpParams params() const {
    OpParams p;
    p.win.stride = stride;
    p.win.padding = padding;
    p.win.dilation = dilation;
    p.win.groups = groups;
    return p;
  }
  static ConvParams from(const OpParams& p) {
    return {p.win.stride, p.win.padding, p.win.dilation, p.win.groups};
  }
};

}  // namespace nabla

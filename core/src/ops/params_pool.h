// The parameters of the pooling ops (max_pool2d, avg_pool2d and their backward primitives in
// ops.def) and how they travel in OpParams; read by the front end (pool.cpp) and both backends
// (cpu_fallback/pool.cpp, cuda/kernels/pool.cu). A backward primitive takes its forward's
// parameters. adaptive_avg_pool2d has none: its windows follow from the input and output sizes.
#pragma once

#include <array>
#include <cstdint>

#include "dispatch/op.h"

namespace nabla {

/// Window geometry of 2-d pooling; index 0 is height, 1 width.
struct PoolParams {
  std::array<int64_t, 2> kernel{1, 1}, stride{1, 1}, padding{0, 0}, dilation{1, 1};
  bool ceil_mode = false;         // the output size rounds up (the front end's business)
  bool count_include_pad = true;  // avg_pool2d: padding counts in the divisor

  OpParams params() const {
    OpParams p;
    p.win.kernel = kernel;
    p.win.stride = stride;
    p.win.padding = padding;
    p.win.dilation = dilation;
    p.win.ceil_mode = ceil_mode;
    p.win.count_include_pad = count_include_pad;
    return p;
  }
  static PoolParams from(const OpParams& p) {
    return {p.win.kernel,   p.win.stride,    p.win.padding,
            p.win.dilation, p.win.ceil_mode, p.win.count_include_pad};
  }
};

}  // namespace nabla

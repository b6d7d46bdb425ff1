// Window geometry of convolution and pooling, shared by the front ends (output sizes), the CPU
// kernels (cpu_fallback/conv.cpp, pool.cpp) and the CUDA pooling kernels, so every path agrees
// on where a window starts, where it ends and what it divides by. Formulas follow PyTorch's.
#pragma once

#include <cstdint>

#include "core/math/scalar_math.h"

namespace nabla::math {

/// Output length of a convolution along one dim: floor((in + 2p - d(k-1) - 1) / s) + 1.
/// The caller checks that the dilated kernel fits the padded input (the result is then >= 1).
NABLA_HOST_DEVICE NABLA_INLINE int64_t conv_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d) {
  return (in + 2 * p - d * (k - 1) - 1) / s + 1;
}

/// Output length of a transposed convolution: (in - 1) s - 2p + d(k-1) + output_padding + 1.
NABLA_HOST_DEVICE NABLA_INLINE int64_t conv_transpose_out_size(int64_t in, int64_t k, int64_t s, int64_t p,
                                                               int64_t d, int64_t output_padding) {
  return (in - 1) * s - 2 * p + d * (k - 1) + output_padding + 1;
}

/// Output length of max/avg pooling. With ceil_mode the division rounds up, but the last
/// window must still start inside the input or its left padding (PyTorch's rule).
NABLA_HOST_DEVICE NABLA_INLINE int64_t pool_out_size(int64_t in, int64_t k, int64_t s, int64_t p, int64_t d,
                                                     bool ceil_mode) {
  const int64_t span = in + 2 * p - d * (k - 1) - 1;
  int64_t out = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
  if (ceil_mode && (out - 1) * s >= in + p) --out;
  return out;
}

/// Adaptive pooling window of output index i: [floor(i * in / out), ceil((i + 1) * in / out)).
NABLA_HOST_DEVICE NABLA_INLINE int64_t adaptive_begin(int64_t i, int64_t in, int64_t out) {
  return (i * in) / out;
}
NABLA_HOST_DEVICE NABLA_INLINE int64_t adaptive_end(int64_t i, int64_t in, int64_t out) {
  return ((i + 1) * in + out - 1) / out;
}

/// One average-pooling window along one dim: the clipped range [begin, end) of input indices
/// and the padded length (what count_include_pad divides by).
struct AvgWindow {
  int64_t begin, end, padded;
};
NABLA_HOST_DEVICE NABLA_INLINE AvgWindow avg_window(int64_t o, int64_t in, int64_t k, int64_t s, int64_t p) {
  int64_t b = o * s - p;
  int64_t e = b + k < in + p ? b + k : in + p;
  const int64_t padded = e - b;
  b = b > 0 ? b : 0;
  e = e < in ? e : in;
  return {b, e, padded};
}

/// The divisor of an average-pooling window (height and width windows).
NABLA_HOST_DEVICE NABLA_INLINE int64_t avg_divisor(const AvgWindow& h, const AvgWindow& w,
                                                   bool count_include_pad) {
  return count_include_pad ? h.padded * w.padded : (h.end - h.begin) * (w.end - w.begin);
}

}  // namespace nabla::math

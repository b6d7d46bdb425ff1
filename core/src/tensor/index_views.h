// The index family's operands as both backends' kernels walk them (cpu_fallback/index.cpp,
// cuda/kernels/index.cu), built once on the host from the kernel call: views over the call's
// tensors, no data touched. An indexed tensor is restrided with stride 0 along the indexed dim
// (ATen's trick), so an elementwise walk over the index's shape yields, per element, the start
// of its slice, and the kernel adds index * stride(dim).
#pragma once

#include <cstdint>
#include <vector>

#include "dispatch/dispatch.h"

namespace nabla {

/// `t` seen with `sizes` (as many dims as t or more), its own strides, and stride 0 along `dim`.
Tensor restride(const Tensor& t, const Shape& sizes, int64_t dim);
/// `t`'s leading elements seen with `sizes` (no larger than t's) and t's own strides.
Tensor with_sizes(const Tensor& t, const Shape& sizes);

/// gather and index_select as one take along dim: out[i] = x[i with index[i] along dim].
struct TakeOperands {
  Tensor out;    // the output
  Tensor index;  // int64, laid over out's shape (index_select's 1-D index has stride 0 off dim)
  Tensor x;      // the input restrided to out's shape (stride 0 along dim)
  int64_t dim = 0, size = 0, stride = 0;  // the dim; the input's size (an index's bound) and stride along it
  const char* name = nullptr;             // the op
};
TakeOperands take_operands(const KernelCall& c);

/// scatter_add and index_add as one add along dim: out[j with index[i] along dim] += src[i],
/// index and src of one shape, j = i off dim. out is c.out[0], which the kernel first fills
/// with the input, c.in[0].
struct AddOperands {
  Tensor out;
  Tensor index;  // int64 (index_add's 1-D index laid along dim over src's shape)
  Tensor src;    // (scatter_add's src cut to the index's shape)
  int64_t dim = 0;
  const char* name = nullptr;
};
AddOperands add_operands(const KernelCall& c);

/// cat: each input that takes part (legacy empty [0] inputs do not) and the part of out it fills.
struct CatSlice {
  Tensor dst;
  const Tensor* src = nullptr;
};
std::vector<CatSlice> cat_slices(const KernelCall& c);

}  // namespace nabla

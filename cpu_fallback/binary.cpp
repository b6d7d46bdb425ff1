// Reference CPU kernels of the binary family (arithmetic, comparisons, where): the shared table
// of core/math/binary_ops.h run through cpu_map.
#include "core/math/binary_ops.h"
#include "cpu_fallback/loops.h"

namespace nabla::cpu {

NABLA_BINARY_KERNELS(CpuLoop)

}  // namespace nabla::cpu

// Reference CPU kernels of the unary family and the activation derivatives: the shared table
// of core/math/unary_ops.h (op, dtypes, parameters, functor) run through cpu_map.
#include "core/math/unary_ops.h"
#include "cpu_fallback/loops.h"

namespace nabla::cpu {

NABLA_UNARY_KERNELS(CpuLoop)

}  // namespace nabla::cpu

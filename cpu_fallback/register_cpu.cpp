// Registers the reference CPU kernel of every op of ops.def. The CPU backend is complete by
// construction: an op without a `<name>_kernel` here fails to link.
#include "dispatch/dispatch.h"

namespace nabla {
namespace cpu {
#define NABLA_OP(name, family, diff) void name##_kernel(const KernelCall& c);
#include "dispatch/ops.def"
#undef NABLA_OP
}  // namespace cpu

void register_cpu() {
#define NABLA_OP(name, family, diff)                                  \
  register_family_kernel<OpFamily::family>(Op::name, DeviceType::CPU, \
                                           [](auto) { return &cpu::name##_kernel; });
#include "dispatch/ops.def"
#undef NABLA_OP
}

}  // namespace nabla

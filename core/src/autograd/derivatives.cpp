// Fills the derivative table: one registration function per op family of families.def.
#include "autograd/derivatives.h"

namespace nabla {

namespace {
// `call` is a generic lambda so that families without derivatives need no function to link.
template <OpFamily F, class Call>
void register_family(Call call) {
  if constexpr (family_info(F).derivatives) call(0);
}
}  // namespace

void register_derivatives() {
#define NABLA_FAMILY(name, kernels, derivatives) \
  register_family<OpFamily::name>([](auto) { register_##name##_derivatives(); });
#include "dispatch/families.def"
#undef NABLA_FAMILY
}

}  // namespace nabla

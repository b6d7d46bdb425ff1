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
#define NABLA_REGISTER_unary(name) register_kernel(Op::name, DeviceType::CPU, &cpu::name##_kernel);
#define NABLA_REGISTER_binary NABLA_REGISTER_unary
#define NABLA_REGISTER_reduce NABLA_REGISTER_unary
#define NABLA_REGISTER_linalg NABLA_REGISTER_unary
#define NABLA_REGISTER_softmax NABLA_REGISTER_unary
#define NABLA_REGISTER_index NABLA_REGISTER_unary
#define NABLA_REGISTER_copy NABLA_REGISTER_unary
#define NABLA_REGISTER_random NABLA_REGISTER_unary
#define NABLA_REGISTER_loss NABLA_REGISTER_unary
#define NABLA_REGISTER_optim NABLA_REGISTER_unary
#define NABLA_REGISTER_conv NABLA_REGISTER_unary
#define NABLA_REGISTER_pool NABLA_REGISTER_unary
#define NABLA_REGISTER_norm NABLA_REGISTER_unary
#define NABLA_REGISTER_rnn NABLA_REGISTER_unary
#define NABLA_REGISTER_view(name)  // views have no kernels
#define NABLA_OP(name, family, diff) NABLA_REGISTER_##family(name)
#include "dispatch/ops.def"
#undef NABLA_OP
}

}  // namespace nabla

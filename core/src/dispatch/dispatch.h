// The dispatcher: the kernel table [op][device] and run_op, the one path every op takes.
#pragma once

#include <span>
#include <vector>

#include "dispatch/op.h"

namespace nabla {

/// What a kernel receives. Inputs and outputs are validated and allocated by the front end;
/// kernels assume valid input.
struct KernelCall {
  Op op;
  std::span<const Tensor> in;
  std::span<Tensor> out;
  const OpParams& p;
};
using Kernel = void (*)(const KernelCall& call);

/// Registers a backend's kernel for an op (called from register_cpu()/register_cuda()).
void register_kernel(Op op, DeviceType device, Kernel kernel);
/// The kernel for (op, device), or nullptr.
Kernel find_kernel(Op op, DeviceType device);
/// Registers one ops.def row's kernel for a backend unless its family has none (views):
/// register_cpu()/register_cuda() call it for every op. `get` is a generic lambda returning
/// `&<backend>::<name>_kernel`; its body is instantiated only for families with kernels, so
/// view ops need no kernel, and any other op without one fails to link.
template <OpFamily F, class Get>
void register_family_kernel(Op op, DeviceType device, Get get) {
  if constexpr (family_info(F).kernels) register_kernel(op, device, get(0));
}
/// Whether a backend has registered itself (the CPU always has).
bool backend_registered(DeviceType device);
void mark_backend_registered(DeviceType device);

/// Ops a backend may lack on purpose, with the reason (the coverage test reads this).
struct CpuOnlyOp {
  Op op;
  const char* reason;
};
std::span<const CpuOnlyOp> cpu_only_ops();

/// Runs `op`: checks devices, finds the kernel (an error names op and device when there is
/// none), runs it, bumps the outputs' version counters, and records an autograd node when
/// grad mode is on, the op is differentiable and an input requires grad.
void run_op(Op op, std::span<const Tensor> inputs, std::span<Tensor> outputs, const OpParams& params = {});
/// Single-output convenience form.
Tensor run_op(Op op, std::initializer_list<Tensor> inputs, Tensor output, const OpParams& params = {});

/// Makes a view op's output (sizes/strides/offset over the input's storage) and records its
/// autograd node.
Tensor run_view(Op op, const Tensor& input, Shape sizes, Shape strides, int64_t offset,
                const OpParams& params);

/// Called once before the first op: registers the CPU kernels, the CUDA backend if a GPU is
/// present, and the autograd formulas.
void ensure_initialized();

}  // namespace nabla

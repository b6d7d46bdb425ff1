// The kernel table and run_op/run_view: device checks, kernel lookup, version bumps and
// autograd recording happen here, once, for every op.
#include "dispatch/dispatch.h"

#include <algorithm>
#include <array>
#include <mutex>

#include "autograd/node.h"
#include "nabla/autograd.h"
#include "tensor/tensor_impl.h"

namespace nabla {

void register_cpu();  // cpu_fallback/register_cpu.cpp
#ifdef NABLA_HAS_CUDA
void register_cuda();  // cuda/register_cuda.cpp: registers only when a device is present
#endif

namespace {
Kernel g_kernels[kNumOps][kNumDeviceTypes] = {};
bool g_backends[kNumDeviceTypes] = {};

// Ops a backend may lack on purpose, each with its reason. None yet: every op runs everywhere.
constexpr std::array<CpuOnlyOp, 0> kCpuOnly{};
}  // namespace

bool op_from_name(std::string_view name, Op* out) {
  for (int i = 0; i < kNumOps; ++i) {
    if (kOpInfo[i].name == name) {
      *out = static_cast<Op>(i);
      return true;
    }
  }
  return false;
}

std::span<const CpuOnlyOp> cpu_only_ops() {
  return std::span<const CpuOnlyOp>(kCpuOnly.data(), kCpuOnly.size());
}

void register_kernel(Op op, DeviceType device, Kernel kernel) {
  NABLA_INTERNAL_ASSERT(op_info(op).family != OpFamily::view, "view op {} takes no kernel", op_name(op));
  g_kernels[static_cast<int>(op)][static_cast<int>(device)] = kernel;
}

Kernel find_kernel(Op op, DeviceType device) {
  ensure_initialized();
  return g_kernels[static_cast<int>(op)][static_cast<int>(device)];
}

bool backend_registered(DeviceType device) {
  ensure_initialized();
  return g_backends[static_cast<int>(device)];
}

void mark_backend_registered(DeviceType device) { g_backends[static_cast<int>(device)] = true; }

void ensure_initialized() {
  static std::once_flag once;
  std::call_once(once, [] {
    register_cpu();
    mark_backend_registered(DeviceType::CPU);
#ifdef NABLA_HAS_CUDA
    register_cuda();
#endif
    register_derivatives();
  });
}

namespace {

// All tensors of one op live on one device; a 0-dim CPU tensor (a wrapped number) may join
// an op on another device, as in PyTorch.
Device common_device(Op op, std::span<const Tensor> inputs, std::span<Tensor> outputs) {
  // A copy between host and device runs on the device's backend, which handles both sides.
  if (op == Op::copy && inputs.size() == 1 && outputs.size() == 1 && inputs[0].defined() &&
      outputs[0].defined() && inputs[0].device() != outputs[0].device()) {
    return inputs[0].device().is_cpu() ? outputs[0].device() : inputs[0].device();
  }
  auto is_cpu_scalar = [](const Tensor& t) { return t.dim() == 0 && t.device().is_cpu(); };
  // the reference: the first operand that is not a wrapped number (names built only on error)
  const Tensor* ref = nullptr;
  std::size_t ref_index = 0;
  bool ref_is_output = false;
  for (std::size_t i = 0; i < inputs.size() && ref == nullptr; ++i) {
    if (inputs[i].defined() && !is_cpu_scalar(inputs[i])) ref = &inputs[i], ref_index = i;
  }
  for (std::size_t i = 0; i < outputs.size() && ref == nullptr; ++i) {
    if (outputs[i].defined() && !is_cpu_scalar(outputs[i]))
      ref = &outputs[i], ref_index = i, ref_is_output = true;
  }
  if (ref == nullptr) return Device::cpu();
  auto check = [&](const Tensor& t, const char* what, std::size_t i) {
    if (!t.defined() || t.device() == ref->device() || (is_cpu_scalar(t) && what[0] == 'i')) return;
    NABLA_FAIL("{}: expected all tensors on the same device, but {} {} is on {} and {} {} is on {}",
               op_name(op), what, i, t.device().str(), ref_is_output ? "output" : "input", ref_index,
               ref->device().str());
  };
  for (std::size_t i = 0; i < inputs.size(); ++i) check(inputs[i], "input", i);
  for (std::size_t i = 0; i < outputs.size(); ++i) check(outputs[i], "output", i);
  return ref->device();
}

// An input is saved as the tensor itself (autograd/node.h, SavedTensor), unless it is also an
// output of the op: then holding it would hold the node (a cycle), so it is saved as that output.
SavedTensor saved_input(const Tensor& t, std::span<Tensor> outputs) {
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    if (t.defined() && outputs[k].defined() && outputs[k].impl() == t.impl())
      return SavedTensor(t, static_cast<uint32_t>(k));
  }
  return SavedTensor(t);
}

void record(Op op, std::span<const Tensor> inputs, std::span<Tensor> outputs, const OpParams& params) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return;
  const Derivative& d = derivative(op);
  NABLA_INTERNAL_ASSERT(d.fn != nullptr, "op {} is marked differentiable but has no backward formula",
                        op_name(op));
  auto node = std::make_shared<OpNode>();
  node->op = op;
  node->params = params;
  node->seq = next_sequence_number();
  node->next.reserve(inputs.size());
  uint32_t needs = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    node->next.push_back(gradient_edge(t));
    if (i < 32 && node->next.back().valid()) needs |= 1u << i;
  }
  const uint32_t save_in = d.save_in_for != nullptr ? d.save_in_for(needs) : d.save_in;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    node->in_meta.push_back(t.defined() ? TensorMeta{t.sizes(), t.dtype(), t.device(), is_col_major(t)}
                                        : TensorMeta{});
    // bit 31 of save_in stands for input 31 and every later one (the recurrent op's weights)
    if (save_in & (1u << std::min<std::size_t>(i, 31))) {
      node->saved_in.resize(i + 1);
      node->saved_in[i] = saved_input(t, outputs);
    }
  }
  for (std::size_t k = 0; k < outputs.size(); ++k) {
    const Tensor& t = outputs[k];
    node->out_meta.push_back(TensorMeta{t.sizes(), t.dtype(), t.device()});
    if (k < 32 && (d.save_out & (1u << k))) {
      node->saved_out.resize(k + 1);
      node->saved_out[k] = SavedTensor(t, static_cast<uint32_t>(k));
    }
  }
  set_history(outputs, node);
}

}  // namespace

void run_op(Op op, std::span<const Tensor> inputs, std::span<Tensor> outputs, const OpParams& params) {
  ensure_initialized();
  const Device dev = common_device(op, inputs, outputs);
  Kernel k = g_kernels[static_cast<int>(op)][static_cast<int>(dev.type)];
  NABLA_CHECK(k != nullptr, "{}: no kernel registered for device {}{}", op_name(op), dev.str(),
              dev.is_cuda() && !g_backends[1] ? " (the CUDA backend is not available: no GPU was found, or "
                                                "nabla was built without CUDA)"
                                              : "");
  {
    NoGradGuard kernels_record_nothing;  // ops a kernel calls internally are not part of the graph
    k(KernelCall{op, inputs, outputs, params});
  }
  for (Tensor& o : outputs) {
    if (o.defined()) o.impl()->storage->version.fetch_add(1, std::memory_order_relaxed);
  }
  if (op_info(op).differentiable && GradMode::is_enabled()) record(op, inputs, outputs, params);
}

Tensor run_op(Op op, std::initializer_list<Tensor> inputs, Tensor output, const OpParams& params) {
  run_op(op, std::span<const Tensor>(inputs.begin(), inputs.size()), std::span<Tensor>(&output, 1), params);
  return output;
}

Tensor run_view(Op op, const Tensor& input, Shape sizes, Shape strides, int64_t offset,
                const OpParams& params) {
  ensure_initialized();
  const TensorImpl* in = input.impl();
  Tensor out = make_view_tensor(in->storage, std::move(sizes), std::move(strides), offset, in->dtype);
  out.impl()->is_view = true;
  if (op_info(op).differentiable && GradMode::is_enabled()) {
    record(op, std::span<const Tensor>(&input, 1), std::span<Tensor>(&out, 1), params);
  }
  return out;
}

}  // namespace nabla

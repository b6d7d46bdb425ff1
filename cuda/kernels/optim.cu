// CUDA kernels of the fused optimizer steps: a multi-tensor launch (as PyTorch's
// multi_tensor_apply) packs up to kTensors parameters, their gradients and state pointers
// into the kernel arguments; each block updates one chunk of one tensor with the shared rule
// of core/math/optim.h. A whole model of up to kTensors parameters of one dtype is one launch.
#include "core/math/optim.h"
#include "cuda/kernels/elementwise.cuh"
#include "cuda/launch.cuh"
#include "dispatch/dispatch.h"
#include "ops/params_optim.h"

namespace nabla::cuda {
namespace {

constexpr int kTensors = 24;
constexpr int64_t kChunk = 8192;  // elements per block

template <class T>
struct TensorPack {
  int count = 0;
  T* p[kTensors];
  const T* g[kTensors];
  T* s[math::kMaxOptimStates][kTensors];
  int64_t numel[kTensors];
  int64_t first_block[kTensors + 1];
};

template <class T, class Rule>
__global__ void __launch_bounds__(kBlock) multi_tensor_kernel(TensorPack<T> pack, Rule rule, int nstate) {
  using C = compute_t<T>;
  int t = 0;
  while (t + 1 < pack.count && blockIdx.x >= pack.first_block[t + 1]) ++t;
  const int64_t begin = (blockIdx.x - pack.first_block[t]) * kChunk;
  const int64_t end = min(begin + kChunk, pack.numel[t]);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    C pv = cvt<C>(pack.p[t][i]);
    C sv[math::kMaxOptimStates] = {};
    for (int j = 0; j < nstate; ++j) {
      if (pack.s[j][t] != nullptr) sv[j] = cvt<C>(pack.s[j][t][i]);
    }
    rule(pv, cvt<C>(pack.g[t][i]), sv);
    pack.p[t][i] = cvt<T>(pv);
    for (int j = 0; j < nstate; ++j) {
      if (pack.s[j][t] != nullptr) pack.s[j][t][i] = cvt<T>(sv[j]);
    }
  }
}

// Launches `rule` over params [begin, end) of the call, which share dtype T, as one pack.
template <class T, class Rule>
void launch_pack(const KernelCall& c, int64_t begin, int64_t end, const Rule& rule) {
  const int64_t k = static_cast<int64_t>(c.in.size());
  const int nstate = rule.states();
  const int d = c.out[begin].device().index;
  TensorPack<T> pack;
  int64_t blocks = 0;
  for (int64_t i = begin; i < end; ++i) {
    const int slot = pack.count++;
    pack.p[slot] = c.out[i].data_ptr<T>();
    pack.g[slot] = c.in[i].data_ptr<T>();
    for (int j = 0; j < math::kMaxOptimStates; ++j) {
      const Tensor* st = j < nstate ? &c.out[(1 + j) * k + i] : nullptr;
      pack.s[j][slot] = st != nullptr && st->defined() ? st->data_ptr<T>() : nullptr;
    }
    pack.numel[slot] = c.out[i].numel();
    pack.first_block[slot] = blocks;
    blocks += (pack.numel[slot] + kChunk - 1) / kChunk;
  }
  pack.first_block[pack.count] = blocks;
  if (blocks == 0) return;
  set_device(d);
  NABLA_LAUNCH(multi_tensor_kernel<T, Rule>, static_cast<unsigned>(blocks), kBlock, 0, stream(d), pack, rule,
               nstate);
}

// Launches `rule` over every parameter of the call (k gradients in c.in). A pack holds up to
// kTensors parameters of one dtype (the kernel is compiled per element type): a model that
// mixes dtypes, such as float32 master weights next to float16 ones, gets a new pack wherever
// the dtype changes.
template <class Rule>
void multi_tensor_apply(const KernelCall& c, const Rule& rule) {
  const int64_t k = static_cast<int64_t>(c.in.size());
  for (int64_t begin = 0; begin < k;) {
    const ScalarType t = c.out[begin].dtype();
    int64_t end = begin + 1;
    while (end < k && end - begin < kTensors && c.out[end].dtype() == t) ++end;
    visit_float(t, op_name(c.op).data(), [&]<class T>() { launch_pack<T>(c, begin, end, rule); });
    begin = end;
  }
}

void step(const KernelCall& c) {
  visit_optim_rule(c.op, c.p, [&](const auto& rule) { multi_tensor_apply(c, rule); });
}

}  // namespace

NABLA_DEFINE_OPTIM_KERNELS()

}  // namespace nabla::cuda

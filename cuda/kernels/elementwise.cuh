// The CUDA elementwise launcher: cuda_map<Out, In...>(out, {inputs}, f) runs a core/math
// functor over the broadcast geometry of make_elementwise_geometry (the same one the CPU loop
// walks), so one functor serves both backends. 0-dim CPU inputs (wrapped numbers) travel by
// value in the launch arguments. Contiguous operands take an index-only fast path; others
// compute per-operand offsets from the coalesced sizes and strides (dims that are contiguous in
// every operand are merged by make_elementwise_geometry), in 32-bit index math when the
// element count and every operand's span fit int32, as ATen's OffsetCalculator does.
#pragma once

#include <array>
#include <type_traits>

#include "core/math/convert.h"
#include "cuda/launch.cuh"
#include "cuda/runtime.h"
#include "dispatch/visit.h"
#include "tensor/iter.h"
#include "tensor/tensor_impl.h"

namespace nabla::cuda {

inline constexpr int kMaxDims = 12;

using math::cvt;  // the CUDA kernels convert elements unqualified

struct DeviceGeometry {
  int ndim = 1;
  int nops = 1;
  bool contiguous = false;  // every operand dense (or a scalar): element i is at i
  bool index32 = false;     // every element index and offset fits int32: 32-bit index math
  int64_t sizes[kMaxDims];
  int64_t strides[kMaxOperands][kMaxDims];  // elements
  char* data[kMaxOperands];
  bool scalar[kMaxOperands];  // operand k is a host scalar held in value[k]
  double value[kMaxOperands];
  int64_t ivalue[kMaxOperands];
};

/// The geometry of out = f(inputs...), with CPU 0-dim inputs turned into by-value scalars.
DeviceGeometry device_geometry(const Tensor& out, std::span<const Tensor> inputs);

template <class T>
__device__ inline T load(const DeviceGeometry& g, int k, int64_t offset) {
  if (g.scalar[k]) {
    if constexpr (std::is_integral_v<T>)
      return static_cast<T>(g.ivalue[k]);
    else
      return cvt<T>(g.value[k]);
  }
  return reinterpret_cast<const T*>(g.data[k])[offset];
}

template <class... In>
struct TypeList {};
template <class L>
inline constexpr std::size_t kCount = 0;
template <class... In>
inline constexpr std::size_t kCount<TypeList<In...>> = sizeof...(In);

template <class Out, class... In, class F, std::size_t... I>
__device__ inline void apply_one(TypeList<In...>, const DeviceGeometry& g, const F& f, const int64_t* off,
                                 std::index_sequence<I...>) {
  reinterpret_cast<Out*>(g.data[0])[off[0]] =
      cvt<Out>(f(cvt<compute_t<In>>(load<In>(g, static_cast<int>(I) + 1, off[I + 1]))...));
}

// The per-operand offsets of element i of a strided geometry. With k32 (g.index32) the
// divisions and products run in 32 bits: a 64-bit division is a ~70-instruction software
// routine on the GPU, a 32-bit unsigned one about a fifth of that, and there is one per dim
// per element. Offsets are summed in uint32 and read back as int32, which is exact because
// every offset's partial sums stay within int32 (device_geometry checks the span).
template <bool k32>
__device__ inline void strided_offsets(const DeviceGeometry& g, int64_t i, int64_t* off) {
  if constexpr (k32) {
    uint32_t o[kMaxOperands] = {};
    auto rem = static_cast<uint32_t>(i);
    for (int d = g.ndim - 1; d >= 0; --d) {
      const auto size = static_cast<uint32_t>(g.sizes[d]);
      const uint32_t c = rem % size;
      rem /= size;
      for (int k = 0; k < g.nops; ++k) o[k] += c * static_cast<uint32_t>(g.strides[k][d]);
    }
    for (int k = 0; k < g.nops; ++k) off[k] = static_cast<int32_t>(o[k]);
  } else {
    int64_t rem = i;
    for (int d = g.ndim - 1; d >= 0; --d) {
      const int64_t c = rem % g.sizes[d];
      rem /= g.sizes[d];
      for (int k = 0; k < g.nops; ++k) off[k] += c * g.strides[k][d];
    }
  }
}

// CUDA allows one trailing parameter pack on a __global__ template: the input types travel
// as a TypeList and are unpacked in apply_one.
template <class Out, class Ins, bool k32, class F>
__global__ void __launch_bounds__(kBlock) elementwise_kernel(int64_t n, DeviceGeometry g, F f) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[kMaxOperands] = {};
    if (g.contiguous) {
      for (int k = 0; k < g.nops; ++k) off[k] = i;
    } else {
      strided_offsets<k32>(g, i, off);
    }
    apply_one<Out>(Ins{}, g, f, off, std::make_index_sequence<kCount<Ins>>{});
  }
}

/// out[i] = f(in0[i], ...) on out's device; In are the inputs' element types and f receives
/// their compute types.
template <class Out, class... In, class F>
void cuda_map(const Tensor& out, std::array<Tensor, sizeof...(In)> inputs, const F& f) {
  const int64_t n = out.numel();
  if (n == 0) return;
  const DeviceGeometry g = device_geometry(out, std::span<const Tensor>(inputs.data(), inputs.size()));
  const int device = out.device().index;
  set_device(device);
  if (g.index32 || g.contiguous) {
    NABLA_LAUNCH(elementwise_kernel<Out, TypeList<In...>, true, F>, grid_size(n), kBlock, 0, stream(device),
                 n, g, f);
  } else {
    NABLA_LAUNCH(elementwise_kernel<Out, TypeList<In...>, false, F>, grid_size(n), kBlock, 0, stream(device),
                 n, g, f);
  }
}

/// The loop the shared elementwise kernel tables (core/math/*_ops.h) run through on the GPU.
struct CudaLoop {
  template <class Out, class... In, class F>
  static void map(const Tensor& out, std::array<Tensor, sizeof...(In)> inputs, const F& f) {
    cuda_map<Out, In...>(out, std::move(inputs), f);
  }
};

}  // namespace nabla::cuda

namespace nabla::cuda {

/// Calls body(i, off) for every element i of a geometry, with off[k] the element offset of
/// operand k (for kernels that index through an operand, such as gather).
template <bool k32, class Body>
__global__ void __launch_bounds__(kBlock) offsets_kernel(int64_t n, DeviceGeometry g, Body body) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(blockDim.x) * gridDim.x) {
    int64_t off[kMaxOperands] = {};
    strided_offsets<k32>(g, i, off);
    body(g, off);
  }
}

template <class Body>
void launch_offsets(const Tensor& out, std::span<const Tensor> inputs, int64_t n, const Body& body) {
  if (n == 0) return;
  const DeviceGeometry g = device_geometry(out, inputs);
  const int device = out.device().index;
  set_device(device);
  if (g.index32 && n <= INT32_MAX) {
    NABLA_LAUNCH(offsets_kernel<true, Body>, grid_size(n), kBlock, 0, stream(device), n, g, body);
  } else {
    NABLA_LAUNCH(offsets_kernel<false, Body>, grid_size(n), kBlock, 0, stream(device), n, g, body);
  }
}

}  // namespace nabla::cuda

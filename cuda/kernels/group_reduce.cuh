// Fixed-order reductions across the threads of a warp or a block, shared by the kernels that
// reduce a row per group of threads (softmax, reductions, layer and batch norm). Lanes combine
// in a shuffle tree and warps left to right in thread 0: the order depends only on the launch
// shape, never on timing, so results are bitwise repeatable without atomics.
#pragma once

#include <cstring>

namespace nabla::cuda {

/// Any trivially copyable value through __shfl_down_sync, one 32-bit word at a time.
template <class A>
__device__ inline A shfl_down(const A& v, unsigned delta) {
  constexpr int kWords = static_cast<int>((sizeof(A) + 3) / 4);
  unsigned words[kWords] = {};
  memcpy(words, &v, sizeof(A));
#pragma unroll
  for (int w = 0; w < kWords; ++w) words[w] = __shfl_down_sync(0xffffffffu, words[w], delta);
  A r;
  memcpy(&r, words, sizeof(A));
  return r;
}

/// Lane 0's value, given to every lane of the warp.
template <class A>
__device__ inline A shfl_lane0(const A& v) {
  constexpr int kWords = static_cast<int>((sizeof(A) + 3) / 4);
  unsigned words[kWords] = {};
  memcpy(words, &v, sizeof(A));
#pragma unroll
  for (int w = 0; w < kWords; ++w) words[w] = __shfl_sync(0xffffffffu, words[w], 0);
  A r;
  memcpy(&r, words, sizeof(A));
  return r;
}

/// Combines the G lanes' values in a fixed order and gives every lane the result. G = 32 uses
/// whole warps; G = blockDim.x (a multiple of 32) uses the block; every lane of the group must
/// call it.
template <int G, class A, class C>
__device__ inline A group_combine(A a, const C& combine) {
  if constexpr (G == 1) {
    return a;
  } else {
    for (unsigned off = 16; off > 0; off >>= 1) a = combine(a, shfl_down(a, off));
    if constexpr (G == 32) {
      return shfl_lane0(a);
    } else {
      __shared__ alignas(16) unsigned char raw[33 * sizeof(A)];
      A* smem = reinterpret_cast<A*>(raw);
      const unsigned nwarps = blockDim.x / 32, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
      __syncthreads();  // the previous row's result may still be being read
      if (lane == 0) smem[warp] = a;
      __syncthreads();
      if (threadIdx.x == 0) {
        for (unsigned w = 1; w < nwarps; ++w) a = combine(a, smem[w]);
        smem[32] = a;
      }
      __syncthreads();
      return smem[32];
    }
  }
}

template <class A>
struct AddCombine {
  __device__ A operator()(A a, A b) const { return a + b; }
};

}  // namespace nabla::cuda

// The one way nabla's CUDA kernels are launched: NABLA_LAUNCH(kernel, grid, block, shmem,
// stream, args...) skips an empty grid (a grid of 0 blocks is cudaErrorInvalidConfiguration,
// and an op over 0 elements has nothing to do), checks the grid against the hardware's limits
// (x < 2^31, y and z <= 65535) and checks the launch, naming the kernel, file and line.
// grid_size() gives the block count of a grid-stride loop. Block sizes are named constants
// shared with the kernels' __launch_bounds__, so registers are capped at compile time and a
// launch cannot ask for more resources than the kernel was compiled for. Only for .cu files.
#pragma once

#include <algorithm>
#include <cstdint>
#include <utility>

#include "cuda/runtime.h"

namespace nabla::cuda {

/// The block size of the one-thread-per-element grid-stride kernels.
inline constexpr int kBlock = 256;
/// The most blocks a grid-stride loop is given; its threads cover the rest.
inline constexpr int64_t kMaxStrideBlocks = 65535LL * 8;

/// Blocks of `block` threads for a grid-stride loop over n items: 0 for n <= 0 (the launch is
/// then skipped), at most `cap`.
inline unsigned grid_size(int64_t n, int64_t block = kBlock, int64_t cap = kMaxStrideBlocks) {
  if (n <= 0) return 0;
  return static_cast<unsigned>(std::min((n + block - 1) / block, cap));
}

namespace detail {

struct LaunchSite {
  const char* file;
  int line;
};

/// false for an empty grid (nothing to launch); throws for one the hardware cannot run.
inline bool launchable(const LaunchSite& at, dim3 grid, dim3 block) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0) return false;
  NABLA_INTERNAL_ASSERT(grid.x <= 0x7fffffffu && grid.y <= 65535u && grid.z <= 65535u,
                        "kernel launch at {}:{}: grid ({}, {}, {}) exceeds the limits (2^31-1, 65535, 65535)",
                        at.file, at.line, grid.x, grid.y, grid.z);
  NABLA_INTERNAL_ASSERT(block.x * block.y * block.z > 0 && block.x * block.y * block.z <= 1024,
                        "kernel launch at {}:{}: block ({}, {}, {}) is not 1 to 1024 threads", at.file,
                        at.line, block.x, block.y, block.z);
  return true;
}

template <class... P, class... A>
void launch_kernel(const LaunchSite& at, void (*kernel)(P...), dim3 grid, dim3 block, std::size_t shmem,
                   cudaStream_t st, A&&... args) {
  if (!launchable(at, grid, block)) return;
  kernel<<<grid, block, shmem, st>>>(std::forward<A>(args)...);
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess) [[unlikely]]
    throw_cuda_error(err, "kernel launch", at.file, at.line);
}

}  // namespace detail
}  // namespace nabla::cuda

/// NABLA_LAUNCH(kernel, grid, block, shmem, stream, args...) launches `kernel` (template
/// arguments allowed) unless the grid is empty; the launch is checked and a failure names the
/// file and line.
#define NABLA_LAUNCH(...) \
  ::nabla::cuda::detail::launch_kernel(::nabla::cuda::detail::LaunchSite{__FILE__, __LINE__}, __VA_ARGS__)

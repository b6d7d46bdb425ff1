// Library handles (cuBLAS, cuDNN) per (host thread, device), pooled across thread lifetimes;
// the one lookup behind cublas/matmul.cu's and cudnn/handle.cpp's handle(device). Internal to
// cuda/.
//
// A handle is never used by two host threads at once: cuDNN forbids it, and cuBLAS advises
// against it (a handle's configuration and its workspace are shared by every call through it,
// and two threads' multi-kernel calls would interleave in one stream over one workspace). So
// each (thread, device) gets its own handle, as PyTorch's handle pools do. Creating one costs
// milliseconds and some device memory, so a thread that ends gives its handles back to the pool
// and the next new thread takes one instead of creating another: a program that starts threads
// again and again holds as many handles as it ever had threads at once, not as many as it
// started. Handles are never destroyed (library calls may run until exit), nor is the pool:
// thread-exit returns may come during process exit.
#pragma once

#include <array>
#include <mutex>
#include <string_view>
#include <vector>

#include "nabla/error.h"

namespace nabla::cuda {

inline constexpr int kMaxHandleDevices = 64;

/// The calling thread's handle for `device`: created by `create(device)` on the thread's first
/// use (or taken from the handles of threads that have ended). `library` names the library in
/// the error for a device out of range. Keep the returned handle within the calling thread.
template <class H, H (*create)(int device)>
H thread_handle(int device, std::string_view library) {
  NABLA_CHECK(device >= 0 && device < kMaxHandleDevices, "{}: device {} out of range (at most {} devices)",
              library, device, kMaxHandleDevices);
  struct Pool {
    std::mutex mutex;
    std::array<std::vector<H>, kMaxHandleDevices> idle;
  };
  static Pool* pool = new Pool();
  // The calling thread's handles; returned to the pool when the thread ends.
  struct Mine {
    std::array<H, kMaxHandleDevices> h{};
    Mine() = default;
    Mine(const Mine&) = delete;
    Mine& operator=(const Mine&) = delete;
    ~Mine() {
      const std::lock_guard<std::mutex> lock(pool->mutex);
      for (int d = 0; d < kMaxHandleDevices; ++d) {
        if (h[d] != nullptr) pool->idle[d].push_back(h[d]);
      }
    }
  };
  thread_local Mine mine;
  if (mine.h[device] != nullptr) return mine.h[device];
  {
    const std::lock_guard<std::mutex> lock(pool->mutex);
    if (!pool->idle[device].empty()) {
      mine.h[device] = pool->idle[device].back();
      pool->idle[device].pop_back();
      return mine.h[device];
    }
  }
  mine.h[device] = create(device);
  return mine.h[device];
}

}  // namespace nabla::cuda

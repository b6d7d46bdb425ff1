// The CUDA caching allocator: freed blocks go to per-device free lists keyed by size and are
// reused for later requests of a similar size, so a training loop stops calling cudaMalloc
// after its first steps. NABLA_CUDA_NO_CACHE=1 bypasses the cache (every buffer is a
// cudaMalloc/cudaFree pair) so compute-sanitizer sees each one. When cudaMalloc fails, the
// cache is released and the call retried before OutOfMemoryError is thrown.
//
// Not yet here (issue 3): splitting large cached blocks, and free lists per stream (there is
// one stream per device, so reuse in stream order is safe).
#include <cstdlib>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "cuda/kernel_report.h"
#include "cuda/runtime.h"
#include "nabla/cuda.h"
#include "tensor/tensor_impl.h"

namespace nabla::cuda {
namespace {

constexpr std::size_t kSmall = 1 << 20;       // requests up to 1 MiB round to 512 bytes
constexpr std::size_t kLargeRound = 2 << 20;  // larger ones to 2 MiB

std::size_t round_size(std::size_t n) {
  const std::size_t r = n <= kSmall ? 512 : kLargeRound;
  return (n + r - 1) / r * r;
}

struct DeviceCache {
  std::multimap<std::size_t, void*> free_blocks;
  std::unordered_map<void*, std::size_t> live;  // pointer -> block size
  MemoryStats stats;
};

class CachingAllocator {
 public:
  CachingAllocator()
      : bypass_(std::getenv("NABLA_CUDA_NO_CACHE") != nullptr &&
                std::string(std::getenv("NABLA_CUDA_NO_CACHE")) == "1") {}

  void* allocate(std::size_t nbytes, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceCache& c = caches_[device];
    const std::size_t size = bypass_ ? nbytes : round_size(nbytes);
    void* p = nullptr;
    if (!bypass_) {
      // best fit among cached blocks at most twice the size (beyond that, waste dominates)
      auto it = c.free_blocks.lower_bound(size);
      if (it != c.free_blocks.end() && it->first <= 2 * size) {
        p = it->second;
        const std::size_t got = it->first;
        c.free_blocks.erase(it);
        c.live[p] = got;
        c.stats.allocated += got;
        c.stats.peak = std::max(c.stats.peak, c.stats.allocated);
        return p;
      }
    }
    set_device(device);
    cudaError_t err = cudaMalloc(&p, size);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();  // an OOM is expected here: cleared, then retried with the cache released
      release_cached(device, c);
      err = cudaMalloc(&p, size);
    }
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      std::size_t free_b = 0, total_b = 0;
      // only for the message: if the query fails too, report zeros and clear its error
      if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) cudaGetLastError();
      throw OutOfMemoryError(
          fmt::format(
              "CUDA out of memory on cuda:{}: tried to allocate {} bytes; {} bytes free of {}, {} bytes "
              "allocated by nabla, {} bytes cached",
              device, nbytes, free_b, total_b, c.stats.allocated, c.stats.reserved - c.stats.allocated),
          nbytes);
    }
    NABLA_CUDA_CHECK(err);
    c.stats.num_mallocs += 1;
    c.stats.reserved += size;
    c.stats.allocated += size;
    c.stats.peak = std::max(c.stats.peak, c.stats.allocated);
    c.live[p] = size;
    return p;
  }

  void release(void* p, int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    DeviceCache& c = caches_[device];
    auto it = c.live.find(p);
    if (it == c.live.end()) return;  // not ours: nothing to do (never throw from a deleter)
    const std::size_t size = it->second;
    c.live.erase(it);
    c.stats.allocated -= size;
    if (bypass_) {
      // A deleter must not throw. cudaFree fails here only with the error of an earlier
      // kernel: clear it, so that it is not reported against the next launch (a sticky
      // error, such as an illegal address, persists and is reported by the next checked call).
      if (cudaFree(p) != cudaSuccess) cudaGetLastError();
      c.stats.reserved -= size;
      return;
    }
    c.free_blocks.emplace(size, p);
  }

  void empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& [device, c] : caches_) release_cached(device, c);
  }

  MemoryStats stats(int device) {
    std::lock_guard<std::mutex> lock(mutex_);
    return caches_[device].stats;
  }

 private:
  // Returns the device's cached blocks to the driver (checked: a failure throws nabla::Error
  // and leaves no error behind). A block leaves the free list before its cudaFree, so the
  // books stay right when one fails.
  void release_cached(int device, DeviceCache& c) {
    if (c.free_blocks.empty()) return;
    set_device(device);
    NABLA_CUDA_CHECK(cudaDeviceSynchronize());  // cached blocks may still be read by queued kernels
    while (!c.free_blocks.empty()) {
      const auto [size, p] = *c.free_blocks.begin();
      c.free_blocks.erase(c.free_blocks.begin());
      c.stats.reserved -= size;
      NABLA_CUDA_CHECK(cudaFree(p));
    }
  }

  std::mutex mutex_;
  std::map<int, DeviceCache> caches_;
  bool bypass_;
};

CachingAllocator& allocator() {
  static CachingAllocator* a = new CachingAllocator();  // never destroyed: frees may come at exit
  return *a;
}

void cuda_free(void* p, Device d) { allocator().release(p, d.index); }

}  // namespace

std::shared_ptr<Storage> cuda_allocate(std::size_t nbytes, Device device) {
  NABLA_CHECK(device.index >= 0 && device.index < cuda_device_count(),
              "cannot allocate on {}: {} CUDA device(s) found", device.str(), cuda_device_count());
  auto s = std::make_shared<Storage>();
  s->device = device;
  s->nbytes = nbytes;
  if (nbytes > 0) s->data = allocator().allocate(nbytes, device.index);
  s->deleter = &cuda_free;
  return s;
}

MemoryStats memory_stats(int device) {
  NABLA_CHECK(device >= 0 && device < std::max(cuda_device_count(), 1), "cuda: device {} does not exist",
              device);
  return cuda_device_count() > 0 ? allocator().stats(device) : MemoryStats{};
}

void empty_cache() {
  if (cuda_device_count() > 0) allocator().empty_cache();
}

void synchronize() {
  for (int d = 0; d < cuda_device_count(); ++d) synchronize_stream(d);  // raises queued kernel reports
}

void* current_stream(int device) {
  NABLA_CHECK(device >= 0 && device < cuda_device_count(),
              "cuda::current_stream: device {} does not exist ({} found)", device, cuda_device_count());
  return stream(device);
}

void make_stream_wait(std::intptr_t consumer, int device) {
  NABLA_CHECK(device >= 0 && device < cuda_device_count(),
              "cuda::make_stream_wait: device {} does not exist ({} found)", device, cuda_device_count());
  NABLA_CHECK(consumer != 0,
              "cuda::make_stream_wait: stream 0 is ambiguous (DLPack: 1 is the legacy default "
              "stream, 2 the per-thread default)");
  const cudaStream_t other = consumer == 1   ? cudaStreamLegacy
                             : consumer == 2 ? cudaStreamPerThread
                                             : reinterpret_cast<cudaStream_t>(consumer);
  const cudaStream_t ours = stream(device);
  if (other == ours) return;
  set_device(device);
  cudaEvent_t e = nullptr;
  NABLA_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  const cudaError_t rec = cudaEventRecord(e, ours);
  const cudaError_t wait = rec == cudaSuccess ? cudaStreamWaitEvent(other, e, 0) : rec;
  cudaEventDestroy(e);  // released once the wait has been satisfied
  NABLA_CUDA_CHECK(wait);
}

void wait_stream_quietly(int device) noexcept {
  if (device < 0 || device >= cuda_device_count()) return;
  // no report read here: a pending bad-index report stays for the next synchronisation point
  if (cudaSetDevice(device) == cudaSuccess) cudaStreamSynchronize(stream(device));
  cudaGetLastError();
}

EventTimer::EventTimer(int device) : device_(device) {
  NABLA_CHECK(device >= 0 && device < cuda_device_count(),
              "cuda::EventTimer: device {} does not exist ({} found)", device, cuda_device_count());
  set_device(device);
  cudaEvent_t a = nullptr, b = nullptr;
  NABLA_CUDA_CHECK(cudaEventCreate(&a));
  if (cudaEventCreate(&b) != cudaSuccess) {
    cudaEventDestroy(a);
    NABLA_CUDA_CHECK(cudaGetLastError());
  }
  start_ = a;
  stop_ = b;
}

EventTimer::~EventTimer() {
  // destructors must not throw: a failure here leaves nothing to clean up but the error state
  if (start_ != nullptr) cudaEventDestroy(static_cast<cudaEvent_t>(start_));
  if (stop_ != nullptr) cudaEventDestroy(static_cast<cudaEvent_t>(stop_));
  cudaGetLastError();
}

void EventTimer::start() {
  set_device(device_);
  NABLA_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(start_), stream(device_)));
}

double EventTimer::stop() {
  set_device(device_);
  NABLA_CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(stop_), stream(device_)));
  NABLA_CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(stop_)));
  float ms = 0;
  NABLA_CUDA_CHECK(
      cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start_), static_cast<cudaEvent_t>(stop_)));
  return ms;
}

}  // namespace nabla::cuda

// Storage allocation and TensorImpl helpers.
#include "tensor/tensor_impl.h"

#include <fmt/ranges.h>

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <vector>

#include "dispatch/dispatch.h"

namespace nabla {
namespace {

constexpr std::size_t kAlign = 64;

void cpu_free(void* p, Device) { std::free(p); }

// Large CPU blocks are kept for reuse once freed. glibc serves a 64-byte aligned request of
// several MiB from fresh heap (its aligned path asks for more than the freed chunk holds), so
// each new 4 MiB output of an elementwise op landed at a new address, out of cache: a 1M
// float relu ran at half speed. A reused block is the most recently freed one of its size,
// still in cache and with its pages mapped. Blocks carry their size in a kAlign-byte header.
class BlockCache {
 public:
  static constexpr std::size_t kMinBytes = std::size_t{128} << 10;  // glibc does well below
  static constexpr std::size_t kMaxBytes = std::size_t{64} << 20;   // one block at most
  static constexpr std::size_t kCapBytes = std::size_t{256} << 20;  // all cached blocks

  // Size class of a request: whole 4 KiB pages, so near sizes share blocks.
  static std::size_t block_bytes(std::size_t nbytes) { return (nbytes + 4095) / 4096 * 4096; }

  void* take(std::size_t bytes) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (std::size_t i = blocks_.size(); i-- > 0;) {
        if (blocks_[i].bytes != bytes) continue;
        char* base = blocks_[i].base;
        blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(i));
        cached_ -= bytes;
        return base + kAlign;
      }
    }
    char* base = static_cast<char*>(std::aligned_alloc(kAlign, bytes + kAlign));
    if (base == nullptr) {  // the cached blocks go back to the system before out of memory is said
      release_all();
      base = static_cast<char*>(std::aligned_alloc(kAlign, bytes + kAlign));
    }
    if (base == nullptr) return nullptr;
    std::memcpy(base, &bytes, sizeof(bytes));
    return base + kAlign;
  }

  void give(void* data) {
    char* base = static_cast<char*>(data) - kAlign;
    std::size_t bytes = 0;
    std::memcpy(&bytes, base, sizeof(bytes));
    std::vector<char*> evicted;
    {
      std::lock_guard<std::mutex> lock(mu_);
      blocks_.push_back({base, bytes});
      cached_ += bytes;
      std::size_t drop = 0;  // oldest first
      while (cached_ > kCapBytes) {
        cached_ -= blocks_[drop].bytes;
        evicted.push_back(blocks_[drop].base);
        ++drop;
      }
      blocks_.erase(blocks_.begin(), blocks_.begin() + static_cast<std::ptrdiff_t>(drop));
    }
    for (char* b : evicted) std::free(b);
  }

  void release_all() {
    std::vector<Block> all;
    {
      std::lock_guard<std::mutex> lock(mu_);
      all.swap(blocks_);
      cached_ = 0;
    }
    for (const Block& b : all) std::free(b.base);
  }

 private:
  struct Block {
    char* base;
    std::size_t bytes;
  };
  std::mutex mu_;
  std::vector<Block> blocks_;  // most recently freed last
  std::size_t cached_ = 0;
};

// Never destroyed: storages freed by static destructors at exit still find it.
BlockCache& block_cache() {
  static BlockCache* cache = new BlockCache;
  return *cache;
}

void cpu_free_cached(void* p, Device) { block_cache().give(p); }

std::shared_ptr<Storage> cpu_allocate(std::size_t nbytes, Device device) {
  auto s = std::make_shared<Storage>();
  s->device = device;
  s->nbytes = nbytes;
  s->deleter = &cpu_free;
  if (nbytes > 0) {
    const std::size_t rounded = (nbytes + kAlign - 1) / kAlign * kAlign;
    if (rounded < nbytes) {
      throw OutOfMemoryError(fmt::format("out of memory: cannot allocate {} bytes on cpu", nbytes), nbytes);
    }
    if (nbytes >= BlockCache::kMinBytes && nbytes <= BlockCache::kMaxBytes) {
      s->data = block_cache().take(BlockCache::block_bytes(nbytes));
      s->deleter = &cpu_free_cached;
    } else {
      s->data = std::aligned_alloc(kAlign, rounded);
    }
    if (s->data == nullptr) {
      throw OutOfMemoryError(fmt::format("out of memory: cannot allocate {} bytes ({:.2f} GiB) on cpu",
                                         nbytes, static_cast<double>(nbytes) / (1024.0 * 1024.0 * 1024.0)),
                             nbytes);
    }
  }
  return s;
}

StorageAllocator g_allocators[kNumDeviceTypes] = {&cpu_allocate, nullptr};

}  // namespace

void set_storage_allocator(DeviceType type, StorageAllocator alloc) {
  g_allocators[static_cast<int>(type)] = alloc;
}

std::shared_ptr<Storage> allocate_storage(std::size_t nbytes, Device device) {
  ensure_initialized();
  StorageAllocator a = g_allocators[static_cast<int>(device.type)];
  NABLA_CHECK(a != nullptr, "cannot allocate on {}: the {} backend is not available{}", device.str(),
              device_type_name(device.type),
              device.is_cuda() ? " (no CUDA device was found, or nabla was built without CUDA)" : "");
  return a(nbytes, device);
}

int64_t TensorImpl::numel() const {
  int64_t n = 1;
  for (int64_t s : sizes) n *= s;
  return n;
}

int64_t checked_numel(const Shape& sizes, std::string_view op) {
  int64_t n = 1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    NABLA_CHECK(sizes[i] >= 0, "{}: negative size {} at dim {} of shape {}", op, sizes[i], i,
                shape_to_string(sizes));
  }
  for (int64_t s : sizes) {
    NABLA_CHECK(!__builtin_mul_overflow(n, s, &n), "{}: the number of elements of shape {} overflows int64",
                op, shape_to_string(sizes));
  }
  return n;
}

Shape contiguous_strides(const Shape& sizes) {
  Shape st(sizes.size());
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= sizes[i] > 1 ? sizes[i] : 1;
  }
  return st;
}

bool is_contiguous_layout(const Shape& sizes, const Shape& strides) {
  int64_t expected = 1;
  for (int64_t i = static_cast<int64_t>(sizes.size()) - 1; i >= 0; --i) {
    if (sizes[i] == 1) continue;
    if (sizes[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= sizes[i];
  }
  return true;
}

Tensor make_tensor(const Shape& sizes, ScalarType dtype, Device device, std::string_view op) {
  const int64_t n = checked_numel(sizes, op);
  std::size_t nbytes = 0;
  NABLA_CHECK(!__builtin_mul_overflow(static_cast<std::size_t>(n), element_size(dtype), &nbytes),
              "{}: the byte size of shape {} ({}) overflows", op, shape_to_string(sizes), dtype_name(dtype));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = allocate_storage(nbytes, device);
  impl->sizes = sizes;
  impl->strides = contiguous_strides(sizes);
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor make_view_tensor(const std::shared_ptr<Storage>& storage, Shape sizes, Shape strides, int64_t offset,
                        ScalarType dtype) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = storage;
  impl->sizes = std::move(sizes);
  impl->strides = std::move(strides);
  impl->offset = offset;
  impl->dtype = dtype;
  return Tensor(std::move(impl));
}

Tensor detached_alias(const Tensor& t) {
  if (!t.defined()) return t;
  const TensorImpl* s = t.impl();
  Tensor r = make_view_tensor(s->storage, s->sizes, s->strides, s->offset, s->dtype);
  r.impl()->is_view = s->is_view;
  return r;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, std::string_view op) {
  const int64_t n = ndim == 0 ? 1 : ndim;  // a 0-dim tensor accepts dim 0 and -1
  NABLA_CHECK(dim >= -n && dim < n, "{}: dim {} is out of range for a tensor of {} dims (expected {} to {})",
              op, dim, ndim, -n, n - 1);
  return dim < 0 ? dim + n : dim;
}

std::string shape_to_string(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

void set_data(const Tensor& self, const Tensor& src) {
  TensorImpl* d = self.impl();
  const TensorImpl* s = src.impl();
  d->storage = s->storage;
  d->sizes = s->sizes;
  d->strides = s->strides;
  d->offset = s->offset;
  d->dtype = s->dtype;
  d->is_view = false;
}

}  // namespace nabla

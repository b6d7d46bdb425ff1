// TensorImpl and Storage: what a Tensor handle points to.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "nabla/tensor.h"

namespace nabla {

struct Node;

/// A reference-counted buffer on one device. The version counter lives here, so every view
/// of the buffer sees in-place modifications made through any other.
struct Storage {
  void* data = nullptr;
  std::size_t nbytes = 0;
  Device device;
  void (*deleter)(void* data, Device device) = nullptr;
  std::atomic<uint32_t> version{0};

  Storage() = default;
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;
  ~Storage() {
    if (deleter != nullptr && data != nullptr) deleter(data, device);
  }
};

/// Allocates `nbytes` on `device` (64-byte aligned on the CPU); throws OutOfMemoryError.
std::shared_ptr<Storage> allocate_storage(std::size_t nbytes, Device device);

/// Backend allocator hook: the CUDA backend installs one for DeviceType::CUDA.
using StorageAllocator = std::shared_ptr<Storage> (*)(std::size_t nbytes, Device device);
void set_storage_allocator(DeviceType type, StorageAllocator alloc);

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;         // null for leaves
  uint32_t output_nr = 0;                // which output of grad_fn this tensor is
  std::weak_ptr<Node> grad_accumulator;  // leaves: the node that accumulates into grad
};

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape sizes;
  Shape strides;
  int64_t offset = 0;  // in elements
  ScalarType dtype = kFloat32;
  bool is_view = false;         // made by a view op from another tensor (shares its storage)
  bool wrapped_number = false;  // a 0-dim tensor made from a C++ number (weakest in type promotion)
  std::unique_ptr<AutogradMeta> autograd;

  int64_t numel() const;
  void* data() const {
    return static_cast<char*>(storage->data) + offset * static_cast<int64_t>(element_size(dtype));
  }
  AutogradMeta& meta() {
    if (!autograd) autograd = std::make_unique<AutogradMeta>();
    return *autograd;
  }
};

/// Product of sizes, checked for negative sizes and int64 overflow (`op` names the caller).
int64_t checked_numel(const Shape& sizes, std::string_view op);
/// Row-major strides of `sizes`.
Shape contiguous_strides(const Shape& sizes);
bool is_contiguous_layout(const Shape& sizes, const Shape& strides);
/// A new, uninitialised, contiguous tensor.
Tensor make_tensor(const Shape& sizes, ScalarType dtype, Device device, std::string_view op = "empty");
/// A tensor over an existing storage (a view).
Tensor make_view_tensor(const std::shared_ptr<Storage>& storage, Shape sizes, Shape strides, int64_t offset,
                        ScalarType dtype);
/// Same storage and geometry, no autograd metadata (what backward formulas see).
Tensor detached_alias(const Tensor& t);
/// Normalises a possibly negative dim against `ndim`, naming `op` when out of range.
int64_t wrap_dim(int64_t dim, int64_t ndim, std::string_view op);
std::string shape_to_string(const Shape& s);
/// Points `self` at `src`'s data (storage, geometry, dtype), keeping self's autograd identity,
/// so every handle to self sees the new data (Module::to, load_state_dict).
void set_data(const Tensor& self, const Tensor& src);

}  // namespace nabla

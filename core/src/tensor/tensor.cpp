// Tensor's own methods: metadata, host access and autograd accessors. The op methods
// (t.exp(), t.sum(...)) forward to the free functions in tensor/tensor_methods.cpp.
#include <cstring>

#include "autograd/node.h"
#include "dispatch/dispatch.h"
#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "tensor/tensor_impl.h"

namespace nabla {
namespace {
const TensorImpl& checked(const Tensor& t, const char* what) {
  NABLA_CHECK(t.defined(), "{}: called on an undefined tensor", what);
  return *t.impl();
}
}  // namespace

const Shape& Tensor::sizes() const { return checked(*this, "sizes").sizes; }
const Shape& Tensor::strides() const { return checked(*this, "strides").strides; }
int64_t Tensor::dim() const { return static_cast<int64_t>(checked(*this, "dim").sizes.size()); }
int64_t Tensor::size(int64_t d) const {
  const TensorImpl& i = checked(*this, "size");
  NABLA_CHECK(!i.sizes.empty(), "size: a 0-dim tensor has no dim {}", d);
  return i.sizes[wrap_dim(d, dim(), "size")];
}
int64_t Tensor::stride(int64_t d) const {
  const TensorImpl& i = checked(*this, "stride");
  NABLA_CHECK(!i.sizes.empty(), "stride: a 0-dim tensor has no dim {}", d);
  return i.strides[wrap_dim(d, dim(), "stride")];
}
int64_t Tensor::numel() const { return checked(*this, "numel").numel(); }
int64_t Tensor::storage_offset() const { return checked(*this, "storage_offset").offset; }
ScalarType Tensor::dtype() const { return checked(*this, "dtype").dtype; }
Device Tensor::device() const { return checked(*this, "device").storage->device; }
TensorOptions Tensor::options() const { return TensorOptions(dtype()).device(device()); }
bool Tensor::is_contiguous() const {
  const TensorImpl& i = checked(*this, "is_contiguous");
  return is_contiguous_layout(i.sizes, i.strides);
}
bool Tensor::is_floating_point() const { return nabla::is_floating_point(dtype()); }
std::size_t Tensor::element_size() const { return nabla::element_size(dtype()); }
std::size_t Tensor::nbytes() const { return static_cast<std::size_t>(numel()) * element_size(); }
bool Tensor::is_alias_of(const Tensor& other) const {
  return defined() && other.defined() && impl_->storage == other.impl_->storage;
}
void* Tensor::data_ptr() const { return checked(*this, "data_ptr").data(); }
uint32_t Tensor::version() const {
  return checked(*this, "version").storage->version.load(std::memory_order_relaxed);
}

template <class T>
T* Tensor::data_ptr() const {
  NABLA_CHECK(dtype() == dtype_of<T>(), "data_ptr: requested {} but the tensor holds {}",
              dtype_name(dtype_of<T>()), dtype_name(dtype()));
  return static_cast<T*>(data_ptr());
}
template float* Tensor::data_ptr<float>() const;
template double* Tensor::data_ptr<double>() const;
template Half* Tensor::data_ptr<Half>() const;
template BFloat16* Tensor::data_ptr<BFloat16>() const;
template int64_t* Tensor::data_ptr<int64_t>() const;
template int32_t* Tensor::data_ptr<int32_t>() const;
template uint8_t* Tensor::data_ptr<uint8_t>() const;
template bool* Tensor::data_ptr<bool>() const;

namespace detail {
template <class T>
void check_accessor(const Tensor& t, int64_t n) {
  checked(t, "accessor");
  NABLA_CHECK(t.device().is_cpu(), "accessor: the tensor is on {}; an accessor reads CPU memory (use .cpu())",
              t.device().str());
  NABLA_CHECK(t.dim() == n, "accessor: expected a tensor of {} dims, got one of shape {}", n, t.shape_str());
  NABLA_CHECK(t.dtype() == dtype_of<T>(), "accessor: requested {} but the tensor holds {}",
              dtype_name(dtype_of<T>()), dtype_name(t.dtype()));
}
template void check_accessor<float>(const Tensor&, int64_t);
template void check_accessor<double>(const Tensor&, int64_t);
template void check_accessor<Half>(const Tensor&, int64_t);
template void check_accessor<BFloat16>(const Tensor&, int64_t);
template void check_accessor<int64_t>(const Tensor&, int64_t);
template void check_accessor<int32_t>(const Tensor&, int64_t);
template void check_accessor<uint8_t>(const Tensor&, int64_t);
template void check_accessor<bool>(const Tensor&, int64_t);
}  // namespace detail

template <class T>
std::vector<T> Tensor::to_vector() const {
  checked(*this, "to_vector");
  NoGradGuard g;
  Tensor c = to(Device::cpu()).to(dtype_of<T>()).contiguous();
  std::vector<T> out(static_cast<std::size_t>(c.numel()));
  if constexpr (std::is_same_v<T, bool>) {
    const bool* p = static_cast<const bool*>(c.data_ptr());
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = p[i];
  } else if (!out.empty()) {
    std::memcpy(out.data(), c.data_ptr(), out.size() * sizeof(T));
  }
  return out;
}
template std::vector<float> Tensor::to_vector<float>() const;
template std::vector<double> Tensor::to_vector<double>() const;
template std::vector<Half> Tensor::to_vector<Half>() const;
template std::vector<BFloat16> Tensor::to_vector<BFloat16>() const;
template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
template std::vector<bool> Tensor::to_vector<bool>() const;

template <class T>
T Tensor::item() const {
  NABLA_CHECK(defined() && numel() == 1,
              "item: a tensor with {} elements cannot be converted to a scalar "
              "(shape {}); item needs exactly one element",
              defined() ? numel() : 0, defined() ? shape_str() : "undefined");
  return to_vector<T>()[0];
}
template float Tensor::item<float>() const;
template double Tensor::item<double>() const;
template Half Tensor::item<Half>() const;
template BFloat16 Tensor::item<BFloat16>() const;
template int64_t Tensor::item<int64_t>() const;
template int32_t Tensor::item<int32_t>() const;
template uint8_t Tensor::item<uint8_t>() const;
template bool Tensor::item<bool>() const;

Scalar Tensor::item() const {
  const ScalarType t = dtype();
  if (t == kBool) return Scalar(item<bool>());
  if (is_integral(t)) return Scalar(item<int64_t>());
  return Scalar(item<double>());
}

std::string Tensor::shape_str() const { return shape_to_string(sizes()); }

// ---- autograd ---------------------------------------------------------------------------
bool Tensor::requires_grad() const {
  return defined() && impl_->autograd != nullptr && impl_->autograd->requires_grad;
}

Tensor& Tensor::requires_grad_(bool r) {
  checked(*this, "requires_grad_");
  NABLA_CHECK(!r || nabla::is_floating_point(dtype()),
              "requires_grad_: only floating-point tensors can require gradients (got {})",
              dtype_name(dtype()));
  if (!r && !is_leaf()) {
    NABLA_FAIL(
        "requires_grad_(false): {} is not a leaf of the graph; use detach() to get a tensor that does "
        "not require grad",
        grad_fn_name());
  }
  impl_->meta().requires_grad = r;
  return *this;
}

Tensor Tensor::grad() const {
  checked(*this, "grad");
  return impl_->autograd ? impl_->autograd->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  checked(*this, "set_grad");
  if (g.defined()) {
    NABLA_CHECK(g.sizes() == sizes() && g.dtype() == dtype() && g.device() == device(),
                "set_grad: gradient {} {} on {} does not match the tensor {} {} on {}", g.shape_str(),
                dtype_name(g.dtype()), g.device().str(), shape_str(), dtype_name(dtype()), device().str());
  }
  impl_->meta().grad = g;
}

void Tensor::backward(const Tensor& gradient, std::optional<bool> retain_graph, bool create_graph) const {
  autograd::backward({*this}, {gradient}, retain_graph, create_graph);
}

Tensor Tensor::detach() const {
  checked(*this, "detach");
  return detached_alias(*this);
}

Tensor& Tensor::detach_() {
  checked(*this, "detach_");
  if (impl_->autograd) {
    impl_->autograd->grad_fn.reset();
    impl_->autograd->requires_grad = false;
  }
  return *this;
}

void Tensor::set_data(const Tensor& new_data) const {
  checked(*this, "set_data");
  NABLA_CHECK(new_data.defined(), "set_data: the new data is an undefined tensor");
  NABLA_CHECK(!requires_grad() || nabla::is_floating_point(new_data.dtype()),
              "set_data: a tensor that requires grad needs floating-point data (got {})",
              dtype_name(new_data.dtype()));
  if (new_data.impl() != impl()) nabla::set_data(*this, new_data);
}

bool Tensor::is_leaf() const {
  return !defined() || impl_->autograd == nullptr || impl_->autograd->grad_fn == nullptr;
}

void Tensor::register_hook(std::function<void(const Tensor&)> hook) const {
  NABLA_CHECK(defined(), "register_hook: the tensor is undefined");
  NABLA_CHECK(hook != nullptr, "register_hook: the hook is empty");
  NABLA_CHECK(
      !is_leaf(),
      "register_hook: the tensor {} is a leaf (no op produced it under autograd); read its grad() after "
      "backward instead",
      shape_str());
  impl_->autograd->grad_fn->grad_hooks.emplace_back(impl_->autograd->output_nr, std::move(hook));
}

std::string Tensor::grad_fn_name() const {
  if (!defined() || !impl_->autograd || !impl_->autograd->grad_fn) return "";
  return impl_->autograd->grad_fn->name();
}

GradFn Tensor::grad_fn() const {
  if (!defined() || !impl_->autograd || !impl_->autograd->grad_fn) return GradFn();
  return GradFn(impl_->autograd->grad_fn);
}

std::string GradFn::name() const {
  NABLA_CHECK(node_ != nullptr, "grad_fn: name() of a null grad_fn (the tensor is a leaf)");
  return node_->name();
}

}  // namespace nabla

// nabla::Tensor: a handle to an n-dimensional array with autograd metadata.
//
// A Tensor is a cheap, reference-counted handle: copying it shares the data. Views (view,
// transpose, slice, ...) share storage with their base. Methods mirror the free functions of
// nabla/ops.h, with PyTorch's names and argument order.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "nabla/device.h"
#include "nabla/dtype.h"
#include "nabla/error.h"
#include "nabla/scalar.h"

namespace nabla {

struct TensorImpl;  // core/src/tensor/tensor_impl.h
struct Node;        // core/src/autograd/node.h
class Tensor;
namespace indexing {
class TensorIndex;  // nabla/indexing.h
}
template <class T, std::size_t N>
class TensorAccessor;  // nabla/indexing.h

/// Sizes or strides.
using Shape = std::vector<int64_t>;

/// A list of dims: accepts one integer, a braced list or a vector (`sum(x, 1)`, `sum(x, {0, 2})`).
class IntList {
 public:
  IntList(int64_t v) : v_{v} {}                         // NOLINT
  IntList(int v) : v_{v} {}                             // NOLINT
  IntList(std::initializer_list<int64_t> v) : v_(v) {}  // NOLINT
  IntList(const std::vector<int64_t>& v) : v_(v) {}     // NOLINT
  const std::vector<int64_t>& vec() const { return v_; }
  std::size_t size() const { return v_.size(); }

 private:
  std::vector<int64_t> v_;
};

/// dtype, device and requires_grad of a new tensor, with builder-style setters.
struct TensorOptions {
  ScalarType dtype_ = kFloat32;
  Device device_ = Device::cpu();
  bool requires_grad_ = false;
  bool has_dtype_ = false;

  TensorOptions() = default;
  TensorOptions(ScalarType t) : dtype_(t), has_dtype_(true) {}  // NOLINT
  TensorOptions(Device d) : device_(d) {}                       // NOLINT
  TensorOptions dtype(ScalarType t) const {
    auto o = *this;
    o.dtype_ = t;
    o.has_dtype_ = true;
    return o;
  }
  TensorOptions device(Device d) const {
    auto o = *this;
    o.device_ = d;
    return o;
  }
  TensorOptions requires_grad(bool r) const {
    auto o = *this;
    o.requires_grad_ = r;
    return o;
  }
  ScalarType dtype() const { return dtype_; }
  Device device() const { return device_; }
  bool requires_grad() const { return requires_grad_; }
  bool has_dtype() const { return has_dtype_; }
};

/// What Tensor::grad_fn() returns, used as libtorch's std::shared_ptr<Node>: null for a leaf
/// (`if (t.grad_fn())`), else a handle to the node that produced the tensor (`->name()`).
class GradFn {
 public:
  GradFn() = default;
  GradFn(std::nullptr_t) {}  // NOLINT
  explicit GradFn(std::shared_ptr<Node> node) : node_(std::move(node)) {}
  explicit operator bool() const { return node_ != nullptr; }
  const GradFn* operator->() const { return this; }
  /// nabla's name of the node, as grad_fn_name() ("MulBackward"; libtorch's is "MulBackward0").
  std::string name() const;
  /// Internal: the node (core/src/autograd/node.h).
  const std::shared_ptr<Node>& node() const { return node_; }
  friend bool operator==(const GradFn& a, const GradFn& b) { return a.node_ == b.node_; }
  friend bool operator==(const GradFn& a, std::nullptr_t) { return a.node_ == nullptr; }

 private:
  std::shared_ptr<Node> node_;
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  // ---- metadata -------------------------------------------------------------------------
  bool defined() const { return impl_ != nullptr; }
  const Shape& sizes() const;
  const Shape& strides() const;
  /// Size of one dim; negative dims count from the end.
  int64_t size(int64_t dim) const;
  int64_t stride(int64_t dim) const;
  int64_t dim() const;
  int64_t ndimension() const { return dim(); }
  int64_t numel() const;
  int64_t storage_offset() const;
  ScalarType dtype() const;
  ScalarType scalar_type() const { return dtype(); }
  Device device() const;
  TensorOptions options() const;
  bool is_contiguous() const;
  bool is_cuda() const { return device().is_cuda(); }
  bool is_floating_point() const;
  std::size_t element_size() const;
  std::size_t nbytes() const;
  /// True when both handles share the same storage.
  bool is_alias_of(const Tensor& other) const;
  /// Pointer to the first element (storage data + offset).
  void* data_ptr() const;
  template <class T>
  T* data_ptr() const;
  /// Number of in-place modifications of this tensor's storage (autograd's version counter).
  uint32_t version() const;

  // ---- host access ----------------------------------------------------------------------
  /// Copies out every element, in row-major order, converted to T, from any device/layout.
  template <class T>
  std::vector<T> to_vector() const;
  /// The value of a one-element tensor, converted to T.
  template <class T>
  T item() const;
  Scalar item() const;
  /// libtorch's a[i][j] element access (nabla/indexing.h) to a CPU tensor of dtype T and N dims;
  /// nabla::Error otherwise. Not on a temporary (the accessor would outlive its sizes).
  template <class T, std::size_t N>
  TensorAccessor<T, N> accessor() const&;
  template <class T, std::size_t N>
  TensorAccessor<T, N> accessor() && = delete;
  std::string str() const;
  std::string shape_str() const;

  // ---- autograd -------------------------------------------------------------------------
  bool requires_grad() const;
  Tensor& requires_grad_(bool r = true);
  /// Accumulated gradient (undefined until backward reaches this leaf).
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  /// Backpropagates from this tensor. A non-scalar tensor needs an explicit gradient.
  /// retain_graph defaults to create_graph; create_graph records the backward pass, so the
  /// gradients accumulated into .grad() can be differentiated again (autograd::backward).
  void backward(const Tensor& gradient = Tensor(), std::optional<bool> retain_graph = std::nullopt,
                bool create_graph = false) const;
  /// A tensor sharing data but cut from the graph.
  Tensor detach() const;
  Tensor& detach_();
  bool is_leaf() const;
  /// Name of the node that produced this tensor ("MulBackward", ...), empty for leaves.
  std::string grad_fn_name() const;
  /// The node that produced this tensor (libtorch's grad_fn()); null for leaves.
  GradFn grad_fn() const;
  /// Calls hook(grad) with this tensor's gradient when backward computes it (before it flows
  /// further). Only for tensors produced by a recorded op (not leaves: read their grad()).
  void register_hook(std::function<void(const Tensor& grad)> hook) const;

  // ---- conversion and copies ------------------------------------------------------------
  Tensor to(ScalarType t, bool copy = false) const;
  Tensor to(Device d, bool copy = false) const;
  Tensor to(const TensorOptions& o, bool copy = false) const;
  Tensor cpu() const;
  Tensor cuda(int index = 0) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor& copy_(const Tensor& src);
  Tensor& fill_(const Scalar& v);
  Tensor& zero_();
  Tensor& uniform_(double from = 0.0, double to = 1.0);
  Tensor& normal_(double mean = 0.0, double std = 1.0);

  // ---- views ----------------------------------------------------------------------------
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor t() const;
  Tensor permute(const Shape& dims) const;
  Tensor slice(int64_t dim, std::optional<int64_t> start = std::nullopt,
               std::optional<int64_t> end = std::nullopt, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor operator[](int64_t index) const { return select(0, index); }
  Tensor expand(const Shape& sizes) const;
  Tensor expand_as(const Tensor& other) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor as_strided(const Shape& sizes, const Shape& strides,
                    std::optional<int64_t> storage_offset = std::nullopt) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(const Shape& split_sizes, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

  // ---- elementwise ----------------------------------------------------------------------
  Tensor neg() const;
  Tensor abs() const;
  Tensor sign() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor log1p() const;
  Tensor expm1() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor sin() const;
  Tensor cos() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor reciprocal() const;
  Tensor clamp(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt) const;
  Tensor pow(const Scalar& exponent) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor add(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor add(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor sub(const Tensor& other, const Scalar& alpha = 1) const;
  Tensor sub(const Scalar& other, const Scalar& alpha = 1) const;
  Tensor mul(const Tensor& other) const;
  Tensor mul(const Scalar& other) const;
  Tensor div(const Tensor& other) const;
  Tensor div(const Scalar& other) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor eq(const Tensor& other) const;
  Tensor ne(const Tensor& other) const;
  Tensor lt(const Tensor& other) const;
  Tensor le(const Tensor& other) const;
  Tensor gt(const Tensor& other) const;
  Tensor ge(const Tensor& other) const;
  Tensor eq(const Scalar& other) const;
  Tensor ne(const Scalar& other) const;
  Tensor lt(const Scalar& other) const;
  Tensor le(const Scalar& other) const;
  Tensor gt(const Scalar& other) const;
  Tensor ge(const Scalar& other) const;
  Tensor masked_fill(const Tensor& mask, const Scalar& value) const;

  // in place (PyTorch's trailing underscore); they bump the version counter
  Tensor& add_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& add_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& sub_(const Tensor& other, const Scalar& alpha = 1);
  Tensor& sub_(const Scalar& other, const Scalar& alpha = 1);
  Tensor& mul_(const Tensor& other);
  Tensor& mul_(const Scalar& other);
  Tensor& div_(const Tensor& other);
  Tensor& div_(const Scalar& other);
  Tensor& pow_(const Scalar& exponent);
  Tensor& neg_();
  Tensor& abs_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& tanh_();
  Tensor& sigmoid_();
  Tensor& relu_();
  Tensor& clamp_(std::optional<Scalar> min, std::optional<Scalar> max = std::nullopt);
  Tensor& masked_fill_(const Tensor& mask, const Scalar& value);

  // ---- reductions -----------------------------------------------------------------------
  Tensor sum() const;
  Tensor sum(IntList dims, bool keepdim = false) const;
  Tensor mean() const;
  Tensor mean(IntList dims, bool keepdim = false) const;
  Tensor prod() const;
  Tensor prod(IntList dims, bool keepdim = false) const;
  Tensor max() const;
  std::tuple<Tensor, Tensor> max(int64_t dim, bool keepdim = false) const;
  Tensor min() const;
  std::tuple<Tensor, Tensor> min(int64_t dim, bool keepdim = false) const;
  Tensor amax(IntList dims, bool keepdim = false) const;
  Tensor amin(IntList dims, bool keepdim = false) const;
  Tensor argmax() const;
  Tensor argmax(int64_t dim, bool keepdim = false) const;
  Tensor argmin() const;
  Tensor argmin(int64_t dim, bool keepdim = false) const;
  Tensor var(IntList dims, bool unbiased = true, bool keepdim = false) const;
  Tensor std(IntList dims, bool unbiased = true, bool keepdim = false) const;
  /// Over every element (only a real bool selects these: t.var(1) is "along dim 1").
  Tensor var() const { return var(IntList(std::vector<int64_t>{}), /*unbiased=*/true, /*keepdim=*/false); }
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  Tensor var(B unbiased) const {
    return var(IntList(std::vector<int64_t>{}), unbiased, /*keepdim=*/false);
  }
  Tensor std() const { return std(IntList(std::vector<int64_t>{}), /*unbiased=*/true, /*keepdim=*/false); }
  template <class B, std::enable_if_t<std::is_same_v<B, bool>, int> = 0>
  Tensor std(B unbiased) const {
    return std(IntList(std::vector<int64_t>{}), unbiased, /*keepdim=*/false);
  }
  /// Whether every (any) element is nonzero: a 0-dim bool tensor (all() of no elements is true,
  /// any() false), or along dim, as libtorch's (uint8 input: a uint8 result, as libtorch's).
  Tensor all() const;
  Tensor all(int64_t dim, bool keepdim = false) const;
  Tensor any() const;
  Tensor any(int64_t dim, bool keepdim = false) const;
  Tensor logsumexp(IntList dims, bool keepdim = false) const;
  Tensor norm(double p = 2.0) const;
  Tensor norm(double p, IntList dims, bool keepdim = false) const;

  // ---- linear algebra, softmax, indexing ------------------------------------------------
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;
  Tensor softmax(int64_t dim) const;
  Tensor log_softmax(int64_t dim) const;
  Tensor gather(int64_t dim, const Tensor& index) const;
  Tensor scatter_add(int64_t dim, const Tensor& index, const Tensor& src) const;
  Tensor index_select(int64_t dim, const Tensor& index) const;
  Tensor index_add(int64_t dim, const Tensor& index, const Tensor& source) const;
  /// libtorch's x.index({Slice(), 0, None, "...", idx}) (nabla/indexing.h): integers select,
  /// slices slice, None adds a dim, all views of x; tensor indices then index the view as
  /// nabla::index does (a copy), so a braced list of Tensors means what it means there.
  /// nabla::Error for an index out of range, too many indices, a second ellipsis or a step < 1.
  Tensor index(std::initializer_list<indexing::TensorIndex> indices) const;
  Tensor index(const std::vector<indexing::TensorIndex>& indices) const;
  /// nabla::index(*this, indices).
  Tensor index(const std::vector<Tensor>& indices) const;
  /// libtorch's x.index_put_({Slice(), 0}, v): writes v (broadcast; a number converts to x's
  /// dtype) into x.index(indices), in place. While autograd records, a write through a view (an
  /// integer or a partial slice in the list) is a nabla::Error: nabla has no CopySlices.
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Tensor& values);
  Tensor& index_put_(std::initializer_list<indexing::TensorIndex> indices, const Scalar& value);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Tensor& values);
  Tensor& index_put_(const std::vector<indexing::TensorIndex>& indices, const Scalar& value);
  // advanced indexing (nabla::index_put) and PyTorch's `t.data = new_data`
  Tensor index_put(const std::vector<Tensor>& indices, const Tensor& values, bool accumulate = false) const;
  /// x[indices] = values in place (accumulate: +=); bumps the version counter.
  Tensor& index_put_(const std::vector<Tensor>& indices, const Tensor& values, bool accumulate = false);
  /// Points this tensor at new_data's data (storage, sizes, strides, dtype, device), keeping
  /// its autograd identity (requires_grad, grad), so every handle to it sees the new data.
  /// A tensor that requires grad needs floating-point data.
  void set_data(const Tensor& new_data) const;

  /// Internal: the implementation object (core/src/tensor/tensor_impl.h).
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

 private:
  std::shared_ptr<TensorImpl> impl_;
};

// Operators, as libtorch's.
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Tensor& b);
Tensor operator<=(const Tensor& a, const Tensor& b);
Tensor operator>(const Tensor& a, const Tensor& b);
Tensor operator>=(const Tensor& a, const Tensor& b);
Tensor operator<(const Tensor& a, const Scalar& b);
Tensor operator<=(const Tensor& a, const Scalar& b);
Tensor operator>(const Tensor& a, const Scalar& b);
Tensor operator>=(const Tensor& a, const Scalar& b);
Tensor& operator+=(Tensor& a, const Tensor& b);
Tensor& operator-=(Tensor& a, const Tensor& b);
Tensor& operator*=(Tensor& a, const Tensor& b);
Tensor& operator/=(Tensor& a, const Tensor& b);
Tensor& operator+=(Tensor& a, const Scalar& b);
Tensor& operator-=(Tensor& a, const Scalar& b);
Tensor& operator*=(Tensor& a, const Scalar& b);
Tensor& operator/=(Tensor& a, const Scalar& b);

/// PyTorch-style printing: tensor([[1.0000, 2.0000], ...], dtype=float64, requires_grad=True)
std::ostream& operator<<(std::ostream& os, const Tensor& t);

extern template std::vector<float> Tensor::to_vector<float>() const;
extern template std::vector<double> Tensor::to_vector<double>() const;
extern template std::vector<Half> Tensor::to_vector<Half>() const;
extern template std::vector<BFloat16> Tensor::to_vector<BFloat16>() const;
extern template std::vector<int64_t> Tensor::to_vector<int64_t>() const;
extern template std::vector<int32_t> Tensor::to_vector<int32_t>() const;
extern template std::vector<uint8_t> Tensor::to_vector<uint8_t>() const;
extern template std::vector<bool> Tensor::to_vector<bool>() const;

}  // namespace nabla

#include "nabla/indexing.h"  // IWYU pragma: export (TensorIndex and TensorAccessor need Tensor complete)

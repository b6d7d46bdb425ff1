// libtorch's C++-frontend spellings on top of all of nabla, for porting a libtorch program with
// two lines:
//
//   #include <nabla/torch_compat.h>          // instead of <torch/torch.h>
//   namespace torch = nabla::torch_compat;   // instead of libtorch's own namespace
//
// Why a namespace of its own, and not `namespace torch = nabla;`: in libtorch `torch::nn::Linear`
// is a holder (a value handle around a shared_ptr<LinearImpl>), while nabla's `nabla::nn::Linear`
// is the layer class itself, made with std::make_shared<nabla::nn::Linear>(...) all over nabla's
// examples, tests and users' code. One name cannot be both, and nabla's API stays as it is; so
// nabla::torch_compat::nn names the holders (Linear = ModuleHolder<nabla::nn::Linear>, with
// libtorch's LinearImpl for the class) and reaches everything else of nabla through
// using-directives, which qualified lookup follows ([namespace.qual]): torch::Tensor,
// torch::zeros, torch::optim::Adam, torch::nn::Module, torch::nn::functional::relu, ... are
// nabla's own, and whatever nabla adds later shows up here too. A name declared here (the
// holders) wins over the nabla one it shadows.
//
// What lives where: this file has the holders, TORCH_MODULE, TORCH_CHECK, torch::save/load and
// the tensor spellings libtorch has and nabla's API spells otherwise (kCUDA, torch::tensor,
// scalar-size factories, aten-style free functions); nabla/torch_compat/options.h the option
// builders whose names nabla's aggregates already take (torch::optim::AdamOptions, the
// functional FuncOptions, ...); nabla/torch_compat/data.h libtorch's templated torch::data.
// Whatever nabla could simply add to its own API is nabla's own and reached through the
// using-directives: ModuleHolder, the layer builders (nabla/nn/options.h), ModuleList/ModuleDict/
// Functional, Module::apply, Tensor::index with nabla::indexing, accessor<T, N>(), all()/any(),
// grad_fn(), autograd::Function and autograd::grad. README.md ("Coming from libtorch") maps
// libtorch's spellings to these and lists what is not covered.
//
// Not included by nabla/nabla.h: TORCH_MODULE below would clash with libtorch's in a program
// that includes both (to convert tensors between them, say).
//
// Limitation: `using namespace torch;` followed by an unqualified `nn::Linear` is ambiguous
// (torch_compat::nn and nabla::nn both become visible as `nn`); write torch::nn::, or
// `namespace nn = torch::nn;`, as libtorch's own examples do.
#pragma once

#include <concepts>
#include <cstdint>
#include <initializer_list>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "nabla/nabla.h"
#include "nabla/nn/holder.h"
#include "nabla/torch_compat/data.h"  // torch::data (issue 20, item 2)
#include "nabla/torch_compat/options.h"

namespace nabla::torch_compat {

using namespace ::nabla;  // NOLINT: the re-export of all of nabla (see the file comment)

namespace nn {

using namespace ::nabla::nn;  // NOLINT: Module, ModuleHolder, functional, init, ...

// libtorch's pair per layer: NameImpl, the class; Name, its holder.
#define NABLA_TORCH_COMPAT_HOLDER(Name) \
  using Name##Impl = ::nabla::nn::Name; \
  using Name = ::nabla::nn::ModuleHolder<Name##Impl>

NABLA_TORCH_COMPAT_HOLDER(Linear);
NABLA_TORCH_COMPAT_HOLDER(Sequential);
NABLA_TORCH_COMPAT_HOLDER(ModuleList);
NABLA_TORCH_COMPAT_HOLDER(ModuleDict);
NABLA_TORCH_COMPAT_HOLDER(Functional);
NABLA_TORCH_COMPAT_HOLDER(Identity);
NABLA_TORCH_COMPAT_HOLDER(Flatten);
NABLA_TORCH_COMPAT_HOLDER(Dropout);
NABLA_TORCH_COMPAT_HOLDER(Dropout2d);
NABLA_TORCH_COMPAT_HOLDER(ReLU);
NABLA_TORCH_COMPAT_HOLDER(LeakyReLU);
NABLA_TORCH_COMPAT_HOLDER(Sigmoid);
NABLA_TORCH_COMPAT_HOLDER(Tanh);
NABLA_TORCH_COMPAT_HOLDER(Softmax);
NABLA_TORCH_COMPAT_HOLDER(LogSoftmax);
NABLA_TORCH_COMPAT_HOLDER(GELU);
NABLA_TORCH_COMPAT_HOLDER(SiLU);
NABLA_TORCH_COMPAT_HOLDER(ELU);
NABLA_TORCH_COMPAT_HOLDER(Softplus);
NABLA_TORCH_COMPAT_HOLDER(Conv2d);
NABLA_TORCH_COMPAT_HOLDER(ConvTranspose2d);
NABLA_TORCH_COMPAT_HOLDER(MaxPool2d);
NABLA_TORCH_COMPAT_HOLDER(AvgPool2d);
NABLA_TORCH_COMPAT_HOLDER(AdaptiveAvgPool2d);
NABLA_TORCH_COMPAT_HOLDER(BatchNorm1d);
NABLA_TORCH_COMPAT_HOLDER(BatchNorm2d);
NABLA_TORCH_COMPAT_HOLDER(LayerNorm);
NABLA_TORCH_COMPAT_HOLDER(RNN);
NABLA_TORCH_COMPAT_HOLDER(LSTM);
NABLA_TORCH_COMPAT_HOLDER(GRU);
NABLA_TORCH_COMPAT_HOLDER(RNNCell);
NABLA_TORCH_COMPAT_HOLDER(LSTMCell);
NABLA_TORCH_COMPAT_HOLDER(GRUCell);
NABLA_TORCH_COMPAT_HOLDER(Embedding);
NABLA_TORCH_COMPAT_HOLDER(MSELoss);
NABLA_TORCH_COMPAT_HOLDER(L1Loss);
NABLA_TORCH_COMPAT_HOLDER(SmoothL1Loss);
NABLA_TORCH_COMPAT_HOLDER(CrossEntropyLoss);
NABLA_TORCH_COMPAT_HOLDER(NLLLoss);
NABLA_TORCH_COMPAT_HOLDER(BCELoss);
NABLA_TORCH_COMPAT_HOLDER(BCEWithLogitsLoss);
NABLA_TORCH_COMPAT_HOLDER(HingeEmbeddingLoss);
NABLA_TORCH_COMPAT_HOLDER(MultiMarginLoss);

#undef NABLA_TORCH_COMPAT_HOLDER

}  // namespace nn
}  // namespace nabla::torch_compat

/// libtorch's TORCH_MODULE(Name): the holder `Name` of the user's `NameImpl`.
#define TORCH_MODULE(Name) NABLA_MODULE(Name)
#define TORCH_MODULE_IMPL(Name, ImplType) NABLA_MODULE_IMPL(Name, ImplType)

namespace nabla::torch_compat::detail {
/// TORCH_CHECK's message: its parts streamed one after the other (c10::str), or libtorch's
/// "Expected <cond> to be true, but got false." when none is given.
template <class... Parts>
std::string torch_check_message(const char* condition, const Parts&... parts) {
  if constexpr (sizeof...(Parts) == 0) {
    return std::string("Expected ") + condition + " to be true, but got false.";
  } else {
    std::ostringstream os;
    (os << ... << parts);
    return os.str();
  }
}
}  // namespace nabla::torch_compat::detail

/// libtorch's TORCH_CHECK(cond, parts...): throws a nabla::Error (libtorch: c10::Error, also a
/// std::exception) whose message is the parts streamed together.
#define TORCH_CHECK(cond, ...)                                                                   \
  do {                                                                                           \
    if (!(cond)) [[unlikely]] {                                                                  \
      ::nabla::detail::throw_error(                                                              \
          __FILE__, __LINE__,                                                                    \
          ::nabla::torch_compat::detail::torch_check_message(#cond __VA_OPT__(, ) __VA_ARGS__)); \
    }                                                                                            \
  } while (0)

namespace nabla::torch_compat::nn::utils {
/// libtorch's torch::nn::utils::clip_grad_norm_ (nabla's lives in nabla::optim).
using ::nabla::optim::clip_grad_norm_;
}  // namespace nabla::torch_compat::nn::utils

// ==== torch::save / torch::load (issue 20, item 5) ============================================
//
// libtorch's torch::save(x, path) and torch::load(x, path), for x a module (a Module&, a
// std::shared_ptr to one, or a holder such as torch::nn::Linear or a TORCH_MODULE), an
// optimizer, a Tensor, or a std::vector<Tensor>.
//
// The files are nabla's checkpoints (nabla::io::save_checkpoint: a safetensors file with a
// checksum, readable by any safetensors reader, module tensors under PyTorch's state_dict
// names), NOT libtorch's pickle/zip archives, and never need to be: a program ported to nabla
// saves and loads with nabla on both sides, and the safetensors format is the one PyTorch's
// ecosystem shares anyway. Files written by libtorch do not load here (torch::load reports
// them as not being safetensors files), nor the other way round.
//
// The metadata entry "torch_compat.kind" ("module", "optimizer", "tensor", "tensors") tags
// what a file holds, and an optimizer's file also names the optimizer ("torch_compat.optimizer":
// "Adam", ...); torch::load checks both, so a module's file loaded into an optimizer is an
// error rather than a half-restored state. Every failure (a missing or unreadable file, a
// file that is not a safetensors checkpoint, one of another kind, names or shapes that do not
// match the module's or the optimizer's) is a nabla::Error starting "torch::load: <path>: "
// (or "torch::save: <path>: ").
//
// Loading a module copies the values into its existing parameters and buffers (strictly: the
// names must match both ways), so an optimizer made over them keeps working; loading a
// Tensor replaces the given handle with the file's tensor (on the CPU, not requiring grad).
namespace nabla::torch_compat {

void save(const ::nabla::nn::Module& module, const std::string& path);
void load(::nabla::nn::Module& module, const std::string& path);
void save(const ::nabla::optim::Optimizer& optimizer, const std::string& path);
void load(::nabla::optim::Optimizer& optimizer, const std::string& path);
void save(const ::nabla::Tensor& tensor, const std::string& path);
void load(::nabla::Tensor& tensor, const std::string& path);
void save(const std::vector<::nabla::Tensor>& tensors, const std::string& path);
void load(std::vector<::nabla::Tensor>& tensors, const std::string& path);

namespace detail {
[[noreturn]] void throw_null_module(const char* function, const std::string& path);
}  // namespace detail

/// A holder (torch::nn::Linear, a TORCH_MODULE) or a std::shared_ptr to a module.
template <class M>
requires ::nabla::nn::detail::ModulePointerOrHolder<M>
void save(const M& module, const std::string& path) {
  if (!static_cast<bool>(module)) detail::throw_null_module("torch::save", path);
  save(static_cast<const ::nabla::nn::Module&>(*module), path);
}
template <class M>
requires ::nabla::nn::detail::ModulePointerOrHolder<M>
void load(const M& module, const std::string& path) {
  if (!static_cast<bool>(module)) detail::throw_null_module("torch::load", path);
  load(static_cast<::nabla::nn::Module&>(*module), path);
}

}  // namespace nabla::torch_compat

// ==== Tensor and device spellings (issue 20, item 4: those that need no change to tensor.h) ===
namespace nabla::torch_compat {

/// libtorch's torch::kCUDA: a Device (cuda:0) that also converts to DeviceType, so both
/// `torch::Device(torch::kCUDA)` and `torch::Device(torch::kCUDA, 1)` work, as do
/// `tensor.to(torch::kCUDA)`, `torch::zeros({2}, torch::kCUDA)` and
/// `torch::cuda::is_available() ? torch::kCUDA : torch::kCPU` (a Device). torch::kCPU is nabla's
/// own kCPU, a Device already (a CPU has no index to give).
struct DeviceKind : Device {
  constexpr explicit DeviceKind(DeviceType t) : Device(t, 0) {}
  constexpr operator DeviceType() const { return type; }  // NOLINT: implicit, as libtorch's kCUDA
};
inline constexpr DeviceKind kCUDA{DeviceType::CUDA};

/// libtorch's reduction tags (functional::mse_loss(x, y, torch::kSum), ...).
inline constexpr ::nabla::nn::functional::Reduction kNone = ::nabla::nn::functional::Reduction::None;
inline constexpr ::nabla::nn::functional::Reduction kMean = ::nabla::nn::functional::Reduction::Mean;
inline constexpr ::nabla::nn::functional::Reduction kSum = ::nabla::nn::functional::Reduction::Sum;

/// libtorch's option makers: torch::zeros({2}, torch::requires_grad()), torch::dtype(torch::kFloat64).
inline TensorOptions requires_grad(bool on = true) { return TensorOptions().requires_grad(on); }
inline TensorOptions dtype(ScalarType t) { return TensorOptions().dtype(t); }
inline TensorOptions device(Device d) { return TensorOptions().device(d); }

// Factories with a scalar size, as libtorch's torch::empty(n) (an int64_t converts implicitly to
// libtorch's IntArrayRef; nabla's Shape is a std::vector, whose size constructor is explicit).
// The using-declarations keep nabla's own overloads visible: a name declared here would
// otherwise hide them from torch::zeros({2, 3}).
using ::nabla::empty;
using ::nabla::ones;
using ::nabla::rand;
using ::nabla::randn;
using ::nabla::zeros;
// Templates, so that they take any integer and never a braced list: torch::zeros({}) must stay
// nabla's Shape overload (a 0-dim tensor, as libtorch's), which a plain int64_t parameter would
// win ({} to int64_t is an identity conversion).
template <std::integral I>
Tensor empty(I n, const TensorOptions& options = {}) {
  return ::nabla::empty(Shape{static_cast<int64_t>(n)}, options);
}
template <std::integral I>
Tensor zeros(I n, const TensorOptions& options = {}) {
  return ::nabla::zeros(Shape{static_cast<int64_t>(n)}, options);
}
template <std::integral I>
Tensor ones(I n, const TensorOptions& options = {}) {
  return ::nabla::ones(Shape{static_cast<int64_t>(n)}, options);
}
template <std::integral I>
Tensor rand(I n, const TensorOptions& options = {}) {
  return ::nabla::rand(Shape{static_cast<int64_t>(n)}, options);
}
template <std::integral I>
Tensor randn(I n, const TensorOptions& options = {}) {
  return ::nabla::randn(Shape{static_cast<int64_t>(n)}, options);
}

namespace detail {
/// libtorch's dtype of torch::tensor's values: integers int64, floating-point literals (double)
/// the default dtype, float float32, bool bool.
template <class T>
ScalarType tensor_literal_dtype() {
  if constexpr (std::is_same_v<T, bool>) {
    return kBool;
  } else if constexpr (std::is_integral_v<T>) {
    return kInt64;
  } else if constexpr (std::is_same_v<T, float>) {
    return kFloat32;
  } else {
    return default_dtype();
  }
}
/// The values as the vector from_vector takes (bool, int64_t, float or double).
template <class T>
using tensor_storage_t =
    std::conditional_t<std::is_same_v<T, bool>, bool,
                       std::conditional_t<std::is_integral_v<T>, int64_t,
                                          std::conditional_t<std::is_same_v<T, float>, float, double>>>;
template <class T>
Tensor tensor_from(const std::vector<tensor_storage_t<T>>& data, const Shape& shape,
                   const TensorOptions& options) {
  Tensor t = from_vector(data, shape).to(options.has_dtype() ? options.dtype() : tensor_literal_dtype<T>());
  if (!options.device().is_cpu()) t = t.to(options.device());
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}
}  // namespace detail

/// libtorch's torch::tensor({1.0, 2.0}): a 1-D tensor of the values (dtype: see
/// detail::tensor_literal_dtype, unless the options give one).
template <class T>
requires std::is_arithmetic_v<T> Tensor tensor(std::initializer_list<T> values,
                                               const TensorOptions& options = {}) {
  return detail::tensor_from<T>(std::vector<detail::tensor_storage_t<T>>(values.begin(), values.end()),
                                Shape{static_cast<int64_t>(values.size())}, options);
}
/// torch::tensor({{1, 2}, {3, 4}}): a 2-D tensor of the rows; ragged rows are a nabla::Error.
template <class T>
requires std::is_arithmetic_v<T> Tensor tensor(std::initializer_list<std::initializer_list<T>> rows,
                                               const TensorOptions& options = {}) {
  const int64_t cols = rows.size() == 0 ? 0 : static_cast<int64_t>(rows.begin()->size());
  std::vector<detail::tensor_storage_t<T>> data;
  int64_t r = 0;
  for (const auto& row : rows) {
    NABLA_CHECK(
        static_cast<int64_t>(row.size()) == cols,
        "torch::tensor: row {} has {} values but row 0 has {} (the rows of a 2-D tensor must be equally "
        "long)",
        r, row.size(), cols);
    data.insert(data.end(), row.begin(), row.end());
    ++r;
  }
  return detail::tensor_from<T>(data, Shape{static_cast<int64_t>(rows.size()), cols}, options);
}
/// torch::tensor(3.5): a 0-dim tensor.
template <class T>
requires std::is_arithmetic_v<T> Tensor tensor(T value, const TensorOptions& options = {}) {
  return detail::tensor_from<T>({static_cast<detail::tensor_storage_t<T>>(value)}, Shape{}, options);
}

// torch::indexing (Slice, None, Ellipsis, TensorIndex) is nabla::indexing, reached through the
// using-directive; Tensor::index / index_put_ / accessor / all / any / grad_fn are nabla's own
// members (nabla/tensor.h, nabla/indexing.h).
//
// Not covered: `device.type()` and `device.index()` as methods. nabla's Device has public
// fields of those names (d.type, d.index), used across nabla, its binding and users' code, and
// a member function cannot share a field's name; libtorch code reads d.type() -> d.type.

/// libtorch's torch::from_blob without strides (row-major), and with a deleter taking the
/// pointer; the dtype is the options' or the default dtype (float32), as libtorch's.
/// nabla's own from_blob(data, sizes, strides, dtype, device, deleter) stays visible.
using ::nabla::from_blob;
inline Tensor from_blob(void* data, const Shape& sizes, const Shape& strides,
                        const std::function<void(void*)>& deleter, const TensorOptions& options = {}) {
  std::function<void()> del;
  if (deleter) del = [deleter, data] { deleter(data); };
  Tensor t = ::nabla::from_blob(data, sizes, strides, options.has_dtype() ? options.dtype() : default_dtype(),
                                options.device(), std::move(del));
  if (options.requires_grad()) t.requires_grad_(true);
  return t;
}
inline Tensor from_blob(void* data, const Shape& sizes, const Shape& strides,
                        const TensorOptions& options = {}) {
  return from_blob(data, sizes, strides, std::function<void(void*)>(), options);
}
inline Tensor from_blob(void* data, const Shape& sizes, const std::function<void(void*)>& deleter,
                        const TensorOptions& options = {}) {
  return from_blob(data, sizes, Shape{}, deleter, options);
}
inline Tensor from_blob(void* data, const Shape& sizes, const TensorOptions& options = {}) {
  return from_blob(data, sizes, Shape{}, std::function<void(void*)>(), options);
}

/// libtorch's torch::all(x) / any(x) (and along a dim): Tensor::all / any.
inline Tensor all(const Tensor& x) { return x.all(); }
inline Tensor all(const Tensor& x, int64_t dim, bool keepdim = false) { return x.all(dim, keepdim); }
inline Tensor any(const Tensor& x) { return x.any(); }
inline Tensor any(const Tensor& x, int64_t dim, bool keepdim = false) { return x.any(dim, keepdim); }

/// libtorch's at::Reduction::{None, Mean, Sum}: the int64 `reduction` of the aten-style free
/// functions below (torch::mse_loss(x, y, torch::Reduction::Sum)). Not torch::kSum, which is the
/// tag of torch::nn::functional (kept as it is).
namespace Reduction {
enum Reduction : int64_t { None = 0, Mean = 1, Sum = 2, END = 3 };
}  // namespace Reduction

namespace detail {
inline ::nabla::nn::functional::Reduction reduction_of(int64_t r, const char* fn) {
  NABLA_CHECK(r >= 0 && r < Reduction::END,
              "{}: reduction {} is not one of torch::Reduction::None (0), Mean (1), Sum (2)", fn, r);
  return r == Reduction::None   ? ::nabla::nn::functional::Reduction::None
         : r == Reduction::Mean ? ::nabla::nn::functional::Reduction::Mean
                                : ::nabla::nn::functional::Reduction::Sum;
}
}  // namespace detail

// libtorch's namespace-level (aten) functions that nabla has only in nn::functional, with
// aten's argument order and defaults. Those nabla has at namespace level (relu, sigmoid, tanh,
// softmax, log_softmax, cat, stack, matmul, mm, flatten, argmax, ...) are nabla's own.
using ::nabla::log_softmax;
using ::nabla::softmax;
/// softmax / log_softmax computed in `dtype` (aten's optional dtype argument).
inline Tensor softmax(const Tensor& x, int64_t dim, ScalarType dtype) {
  return ::nabla::softmax(x.to(dtype), dim);
}
inline Tensor log_softmax(const Tensor& x, int64_t dim, ScalarType dtype) {
  return ::nabla::log_softmax(x.to(dtype), dim);
}
inline Tensor dropout(const Tensor& x, double p, bool train) {
  return ::nabla::nn::functional::dropout(x, p, train);
}
inline Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                     ::nabla::nn::functional::Size2 stride = 1, ::nabla::nn::functional::Size2 padding = 0,
                     ::nabla::nn::functional::Size2 dilation = 1, int64_t groups = 1) {
  return ::nabla::nn::functional::conv2d(x, weight, bias, stride, padding, dilation, groups);
}
inline Tensor conv_transpose2d(const Tensor& x, const Tensor& weight, const Tensor& bias = {},
                               ::nabla::nn::functional::Size2 stride = 1,
                               ::nabla::nn::functional::Size2 padding = 0,
                               ::nabla::nn::functional::Size2 output_padding = 0, int64_t groups = 1,
                               ::nabla::nn::functional::Size2 dilation = 1) {
  return ::nabla::nn::functional::conv_transpose2d(x, weight, bias, stride, padding, output_padding, groups,
                                                   dilation);
}
inline Tensor max_pool2d(const Tensor& x, ::nabla::nn::functional::Size2 kernel_size,
                         ::nabla::nn::functional::Size2 stride = {},
                         ::nabla::nn::functional::Size2 padding = 0,
                         ::nabla::nn::functional::Size2 dilation = 1, bool ceil_mode = false) {
  return ::nabla::nn::functional::max_pool2d(x, kernel_size, stride, padding, dilation, ceil_mode);
}
/// divisor_override is not supported (nabla::Error when given).
inline Tensor avg_pool2d(const Tensor& x, ::nabla::nn::functional::Size2 kernel_size,
                         ::nabla::nn::functional::Size2 stride = {},
                         ::nabla::nn::functional::Size2 padding = 0, bool ceil_mode = false,
                         bool count_include_pad = true,
                         std::optional<int64_t> divisor_override = std::nullopt) {
  NABLA_CHECK(!divisor_override, "torch::avg_pool2d: divisor_override ({}) is not supported by nabla",
              divisor_override.value_or(0));
  return ::nabla::nn::functional::avg_pool2d(x, kernel_size, stride, padding, ceil_mode, count_include_pad);
}
inline Tensor adaptive_avg_pool2d(const Tensor& x, ::nabla::nn::functional::Size2 output_size) {
  return ::nabla::nn::functional::adaptive_avg_pool2d(x, output_size);
}
/// aten's order: weight and bias before the running statistics; cudnn_enabled is ignored.
inline Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                         const Tensor& running_mean, const Tensor& running_var, bool training,
                         double momentum, double eps, bool /*cudnn_enabled*/ = true) {
  return ::nabla::nn::functional::batch_norm(x, running_mean, running_var, weight, bias, training, momentum,
                                             eps);
}
inline Tensor layer_norm(const Tensor& x, IntList normalized_shape, const Tensor& weight = {},
                         const Tensor& bias = {}, double eps = 1e-5, bool /*cudnn_enable*/ = true) {
  return ::nabla::nn::functional::layer_norm(x, std::move(normalized_shape), weight, bias, eps);
}
inline Tensor nll_loss(const Tensor& self, const Tensor& target, const Tensor& weight = {},
                       int64_t reduction = Reduction::Mean, int64_t ignore_index = -100) {
  return ::nabla::nn::functional::nll_loss(
      self, target, {weight, ignore_index, detail::reduction_of(reduction, "torch::nll_loss")});
}
inline Tensor cross_entropy_loss(const Tensor& self, const Tensor& target, const Tensor& weight = {},
                                 int64_t reduction = Reduction::Mean, int64_t ignore_index = -100,
                                 double label_smoothing = 0.0) {
  return ::nabla::nn::functional::cross_entropy(
      self, target,
      {weight, ignore_index, detail::reduction_of(reduction, "torch::cross_entropy_loss"), label_smoothing});
}
inline Tensor mse_loss(const Tensor& self, const Tensor& target, int64_t reduction = Reduction::Mean) {
  return ::nabla::nn::functional::mse_loss(self, target, detail::reduction_of(reduction, "torch::mse_loss"));
}
inline Tensor l1_loss(const Tensor& self, const Tensor& target, int64_t reduction = Reduction::Mean) {
  return ::nabla::nn::functional::l1_loss(self, target, detail::reduction_of(reduction, "torch::l1_loss"));
}
inline Tensor smooth_l1_loss(const Tensor& self, const Tensor& target, int64_t reduction = Reduction::Mean,
                             double beta = 1.0) {
  return ::nabla::nn::functional::smooth_l1_loss(
      self, target, detail::reduction_of(reduction, "torch::smooth_l1_loss"), beta);
}
inline Tensor binary_cross_entropy(const Tensor& self, const Tensor& target, const Tensor& weight = {},
                                   int64_t reduction = Reduction::Mean) {
  return ::nabla::nn::functional::binary_cross_entropy(
      self, target, weight, detail::reduction_of(reduction, "torch::binary_cross_entropy"));
}
inline Tensor binary_cross_entropy_with_logits(const Tensor& self, const Tensor& target,
                                               const Tensor& weight = {}, const Tensor& pos_weight = {},
                                               int64_t reduction = Reduction::Mean) {
  return ::nabla::nn::functional::binary_cross_entropy_with_logits(
      self, target, weight, pos_weight,
      detail::reduction_of(reduction, "torch::binary_cross_entropy_with_logits"));
}
/// aten's order: the weight first (torch::embedding(weight, indices)); padding_idx -1 is none.
inline Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1) {
  return ::nabla::nn::functional::embedding(
      indices, weight, padding_idx < 0 ? std::nullopt : std::optional<int64_t>(padding_idx));
}

}  // namespace nabla::torch_compat

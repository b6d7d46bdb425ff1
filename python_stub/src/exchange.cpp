// Exchange without copies: NumPy arrays in (buffer protocol, from_numpy) and out (numpy(),
// __array__), and the DLPack protocol both ways (__dlpack__, __dlpack_device__, from_dlpack)
// for CPU and CUDA tensors. Foreign memory becomes a nabla tensor through nabla::from_blob,
// whose deleter drops the owner (a Py_buffer or a DLPack capsule's managed tensor) under the
// GIL; memory nabla hands out keeps a Tensor handle alive for as long as the consumer holds it.
#include <nanobind/ndarray.h>

#include <cstring>

#include "bind.h"

namespace nabla::python {
namespace {

using nb::arg;

// ---- DLPack (https://dmlc.github.io/dlpack): the ABI-stable C structs -------------------------
enum DLDeviceType : int32_t { kDLCPU = 1, kDLCUDA = 2, kDLCUDAHost = 3 };
enum DLDataTypeCode : uint8_t { kDLInt = 0, kDLUInt = 1, kDLFloat = 2, kDLBfloat = 4, kDLBool = 6 };
struct DLDevice {
  int32_t device_type;
  int32_t device_id;
};
struct DLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};
struct DLTensor {
  void* data;
  DLDevice device;
  int32_t ndim;
  DLDataType dtype;
  int64_t* shape;
  int64_t* strides;
  uint64_t byte_offset;
};
struct DLManagedTensor {
  DLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(DLManagedTensor* self);
};
struct DLPackVersion {
  uint32_t major;
  uint32_t minor;
};
struct DLManagedTensorVersioned {
  DLPackVersion version;
  void* manager_ctx;
  void (*deleter)(DLManagedTensorVersioned* self);
  uint64_t flags;
  DLTensor dl_tensor;
};
constexpr uint64_t kDLFlagReadOnly = 1;
constexpr int32_t kMaxDims = 64;

DLDataType to_dl(ScalarType t) {
  switch (t) {
    case kFloat32:
      return {kDLFloat, 32, 1};
    case kFloat64:
      return {kDLFloat, 64, 1};
    case kFloat16:
      return {kDLFloat, 16, 1};
    case kBFloat16:
      return {kDLBfloat, 16, 1};
    case kInt64:
      return {kDLInt, 64, 1};
    case kInt32:
      return {kDLInt, 32, 1};
    case kUInt8:
      return {kDLUInt, 8, 1};
    case kBool:
      return {kDLBool, 8, 1};
  }
  NABLA_INTERNAL_ASSERT(false, "unknown dtype");
  return {};
}

ScalarType from_dl(DLDataType d) {
  NABLA_CHECK(d.lanes == 1, "from_dlpack: vector dtypes (lanes = {}) are not supported", d.lanes);
  const int key = d.code * 1000 + d.bits;
  switch (key) {
    case kDLFloat * 1000 + 32:
      return kFloat32;
    case kDLFloat * 1000 + 64:
      return kFloat64;
    case kDLFloat * 1000 + 16:
      return kFloat16;
    case kDLBfloat * 1000 + 16:
      return kBFloat16;
    case kDLInt * 1000 + 64:
      return kInt64;
    case kDLInt * 1000 + 32:
      return kInt32;
    case kDLUInt * 1000 + 8:
      return kUInt8;
    case kDLBool * 1000 + 8:
      return kBool;
    default:
      break;
  }
  NABLA_FAIL(
      "from_dlpack: unsupported dtype (DLPack code {}, {} bits); nabla has float32/64/16, bfloat16, "
      "int64, int32, uint8 and bool",
      d.code, d.bits);
}

Device device_from_dl(DLDevice d) {
  if (d.device_type == kDLCPU || d.device_type == kDLCUDAHost) return Device::cpu();
  if (d.device_type == kDLCUDA) return Device::cuda(d.device_id);
  NABLA_FAIL(
      "from_dlpack: unsupported device (DLPack device type {}, id {}); nabla takes CPU and CUDA memory",
      d.device_type, d.device_id);
}

// Runs a foreign deleter with the GIL (NumPy's drops a Python reference); a no-op once the
// interpreter is gone, as nothing can be released then.
template <class F>
std::function<void()> with_gil(F f) {
  return [f]() {
    if (!Py_IsInitialized()) return;
    nb::gil_scoped_acquire gil;
    f();
  };
}

Tensor tensor_from_dl(const DLTensor& dl, std::function<void()> deleter) {
  NABLA_CHECK(dl.ndim >= 0 && dl.ndim <= kMaxDims, "from_dlpack: bad number of dims {}", dl.ndim);
  NABLA_CHECK(dl.ndim == 0 || dl.shape != nullptr, "from_dlpack: null shape for {} dims", dl.ndim);
  const ScalarType dtype = from_dl(dl.dtype);
  const Device device = device_from_dl(dl.device);
  Shape sizes(dl.shape, dl.shape + dl.ndim);
  Shape strides;
  if (dl.strides != nullptr) strides.assign(dl.strides, dl.strides + dl.ndim);
  NABLA_CHECK(dl.byte_offset % element_size(dtype) == 0 && dl.byte_offset < (uint64_t{1} << 62),
              "from_dlpack: byte_offset {} is not a multiple of the element size", dl.byte_offset);
  void* data = dl.data == nullptr ? nullptr : static_cast<char*>(dl.data) + dl.byte_offset;
  return from_blob(data, sizes, strides, dtype, device, std::move(deleter));
}

// ---- export ------------------------------------------------------------------------------------
struct ExportCtx {
  Tensor t;
  Shape sizes, strides;
};

void delete_managed(DLManagedTensor* m) {
  delete static_cast<ExportCtx*>(m->manager_ctx);
  delete m;
}
void delete_managed_versioned(DLManagedTensorVersioned* m) {
  delete static_cast<ExportCtx*>(m->manager_ctx);
  delete m;
}

void capsule_destructor(PyObject* cap) {
  // A capsule never consumed still owns its tensor; a consumed one was renamed "used_dltensor".
  if (PyCapsule_IsValid(cap, "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap, "dltensor"));
    if (m != nullptr && m->deleter != nullptr) m->deleter(m);
  }
}
void capsule_destructor_versioned(PyObject* cap) {
  if (PyCapsule_IsValid(cap, "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap, "dltensor_versioned"));
    if (m != nullptr && m->deleter != nullptr) m->deleter(m);
  }
}

void describe(DLTensor& d, ExportCtx* ctx) {
  const Tensor& t = ctx->t;
  d.data = t.data_ptr();
  d.device = t.is_cuda() ? DLDevice{kDLCUDA, t.device().index} : DLDevice{kDLCPU, 0};
  d.ndim = static_cast<int32_t>(t.dim());
  d.dtype = to_dl(t.dtype());
  d.shape = ctx->sizes.data();
  d.strides = ctx->strides.data();
  d.byte_offset = 0;
}

// How the consumer's stream is ordered after nabla's work on a CUDA tensor.
enum class StreamOrder { host_sync, none, consumer_waits };

// versioned: a DLPack 1.x "dltensor_versioned" capsule, else the legacy "dltensor".
nb::object make_capsule(const Tensor& t, StreamOrder order, std::intptr_t consumer, bool versioned) {
  NABLA_CHECK(!t.requires_grad(),
              "__dlpack__: cannot export a tensor that requires grad; use tensor.detach()");
  if (t.is_cuda()) {
    nb::gil_scoped_release release;
    if (order == StreamOrder::host_sync)
      cuda::synchronize();  // consumer unknown: all queued work done
    else if (order == StreamOrder::consumer_waits)
      cuda::make_stream_wait(consumer, t.device().index);
  }
  auto* ctx = new ExportCtx{t, t.sizes(), t.strides()};
  PyObject* cap = nullptr;
  if (versioned) {
    auto* m = new DLManagedTensorVersioned{};
    m->version = DLPackVersion{1, 0};
    m->manager_ctx = ctx;
    m->deleter = &delete_managed_versioned;
    m->flags = 0;
    describe(m->dl_tensor, ctx);
    cap = PyCapsule_New(m, "dltensor_versioned", &capsule_destructor_versioned);
    if (cap == nullptr) delete_managed_versioned(m);
  } else {
    auto* m = new DLManagedTensor{};
    m->manager_ctx = ctx;
    m->deleter = &delete_managed;
    describe(m->dl_tensor, ctx);
    cap = PyCapsule_New(m, "dltensor", &capsule_destructor);
    if (cap == nullptr) delete_managed(m);
  }
  if (cap == nullptr) throw nb::python_error();
  return nb::steal(cap);
}

// nabla.to_dlpack(t): a legacy capsule; the consumer's stream is unknown, so nabla's queued
// work is finished first.
nb::object to_dlpack(const Tensor& t) {
  return make_capsule(t, StreamOrder::host_sync, 0, /*versioned=*/false);
}

// Tensor.__dlpack__ as the Python array API specifies it.
nb::object dunder_dlpack(const Tensor& t, nb::object stream, nb::object max_version, nb::object dl_device,
                         nb::object copy) {
  if (!dl_device.is_none()) {
    const auto want = nb::cast<std::tuple<int, int>>(dl_device);
    const int type = t.is_cuda() ? kDLCUDA : kDLCPU, id = t.is_cuda() ? t.device().index : 0;
    NABLA_CHECK(
        std::get<0>(want) == type && std::get<1>(want) == id,
        "__dlpack__: dl_device ({}, {}) is not the tensor's device ({}, {}); move it with .to() first",
        std::get<0>(want), std::get<1>(want), type, id);
  }
  const Tensor src = (!copy.is_none() && nb::cast<bool>(copy)) ? t.clone() : t;
  // stream (CUDA only): None = the legacy default stream, -1 = no ordering, else the
  // consumer's stream, made to wait on nabla's by an event (the host does not block)
  StreamOrder order = StreamOrder::consumer_waits;
  std::intptr_t consumer = 1;
  if (!stream.is_none()) {
    consumer = nb::cast<std::intptr_t>(stream);
    NABLA_CHECK(src.is_cuda() || consumer == -1 || consumer == 0,
                "__dlpack__: stream {} given for a CPU tensor (DLPack: None for CPU data)", consumer);
    if (consumer == -1) order = StreamOrder::none;
  }
  bool versioned = false;
  if (!max_version.is_none()) {
    const auto v = nb::cast<std::tuple<int, int>>(max_version);
    versioned = std::get<0>(v) >= 1;
  }
  return make_capsule(src, order, consumer, versioned);
}

// ---- import ------------------------------------------------------------------------------------
Tensor from_capsule(nb::handle cap) {
  if (PyCapsule_IsValid(cap.ptr(), "dltensor")) {
    auto* m = static_cast<DLManagedTensor*>(PyCapsule_GetPointer(cap.ptr(), "dltensor"));
    NABLA_CHECK(m != nullptr, "from_dlpack: null DLManagedTensor in the capsule");
    Tensor t = tensor_from_dl(m->dl_tensor, with_gil([m] {
                                if (m->deleter != nullptr) m->deleter(m);
                              }));
    // From here the tensor owns the managed tensor; the capsule must not free it too.
    if (PyCapsule_SetName(cap.ptr(), "used_dltensor") != 0) throw nb::python_error();
    return t;
  }
  if (PyCapsule_IsValid(cap.ptr(), "dltensor_versioned")) {
    auto* m = static_cast<DLManagedTensorVersioned*>(PyCapsule_GetPointer(cap.ptr(), "dltensor_versioned"));
    NABLA_CHECK(m != nullptr, "from_dlpack: null DLManagedTensorVersioned in the capsule");
    NABLA_CHECK(m->version.major == 1, "from_dlpack: unsupported DLPack version {}.{}", m->version.major,
                m->version.minor);
    NABLA_CHECK(
        (m->flags & kDLFlagReadOnly) == 0,
        "from_dlpack: the producer marked this tensor read-only; nabla tensors are writable (copy it first)");
    Tensor t = tensor_from_dl(m->dl_tensor, with_gil([m] {
                                if (m->deleter != nullptr) m->deleter(m);
                              }));
    if (PyCapsule_SetName(cap.ptr(), "used_dltensor_versioned") != 0) throw nb::python_error();
    return t;
  }
  NABLA_FAIL(
      "from_dlpack: expected a DLPack capsule named 'dltensor' (unused), or an object with __dlpack__");
}

Tensor from_dlpack(nb::handle obj) {
  if (PyCapsule_CheckExact(obj.ptr())) return from_capsule(obj);
  NABLA_CHECK(nb::hasattr(obj, "__dlpack__"), "from_dlpack: an object of type {} has no __dlpack__ method",
              nb::type_name(obj.type()).c_str());
  // The protocol: ask where the data lives, then pass nabla's stream for CUDA data (the producer
  // orders its pending work before it, so nabla's kernels never read unfinished results; CPU
  // data takes no stream) and the newest DLPack version nabla reads. Producers older than the
  // array API's signature (NumPy < 1.26 without max_version, ...) get fewer keywords.
  nb::dict kw;
  kw["max_version"] = nb::make_tuple(1, 0);
  if (nb::hasattr(obj, "__dlpack_device__")) {
    const auto dev = nb::cast<std::tuple<int, int>>(obj.attr("__dlpack_device__")());
    // (a device nabla cannot use gets no stream: from_blob then says the device is not available)
    if (std::get<0>(dev) == kDLCUDA && cuda::is_available() && std::get<1>(dev) >= 0 &&
        std::get<1>(dev) < cuda::device_count()) {
      kw["stream"] = reinterpret_cast<std::intptr_t>(cuda::current_stream(std::get<1>(dev)));
    }
  }
  nb::object cap;
  try {
    cap = obj.attr("__dlpack__")(**kw);
  } catch (nb::python_error& e) {
    if (!e.matches(PyExc_TypeError)) throw;
    if (!kw.contains("stream")) {
      cap = obj.attr("__dlpack__")();
    } else {
      nb::dict only_stream;
      only_stream["stream"] = kw["stream"];
      cap = obj.attr("__dlpack__")(**only_stream);
    }
  }
  return from_capsule(cap);
}

// ---- NumPy through the buffer protocol -----------------------------------------------------
ScalarType dtype_from_format(const char* f, Py_ssize_t itemsize) {
  std::string s = f == nullptr ? "B" : f;
  if (!s.empty() && (s[0] == '@' || s[0] == '=' || s[0] == '<')) s = s.substr(1);
  NABLA_CHECK(s.size() == 1,
              "from_numpy: unsupported buffer format '{}' (non-native byte order or a structured type)", f);
  switch (s[0]) {
    case 'f':
      return kFloat32;
    case 'd':
      return kFloat64;
    case 'e':
      return kFloat16;
    case 'q':
    case 'l':
      if (itemsize == 8) return kInt64;
      if (itemsize == 4) return kInt32;
      break;
    case 'i':
      if (itemsize == 4) return kInt32;
      break;
    case 'B':
      return kUInt8;
    case '?':
      return kBool;
    default:
      break;
  }
  NABLA_FAIL(
      "from_numpy: unsupported dtype (buffer format '{}', {} bytes); nabla has float32/64/16, int64, int32, "
      "uint8 and bool",
      s, itemsize);
}

Tensor from_buffer(nb::handle obj, bool readonly_ok) {
  auto* view = new Py_buffer{};
  if (PyObject_GetBuffer(obj.ptr(), view, PyBUF_RECORDS_RO) != 0) {
    delete view;
    PyErr_Clear();
    throw nb::type_error(("from_numpy: expected a NumPy array (or another buffer), got " +
                          std::string(nb::type_name(obj.type()).c_str()))
                             .c_str());
  }
  auto release = with_gil([view] {
    PyBuffer_Release(view);
    delete view;
  });
  try {
    const ScalarType dtype = dtype_from_format(view->format, view->itemsize);
    NABLA_CHECK(readonly_ok || view->readonly == 0,
                "from_numpy: the array is read-only (nabla tensors are writable); pass a "
                "writable array or a copy");
    Shape sizes(view->shape, view->shape + view->ndim), strides;
    for (int d = 0; d < view->ndim; ++d) {
      const Py_ssize_t s = view->strides[d];
      NABLA_CHECK(s % view->itemsize == 0,
                  "from_numpy: stride {} bytes of dim {} is not a multiple of the "
                  "element size {}",
                  s, d, view->itemsize);
      NABLA_CHECK(s >= 0, "from_numpy: negative strides are not supported (dim {}); pass a copy", d);
      strides.push_back(s / view->itemsize);
    }
    return from_blob(view->buf, sizes, strides, dtype, Device::cpu(), release);
  } catch (...) {
    release();
    throw;
  }
}

Tensor from_numpy(nb::handle obj) { return from_buffer(obj, /*readonly_ok=*/false); }

// A copy of any array-like buffer (read-only and negatively strided ones too).
Tensor from_numpy_copy(nb::handle obj) {
  nb::module_ np = nb::module_::import_("numpy");
  nb::object array = np.attr("asarray")(obj);
  const Tensor t = from_buffer(np.attr("ascontiguousarray")(array), /*readonly_ok=*/true).clone();
  // ascontiguousarray makes a 0-dim array 1-D: a 0-dim array gives a 0-dim tensor, as in PyTorch
  return nb::cast<int>(array.attr("ndim")) == 0 ? t.view({}) : t;
}

nb::object to_numpy(const Tensor& t, bool force) {
  if (!force) {
    NABLA_CHECK(!t.requires_grad(),
                "numpy(): cannot convert a tensor that requires grad; use tensor.detach().numpy()");
    NABLA_CHECK(t.device().is_cpu(), "numpy(): cannot convert a {} tensor; use tensor.cpu() first",
                t.device().str());
  }
  Tensor c = force ? t.detach().cpu() : t;
  NABLA_CHECK(c.dtype() != kBFloat16, "numpy(): NumPy has no bfloat16; convert with tensor.float() first");
  auto* keep = new Tensor(c);
  nb::capsule owner(keep, [](void* p) noexcept { delete static_cast<Tensor*>(p); });
  std::vector<size_t> shape(c.sizes().begin(), c.sizes().end());
  const DLDataType d = to_dl(c.dtype());
  nb::dlpack::dtype nd{d.code, d.bits, d.lanes};
  nb::ndarray<nb::numpy> arr(c.data_ptr(), shape.size(), shape.data(), owner, c.strides().data(), nd,
                             nb::device::cpu::value, 0);
  return arr.cast();
}

}  // namespace

Tensor tensor_from_nested(nb::handle data, std::optional<ScalarType> dtype);

void init_exchange(nb::module_& m) {
  nb::handle cls = nb::type<Tensor>();
  auto method = [&](const char* name, auto f, auto... extra) {
    cls.attr(name) = nb::cpp_function(f, nb::is_method(), nb::name(name), nb::scope(cls), extra...);
  };
  method(
      "numpy", &to_numpy, nb::kw_only(), arg("force") = false,
      "The tensor as a NumPy array sharing its memory (CPU tensors; force=True copies from other devices).");
  method(
      "__array__",
      [](const Tensor& t, nb::object dtype, nb::object copy) {
        nb::object a = to_numpy(t, /*force=*/false);
        if (!copy.is_none() && nb::cast<bool>(copy)) a = a.attr("copy")();
        return dtype.is_none() ? a : a.attr("astype")(dtype);
      },
      arg("dtype") = nb::none(), arg("copy") = nb::none());
  method("__dlpack__", &dunder_dlpack, nb::kw_only(), arg("stream") = nb::none(),
         arg("max_version") = nb::none(), arg("dl_device") = nb::none(), arg("copy") = nb::none(),
         "A DLPack capsule sharing the tensor's memory: versioned (DLPack 1.0) when max_version >= (1, 0); "
         "on a GPU "
         "the consumer's `stream` is made to wait on nabla's (-1: no ordering).");
  method("__dlpack_device__", [](const Tensor& t) {
    return std::make_tuple(t.is_cuda() ? static_cast<int>(kDLCUDA) : static_cast<int>(kDLCPU),
                           t.is_cuda() ? t.device().index : 0);
  });
  m.def("from_numpy", &from_numpy, arg("ndarray"),
        "A tensor sharing the memory of a NumPy array (or any writable buffer); the array stays alive while "
        "it is used.");
  m.def("from_dlpack", &from_dlpack, arg("ext_tensor"),
        "A tensor sharing the memory of a DLPack producer (an object with __dlpack__, or a capsule).");
  m.def("to_dlpack", &to_dlpack, arg("tensor"), "A DLPack capsule sharing the tensor's memory.");
  m.def(
      "tensor",
      [](nb::handle data, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        Tensor t;
        if (nb::isinstance<Tensor>(data)) {
          t = nb::cast<Tensor>(data).detach().clone();
        } else if (PyObject_CheckBuffer(data.ptr()) && !PyBytes_Check(data.ptr())) {
          t = from_numpy_copy(data);
        } else if (nb::hasattr(data, "__dlpack__")) {
          t = from_dlpack(data).clone();
        } else {
          t = tensor_from_nested(data, dtype);
        }
        TensorOptions o = t.options();
        if (dtype) o = o.dtype(*dtype);
        if (device) o = o.device(*device);
        t = t.to(o);
        if (rg) t.requires_grad_(true);
        return t;
      },
      arg("data"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false,
      "A new tensor copied from data (nested sequences, numbers, arrays or tensors).");
}

}  // namespace nabla::python

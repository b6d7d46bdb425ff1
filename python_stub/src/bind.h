// Shared by the binding's translation units: nanobind, nabla, the type casters that adapt
// Python values to nabla's argument types (numbers to Scalar, int-or-sequence to IntList and
// Size2), and the init function of each part of the module.
#pragma once

#include <nabla/nabla.h>
#include <nanobind/nanobind.h>
#include <nanobind/stl/function.h>
#include <nanobind/stl/map.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/pair.h>
#include <nanobind/stl/shared_ptr.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <optional>
#include <variant>

namespace nb = nanobind;

NAMESPACE_BEGIN(NB_NAMESPACE)
NAMESPACE_BEGIN(detail)

// Python bool, int or float -> nabla::Scalar (bool first: bool is a subclass of int).
template <>
struct type_caster<nabla::Scalar> {
  NB_TYPE_CASTER(nabla::Scalar, const_name("int | float | bool"))
  bool from_python(handle src, uint8_t, cleanup_list*) noexcept {
    PyObject* o = src.ptr();
    if (PyBool_Check(o)) {
      value = nabla::Scalar(o == Py_True);
      return true;
    }
    if (PyLong_Check(o)) {
      int overflow = 0;
      const long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
      if (overflow != 0 || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return false;
      }
      value = nabla::Scalar(static_cast<int64_t>(v));
      return true;
    }
    if (PyFloat_Check(o)) {
      value = nabla::Scalar(PyFloat_AS_DOUBLE(o));
      return true;
    }
    return false;
  }
  static handle from_cpp(const nabla::Scalar& s, rv_policy, cleanup_list*) noexcept {
    if (s.is_bool()) return PyBool_FromLong(s.to_bool() ? 1 : 0);
    if (s.is_integral()) return PyLong_FromLongLong(s.to_int());
    return PyFloat_FromDouble(s.to_double());
  }
};

// int or sequence of ints -> nabla::IntList (dims of reductions).
template <>
struct type_caster<nabla::IntList> {
  NB_TYPE_CASTER(nabla::IntList, const_name("int | collections.abc.Sequence[int]"))
  type_caster() : value(std::vector<int64_t>{}) {}
  bool from_python(handle src, uint8_t flags, cleanup_list* cl) noexcept {
    make_caster<int64_t> i;
    if (PyLong_Check(src.ptr()) && i.from_python(src, flags, cl)) {
      value = nabla::IntList(static_cast<int64_t>(i.value));
      return true;
    }
    make_caster<std::vector<int64_t>> v;
    if (!v.from_python(src, flags, cl)) return false;
    value = nabla::IntList(v.value);
    return true;
  }
  static handle from_cpp(const nabla::IntList& l, rv_policy p, cleanup_list* cl) noexcept {
    return make_caster<std::vector<int64_t>>::from_cpp(l.vec(), p, cl);
  }
};

// int or (h, w) -> Size2 (kernel sizes, strides, padding).
template <>
struct type_caster<nabla::nn::functional::Size2> {
  NB_TYPE_CASTER(nabla::nn::functional::Size2, const_name("int | tuple[int, int]"))
  bool from_python(handle src, uint8_t flags, cleanup_list* cl) noexcept {
    make_caster<int64_t> i;
    if (PyLong_Check(src.ptr()) && i.from_python(src, flags, cl)) {
      value = nabla::nn::functional::Size2(static_cast<int64_t>(i.value));
      return true;
    }
    make_caster<std::vector<int64_t>> v;
    if (!v.from_python(src, flags, cl) || v.value.size() != 2) return false;
    value = nabla::nn::functional::Size2(v.value[0], v.value[1]);
    return true;
  }
  static handle from_cpp(const nabla::nn::functional::Size2& s, rv_policy, cleanup_list*) noexcept {
    return Py_BuildValue("(LL)", static_cast<long long>(s.h), static_cast<long long>(s.w));
  }
};

NAMESPACE_END(detail)
NAMESPACE_END(NB_NAMESPACE)

namespace nabla::python {

/// A strong reference to a Python object (a hook) that C++ may drop on any thread, with or
/// without the GIL: released under the GIL.
struct PyRef {
  PyObject* p;
  explicit PyRef(nb::handle h) : p(h.inc_ref().ptr()) {}
  PyRef(const PyRef&) = delete;
  PyRef& operator=(const PyRef&) = delete;
  ~PyRef() {
    if (!Py_IsInitialized()) return;
    nb::gil_scoped_acquire gil;
    Py_DECREF(p);
  }
};

/// Sizes from `*size` arguments: zeros(2, 3) and zeros((2, 3)) / zeros([2, 3]) alike; ints or
/// objects with __index__ (0-dim integer tensors). Anything else, or no size at all, is a
/// TypeError naming `fn`, as PyTorch's.
Shape size_args(const char* fn, const nb::args& args);
/// TensorOptions from the keyword arguments every factory takes.
TensorOptions make_options(std::optional<ScalarType> dtype, std::optional<Device> device, bool requires_grad);

/// PyTorch's factory keyword arguments (device=, dtype=) of the layers with parameters or
/// buffers; `device` a Device or its name (a variant, so the stubs say a name works too).
using Where = std::optional<std::variant<Device, std::string>>;
/// dtype= must be floating-point (the layer's parameters are): an Error naming `who` otherwise.
void check_place_dtype(const char* who, std::optional<ScalarType> dtype);
/// Converts and then moves a built module (Module::to; the GIL released for the move), so it
/// holds what `Layer(...).to(dtype).to(device)` holds (nn.cpp).
void place(nn::Module& m, const char* who, const Where& where, std::optional<ScalarType> dtype);
/// The arguments place() takes, keyword-only: positions differ from PyTorch's where nabla's
/// layer has fewer arguments (Conv2d has no padding_mode).
#define NABLA_PY_FACTORY_KWARGS nb::kw_only(), nb::arg("device") = nb::none(), nb::arg("dtype") = nb::none()

void init_tensor(nb::module_& m);    // tensor.cpp: Tensor, factories, ops, autograd
void init_exchange(nb::module_& m);  // exchange.cpp: NumPy and DLPack
void init_nn(nb::module_& m);        // nn.cpp: modules, functional, init, losses
void init_optim(nb::module_& m);     // optim.cpp: optimizers, schedulers, data, io, cuda

// transformer.cpp: attention and the Transformer modules (after init_nn: nn.Module is their base)
void init_transformer(nb::module_& m);

}  // namespace nabla::python

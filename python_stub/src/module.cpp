// The extension module nabla._C: exceptions, dtypes, devices, global switches, and the parts
// bound in the other files. The Python package nabla (python_stub/nabla/) re-exports it.
#include <nanobind/stl/string_view.h>

#include "bind.h"

namespace nabla::python {

TensorOptions make_options(std::optional<ScalarType> dtype, std::optional<Device> device,
                           bool requires_grad) {
  TensorOptions o;
  if (dtype) o = o.dtype(*dtype);
  if (device) o = o.device(*device);
  return o.requires_grad(requires_grad);
}

}  // namespace nabla::python

using namespace nabla;          // NOLINT
using namespace nabla::python;  // NOLINT

NB_MODULE(_C, m) {
  // A Python nn.Module subclass held by a C++ container (Sequential) is a reference nanobind
  // cannot see through; at interpreter exit such objects may outlive nanobind's own leak
  // check, which then reports false leaks. The reference-count tests check for real ones.
  nb::set_leak_warnings(false);
  m.doc() = "nabla: a GPU-accelerated deep learning runtime (the C++ library libnabla.so, bound)";

  // nabla.Error is a RuntimeError carrying the C++ message; OutOfMemoryError derives from it.
  static nb::exception<nabla::Error> error(m, "Error", PyExc_RuntimeError);
  static nb::object oom = nb::steal(PyErr_NewException("nabla._C.OutOfMemoryError", error.ptr(), nullptr));
  m.attr("OutOfMemoryError") = oom;
  nb::register_exception_translator([](const std::exception_ptr& p, void*) {
    try {
      std::rethrow_exception(p);
    } catch (const nabla::OutOfMemoryError& e) {
      PyErr_SetString(oom.ptr(), e.what());
    }
  });

  nb::enum_<ScalarType>(m, "dtype", "Element type of a tensor (nabla.float32, nabla.int64, ...)")
      .value("float32", kFloat32)
      .value("float64", kFloat64)
      .value("float16", kFloat16)
      .value("bfloat16", kBFloat16)
      .value("int64", kInt64)
      .value("int32", kInt32)
      .value("uint8", kUInt8)
      .value("bool", kBool)
      .def_prop_ro("is_floating_point", [](ScalarType t) { return is_floating_point(t); })
      .def_prop_ro("itemsize", [](ScalarType t) { return element_size(t); })
      .def("__repr__", [](ScalarType t) { return "nabla." + std::string(dtype_name(t)); })
      .def("__str__", [](ScalarType t) { return "nabla." + std::string(dtype_name(t)); });
  m.def("promote_types", &promote_types, nb::arg("type1"), nb::arg("type2"));
  m.def("get_default_dtype", &default_dtype);

  nb::class_<Device>(m, "device", "Where a tensor lives: nabla.device('cpu'), nabla.device('cuda:0')")
      .def(
          "__init__", [](Device* d, const std::string& spec) { new (d) Device(std::string_view(spec)); },
          nb::arg("type"))
      .def(
          "__init__",
          [](Device* d, const std::string& type, int index) {
            Device parsed{std::string_view(type)};
            new (d) Device(parsed.type, index);
          },
          nb::arg("type"), nb::arg("index"))
      .def_prop_ro("type", [](const Device& d) { return std::string(device_type_name(d.type)); })
      .def_prop_ro("index", [](const Device& d) { return d.index; })
      .def("__eq__", [](const Device& a, const Device& b) { return a == b; })
      .def("__eq__", [](const Device& a, const std::string& b) { return a == Device(std::string_view(b)); })
      .def("__hash__", [](const Device& d) { return static_cast<int>(d.type) * 1000003 + d.index; })
      .def("__str__", &Device::str)
      .def("__repr__", [](const Device& d) {
        return "device(type='" + std::string(device_type_name(d.type)) +
               (d.is_cuda() ? "', index=" + std::to_string(d.index) : "'") + ")";
      });
  nb::implicitly_convertible<std::string, Device>();

  m.def("manual_seed", &manual_seed, nb::arg("seed"), "Seeds the global Philox generator (every device).");
  m.def(
      "get_rng_state",
      [] {
        const GeneratorState g = get_rng_state();
        return std::make_pair(g.seed, g.offset);
      },
      "The global generator's (seed, offset).");
  m.def(
      "set_rng_state",
      [](uint64_t seed, uint64_t offset) {
        set_rng_state(GeneratorState{seed, offset});
      },
      nb::arg("seed"), nb::arg("offset"));
  m.def("get_num_threads", &get_num_threads);
  m.def("set_num_threads", &set_num_threads, nb::arg("n"));
  m.def("parallel_info", &parallel_info,
        "nabla's CPU threads, OpenMP, and the BLAS library with its build and its own thread count "
        "(torch.__config__.parallel_info()).");

  init_tensor(m);
  init_exchange(m);
  init_nn(m);
  init_transformer(m);
  init_optim(m);
}

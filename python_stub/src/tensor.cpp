// nabla.Tensor: metadata, autograd, conversions, views, indexing, operators and methods; the
// factories (zeros, randn, arange, ...) and every op of nabla/ops.h as a module function, all
// with PyTorch's names. Calls that can run long (matrix products, backward, device moves)
// release the GIL; small elementwise ops keep it, as releasing costs more than they take.
#include "bind.h"

namespace nabla::python {

Tensor tensor_from_nested(nb::handle data, std::optional<ScalarType> dtype);

namespace {

using nb::arg;
using Release = nb::call_guard<nb::gil_scoped_release>;
// In-place methods (add_, relu_, x += y, ...) return the tensor object itself, as PyTorch's:
// `x.add_(1) is x`, and `x += 1` keeps x's identity (attributes set on it, `is` checks). They
// return Tensor& with this policy, and nanobind hands back the Python instance that already
// wraps that C++ object instead of wrapping a copy of the handle.
constexpr auto kSelf = nb::rv_policy::reference_internal;

// autograd's tensor arguments, as PyTorch takes them: None (none), a Tensor, or a sequence of
// Tensors and Nones (None: an undefined tensor, e.g. a grad_output left implicit).
std::vector<Tensor> tensor_list(nb::handle h, const char* fn, const char* what) {
  std::vector<Tensor> r;
  if (h.is_none()) return r;
  if (nb::isinstance<Tensor>(h)) return {nb::cast<Tensor>(h)};
  if (!nb::isinstance<nb::sequence>(h) || nb::isinstance<nb::str>(h))
    throw nb::type_error(fmt::format("{}: {} must be a Tensor or a sequence of Tensors, got {}", fn, what,
                                     nb::type_name(h.type()).c_str())
                             .c_str());
  for (nb::handle item : nb::borrow<nb::sequence>(h)) {
    if (item.is_none()) {
      r.emplace_back();
    } else if (nb::isinstance<Tensor>(item)) {
      r.push_back(nb::cast<Tensor>(item));
    } else {
      throw nb::type_error(fmt::format("{}: {} must hold Tensors (or None), got a {}", fn, what,
                                       nb::type_name(item.type()).c_str())
                               .c_str());
    }
  }
  return r;
}

nb::tuple to_tuple(const Shape& s) {
  nb::list l;
  for (int64_t v : s) l.append(v);
  return nb::tuple(l);
}

// Nested Python lists of a tensor's values (a Python number for a 0-dim tensor).
template <class T, class Conv>
nb::object nested(const std::vector<T>& v, const Shape& s, std::size_t d, std::size_t& pos,
                  const Conv& conv) {
  if (d == s.size()) return conv(v[pos++]);
  nb::list l;
  for (int64_t i = 0; i < s[d]; ++i) l.append(nested(v, s, d + 1, pos, conv));
  return std::move(l);
}
nb::object tolist(const Tensor& t) {
  std::size_t pos = 0;
  auto number = [](auto x) -> nb::object { return nb::cast(x); };
  if (t.dtype() == kBool) {
    const auto v = t.to_vector<bool>();
    const std::vector<uint8_t> u(v.begin(), v.end());  // plain values, not vector<bool>'s proxies
    return nested(u, t.sizes(), 0, pos, [](uint8_t x) -> nb::object { return nb::bool_(x != 0); });
  }
  if (is_floating_point(t.dtype())) return nested(t.to_vector<double>(), t.sizes(), 0, pos, number);
  return nested(t.to_vector<int64_t>(), t.sizes(), 0, pos, number);
}

// A Python int or another integer (NumPy's, anything with __index__ but a tensor or a bool).
bool is_int_like(nb::handle h) {
  return !PyBool_Check(h.ptr()) &&
         (PyLong_Check(h.ptr()) || (PyIndex_Check(h.ptr()) && !nb::isinstance<Tensor>(h)));
}
int64_t as_int(nb::handle h) {
  nb::object i = nb::steal(PyNumber_Index(h.ptr()));
  if (!i.is_valid()) throw nb::python_error();
  return nb::cast<int64_t>(i);
}

// t[key], as PyTorch's: ints select, slices (positive steps) slice, None inserts a dim, ...
// skips the rest, all as views; tensors, lists and ranges index (a copy): integer ones
// broadcast together and pick elementwise, bool ones (masks, and a Python bool) pick where
// true. Basic items apply first, as views; the index tensors then go to nabla::index /
// index_put_, one entry per dim of that view (an undefined entry takes the whole dim, a mask
// covers as many dims as it has).
struct Key {
  Tensor view;                  // t after the basic items (t itself when none made a view)
  std::vector<Tensor> indices;  // for nabla::index over `view`
  bool advanced = false;
};

// PyTorch's legacy rule (treatSequenceAsTuple): a list holding a sequence, a tensor, a slice,
// ... or None is a tuple of indices (x[[0, [1]]] is x[0, [1]]); a list of numbers is one index.
bool sequence_as_tuple(nb::handle key) {
  if (nb::isinstance<nb::tuple>(key)) return true;
  if (nb::isinstance<Tensor>(key) || !PySequence_Check(key.ptr()) || PyUnicode_Check(key.ptr())) return false;
  const Py_ssize_t n = PySequence_Size(key.ptr());
  if (n < 0) {
    PyErr_Clear();
    return false;
  }
  if (n >= 32) return false;
  for (Py_ssize_t i = 0; i < n; ++i) {
    nb::object item = nb::steal(PySequence_GetItem(key.ptr(), i));
    if (!item.is_valid()) {
      PyErr_Clear();
      return false;
    }
    if (nb::isinstance<Tensor>(item) || PySequence_Check(item.ptr()) || PySlice_Check(item.ptr()) ||
        item.ptr() == Py_Ellipsis || item.is_none())
      return true;
  }
  return false;
}

Tensor index_tensor(nb::handle h) {
  if (nb::isinstance<Tensor>(h)) return nb::cast<Tensor>(h);
  if (!PySequence_Check(h.ptr()) || PyUnicode_Check(h.ptr()) || PyBytes_Check(h.ptr())) {
    throw nb::type_error(
        fmt::format(
            "index: unsupported index of type {} (use ints, slices, None, ..., tensors, lists or ranges)",
            nb::type_name(h.type()).c_str())
            .c_str());
  }
  Tensor t = tensor_from_nested(h, std::nullopt);
  return t.numel() == 0 ? t.to(kInt64) : t;  // [] is an empty integer index, as in PyTorch
}

Key parse_key(const Tensor& t, nb::handle key) {
  std::vector<nb::object> items;
  if (sequence_as_tuple(key)) {
    nb::object tuple = nb::steal(PySequence_Tuple(key.ptr()));
    if (!tuple.is_valid()) throw nb::python_error();
    for (nb::handle h : nb::borrow<nb::tuple>(tuple)) items.push_back(nb::borrow(h));
  } else {
    items.push_back(nb::borrow(key));
  }
  // Tensors and sequences become index tensors first: a mask consumes as many dims as it has.
  std::vector<Tensor> tensors(items.size());
  int64_t consumed = 0;
  for (std::size_t k = 0; k < items.size(); ++k) {
    nb::handle h = items[k];
    if (h.is_none() || h.ptr() == Py_Ellipsis || PyBool_Check(h.ptr())) continue;
    if (is_int_like(h) || PySlice_Check(h.ptr())) {
      ++consumed;
      continue;
    }
    tensors[k] = index_tensor(h);
    const Tensor& it = tensors[k];
    const bool mask = it.dtype() == kBool || it.dtype() == kUInt8;
    consumed += mask ? it.dim() : 1;
  }
  NABLA_CHECK(consumed <= t.dim(), "index: too many indices ({}) for a tensor of {} dims", consumed, t.dim());
  Key r{t, {}, false};
  int64_t dim = 0;  // the dim of r.view the next item applies to
  bool seen_ellipsis = false;
  const auto add_index = [&](Tensor idx, int64_t covers) {
    while (static_cast<int64_t>(r.indices.size()) < dim) r.indices.emplace_back();
    r.indices.push_back(std::move(idx));
    r.advanced = true;
    dim += covers;
  };
  for (std::size_t k = 0; k < items.size(); ++k) {
    nb::handle h = items[k];
    const Tensor& it = tensors[k];
    const bool bool_scalar = PyBool_Check(h.ptr()) || (it.defined() && it.dim() == 0 && it.dtype() == kBool);
    if (h.is_none()) {
      r.view = r.view.unsqueeze(dim++);
    } else if (h.ptr() == Py_Ellipsis) {
      NABLA_CHECK(!seen_ellipsis, "index: only one ellipsis (...) is allowed");
      seen_ellipsis = true;
      dim += t.dim() - consumed;
    } else if (bool_scalar) {
      // x[True] adds a dim of size 1 and keeps it (True) or empties it (False)
      const bool b = PyBool_Check(h.ptr()) ? h.ptr() == Py_True : it.item<bool>();
      r.view = r.view.unsqueeze(dim);
      add_index(from_vector(std::vector<bool>{b}), 1);
    } else if (is_int_like(h) || (it.defined() && it.dim() == 0 && is_integral(it.dtype(), false))) {
      // an int, or a 0-dim integer tensor (PyTorch treats both as a select)
      const int64_t i = it.defined() ? it.item<int64_t>() : as_int(h);
      const int64_t n = r.view.size(dim);
      if (i < -n || i >= n) {
        throw nb::index_error(
            fmt::format("index {} is out of bounds for dim {} of size {}", i, dim, n).c_str());
      }
      r.view = r.view.select(dim, i < 0 ? i + n : i);
    } else if (PySlice_Check(h.ptr())) {
      Py_ssize_t start = 0, stop = 0, step = 0;
      if (PySlice_Unpack(h.ptr(), &start, &stop, &step) != 0) throw nb::python_error();
      NABLA_CHECK(step > 0, "index: slice steps must be positive (got {})", step);
      const int64_t n = r.view.size(dim);
      PySlice_AdjustIndices(static_cast<Py_ssize_t>(n), &start, &stop, step);
      // a whole-dim slice makes no view, so that x[:, idx] = v writes into x itself (an
      // in-place op on a view is refused while autograd records)
      if (!(start == 0 && stop >= n && step == 1))
        r.view = r.view.slice(dim, start, std::max<int64_t>(start, stop), step);
      ++dim;
    } else {
      const bool mask = it.dtype() == kBool || it.dtype() == kUInt8;
      add_index(mask ? it.to(kBool) : it, mask ? it.dim() : 1);
    }
  }
  return r;
}

Tensor getitem(const Tensor& t, nb::handle key) {
  Key k = parse_key(t, key);
  return k.advanced ? nabla::index(k.view, k.indices) : k.view;
}

void setitem(Tensor& t, nb::handle key, nb::handle value) {
  Key k = parse_key(t, key);
  Tensor& view = k.view;
  if (!k.advanced) {
    NABLA_CHECK(view.is_alias_of(t) || view.numel() == 0,
                "index assignment: the index does not select a view of the tensor");
    if (nb::isinstance<Tensor>(value)) {
      view.copy_(nb::cast<Tensor>(value));
    } else {
      view.fill_(nb::cast<Scalar>(value));
    }
    return;
  }
  // As PyTorch's: a number is converted to the tensor's dtype (truncated into integer ones), a
  // tensor must have it already (index_put_ says so otherwise); both broadcast in index_put_.
  const Tensor v = nb::isinstance<Tensor>(value)
                       ? nb::cast<Tensor>(value).to(view.device())
                       : nabla::scalar_tensor(nb::cast<Scalar>(value), TensorOptions().device(view.device()))
                             .to(view.dtype());
  // An int or a partial slice made `view` a view of t, and autograd does not record in-place
  // writes into views (nabla has no CopySlices): say what to write instead.
  NABLA_CHECK(view.impl() == t.impl() || !GradMode::is_enabled() || !(t.requires_grad() || v.requires_grad()),
              "index assignment with index tensors: an int or a partial slice in the key makes a view of the "
              "tensor, and autograd does not record in-place writes into views; write ints as one-element "
              "lists (x[idx, [1]] = v rather than x[idx, 1] = v) or use index_put");
  view.index_put_(k.indices, v);
}

// index_put's indices: a tuple (or list) of index tensors, None taking a whole dim.
std::vector<Tensor> index_list(const std::vector<std::optional<Tensor>>& in) {
  std::vector<Tensor> r;
  for (const auto& t : in) r.push_back(t ? *t : Tensor());
  return r;
}

// PyTorch's Tensor.__format__: a 0-dim tensor formats as its Python number, any other with
// an empty spec as str(t), and a spec on those is a TypeError.
nb::object format_tensor(const Tensor& t, const std::string& spec) {
  if (t.dim() == 0) {
    nb::object r = nb::steal(PyObject_Format(nb::cast(t.item()).ptr(), nb::str(spec.c_str()).ptr()));
    if (!r.is_valid()) throw nb::python_error();
    return r;
  }
  if (!spec.empty()) throw nb::type_error("unsupported format string passed to Tensor.__format__");
  return nb::str(t.str().c_str());
}

// The options of a new tensor made from `t` (new_zeros, ...): t's dtype and device unless given.
TensorOptions new_options(const Tensor& t, std::optional<ScalarType> dtype, std::optional<Device> device,
                          bool rg) {
  return make_options(dtype.value_or(t.dtype()), device.value_or(t.device()), rg);
}

// x.mT / x.mH: the last two dims swapped (mH conjugates too, a no-op without complex dtypes).
Tensor matrix_transpose(const Tensor& t, const char* name) {
  NABLA_CHECK(t.dim() >= 2 || t.dim() == 0,
              "tensor.{} is only supported on matrices or batches of matrices. Got {}-D tensor.", name,
              t.dim());
  return t.dim() == 0 ? t : t.transpose(-2, -1);
}

// Tensor.to(...) as PyTorch's: to(dtype), to(device), to(device, dtype), to(tensor).
Tensor to_any(const Tensor& t, nb::args args, nb::kwargs kwargs) {
  std::optional<ScalarType> dtype;
  std::optional<Device> device;
  bool copy = false;
  auto take = [&](nb::handle h) {
    if (nb::isinstance<ScalarType>(h)) {
      dtype = nb::cast<ScalarType>(h);
    } else if (nb::isinstance<Tensor>(h)) {
      const Tensor o = nb::cast<Tensor>(h);
      dtype = o.dtype();
      device = o.device();
    } else {
      device = nb::cast<Device>(h);
    }
  };
  for (nb::handle h : args) take(h);
  for (auto [k, v] : kwargs) {
    const std::string key = nb::cast<std::string>(k);
    if (key == "dtype")
      dtype = nb::cast<ScalarType>(v);
    else if (key == "device")
      device = nb::cast<Device>(v);
    else if (key == "copy")
      copy = nb::cast<bool>(v);
    else if (key != "non_blocking")
      throw nb::type_error(("to(): unexpected keyword " + key).c_str());
  }
  nb::gil_scoped_release release;
  TensorOptions o = t.options();
  if (dtype) o = o.dtype(*dtype);
  if (device) o = o.device(*device);
  return t.to(o, copy);
}

// The Python `tensor(data)` of nested sequences: shape, then values, then dtype (bool, int64
// or float32 unless given, as PyTorch's inference).
struct Nested {
  Shape shape;
  std::vector<double> f;
  std::vector<int64_t> i;
  bool any_float = false, any_int = false, any_bool = false;
};
void walk(nb::handle h, std::size_t depth, Nested& n) {
  if (PySequence_Check(h.ptr()) && !PyUnicode_Check(h.ptr()) && !PyBytes_Check(h.ptr())) {
    nb::sequence seq = nb::borrow<nb::sequence>(h);
    const auto len = static_cast<int64_t>(nb::len(seq));
    if (depth == n.shape.size()) {
      NABLA_CHECK(n.f.empty() && n.i.empty() || depth > 0, "tensor: ragged nested sequence");
      n.shape.push_back(len);
    } else {
      NABLA_CHECK(depth < n.shape.size() && n.shape[depth] == len,
                  "tensor: ragged nested sequence (expected length {} at depth {}, got {})",
                  depth < n.shape.size() ? n.shape[depth] : -1, depth, len);
    }
    for (nb::handle item : seq) walk(item, depth + 1, n);
    return;
  }
  NABLA_CHECK(depth == n.shape.size(), "tensor: ragged nested sequence (a number at depth {} of {})", depth,
              n.shape.size());
  if (PyBool_Check(h.ptr())) {
    n.any_bool = true;
    n.i.push_back(h.ptr() == Py_True ? 1 : 0);
    n.f.push_back(h.ptr() == Py_True ? 1.0 : 0.0);
  } else if (PyLong_Check(h.ptr()) || PyIndex_Check(h.ptr())) {
    n.any_int = true;
    const int64_t v = nb::cast<int64_t>(nb::handle(PyNumber_Index(h.ptr())));
    n.i.push_back(v);
    n.f.push_back(static_cast<double>(v));
  } else {
    const double v = PyFloat_AsDouble(h.ptr());
    if (v == -1.0 && PyErr_Occurred()) throw nb::python_error();
    n.any_float = true;
    n.i.push_back(0);
    n.f.push_back(v);
  }
}

}  // namespace

Shape size_args(const char* fn, const nb::args& args) {
  const auto one = [fn](nb::handle h) -> int64_t {
    if (PyFloat_Check(h.ptr()) || PyBool_Check(h.ptr()) || !PyIndex_Check(h.ptr())) {
      throw nb::type_error(fmt::format("{}(): argument 'size' must be a sequence of ints, not {}", fn,
                                       nb::type_name(h.type()).c_str())
                               .c_str());
    }
    return as_int(h);
  };
  if (args.size() == 0)
    throw nb::type_error(fmt::format("{}(): missing the size (ints or a sequence of ints)", fn).c_str());
  Shape s;
  if (args.size() == 1 && PySequence_Check(args[0].ptr()) && !nb::isinstance<Tensor>(args[0])) {
    for (nb::handle h : nb::borrow<nb::sequence>(args[0])) s.push_back(one(h));
    return s;
  }
  for (nb::handle h : args) s.push_back(one(h));
  return s;
}

Tensor tensor_from_nested(nb::handle data, std::optional<ScalarType> dtype) {
  Nested n;
  walk(data, 0, n);
  const ScalarType natural = n.any_float  ? default_dtype()
                             : n.any_int  ? kInt64
                             : n.any_bool ? kBool
                                          : default_dtype();
  const ScalarType want = dtype.value_or(natural);
  Tensor t = (n.any_float || is_floating_point(want))
                 ? from_vector(n.f, n.shape, TensorOptions().dtype(kFloat64))
                 : from_vector(n.i, n.shape, TensorOptions().dtype(kInt64));
  return t.to(want);
}

void init_tensor(nb::module_& m) {
  auto T = nb::class_<Tensor>(m, "Tensor", "An n-dimensional array with autograd (nabla::Tensor)");

  // ---- metadata ---------------------------------------------------------------------------
  T.def_prop_ro("shape", [](const Tensor& t) { return to_tuple(t.sizes()); })
      .def("size", [](const Tensor& t) { return to_tuple(t.sizes()); })
      .def(
          "size", [](const Tensor& t, int64_t d) { return t.size(d); }, arg("dim"))
      .def("stride", [](const Tensor& t) { return to_tuple(t.strides()); })
      .def(
          "stride", [](const Tensor& t, int64_t d) { return t.stride(d); }, arg("dim"))
      .def_prop_ro("ndim", &Tensor::dim)
      .def("dim", &Tensor::dim)
      .def("ndimension", &Tensor::ndimension)
      .def("scalar_type", &Tensor::scalar_type)
      .def("numel", &Tensor::numel)
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw nb::type_error("len() of a 0-d tensor");
             return t.size(0);
           })
      .def_prop_ro("dtype", &Tensor::dtype)
      .def_prop_ro("device", &Tensor::device)
      .def_prop_ro("is_cuda", &Tensor::is_cuda)
      .def_prop_ro("is_cpu", [](const Tensor& t) { return t.device().is_cpu(); })
      .def(
          "is_complex", [](const Tensor&) { return false; }, "False: nabla has no complex dtypes.")
      .def("is_signed", [](const Tensor& t) { return t.dtype() != kUInt8 && t.dtype() != kBool; })
      .def("is_conj", [](const Tensor&) { return false; })
      .def("is_neg", [](const Tensor&) { return false; })
      .def("is_inference", [](const Tensor&) { return false; })
      .def(
          "is_same_size", [](const Tensor& t, const Tensor& o) { return t.sizes() == o.sizes(); },
          arg("other"))
      .def("is_nonzero",
           [](const Tensor& t) {
             NABLA_CHECK(t.numel() == 1,
                         "is_nonzero: the truth value of a tensor with {} elements is ambiguous", t.numel());
             return t.item().to_bool();
           })
      .def("is_contiguous", &Tensor::is_contiguous)
      .def("is_floating_point", &Tensor::is_floating_point)
      .def("element_size", &Tensor::element_size)
      .def_prop_ro("nbytes", &Tensor::nbytes)
      .def("storage_offset", &Tensor::storage_offset)
      .def("data_ptr", [](const Tensor& t) { return reinterpret_cast<std::uintptr_t>(t.data_ptr()); })
      .def("is_alias_of", &Tensor::is_alias_of, arg("other"))
      .def_prop_ro("_version", &Tensor::version)
      .def("item", [](const Tensor& t) { return t.item(); })
      .def("tolist", &tolist)
      .def("__repr__", &Tensor::str)
      .def("__bool__",
           [](const Tensor& t) {
             NABLA_CHECK(t.numel() == 1, "the truth value of a tensor with {} elements is ambiguous",
                         t.numel());
             return t.item().to_bool();
           })
      .def("__float__", [](const Tensor& t) { return t.item<double>(); })
      .def("__int__", [](const Tensor& t) { return t.item<int64_t>(); })
      .def("__index__", [](const Tensor& t) {
        NABLA_CHECK(is_integral(t.dtype(), /*include_bool=*/true) && t.numel() == 1,
                    "only one-element integer tensors can be an index");
        return t.item<int64_t>();
      });

  // Backends and layouts nabla does not have: PyTorch's predicates for them, always False.
  for (const char* name : {"is_xpu", "is_mps", "is_meta", "is_sparse", "is_sparse_csr", "is_quantized",
                           "is_mkldnn", "is_vulkan", "is_ipu", "is_ort", "is_hpu", "is_nested"}) {
    T.def_prop_ro(name, [](const Tensor&) { return false; });
  }
  T.def("__format__", &format_tensor, arg("format_spec"));

  // ---- autograd ----------------------------------------------------------------------------
  T.def_prop_rw("requires_grad", &Tensor::requires_grad, [](Tensor& t, bool r) { t.requires_grad_(r); })
      .def(
          "requires_grad_", [](Tensor& t, bool r) -> Tensor& { return t.requires_grad_(r); }, kSelf,
          arg("requires_grad") = true)
      .def_prop_rw(
          "grad",
          [](const Tensor& t) -> std::optional<Tensor> {
            Tensor g = t.grad();
            if (!g.defined()) return std::nullopt;
            return g;
          },
          [](const Tensor& t, std::optional<Tensor> g) { t.set_grad(g ? *g : Tensor()); },
          nb::arg("grad").none())
      .def_prop_ro("is_leaf", &Tensor::is_leaf)
      .def_prop_ro("grad_fn",
                   [](const Tensor& t) -> std::optional<std::string> {
                     std::string n = t.grad_fn_name();
                     if (n.empty()) return std::nullopt;
                     return n;
                   })
      .def(
          "backward",
          [](const Tensor& t, std::optional<Tensor> gradient, std::optional<bool> retain_graph,
             bool create_graph) {
            nb::gil_scoped_release release;
            t.backward(gradient ? *gradient : Tensor(), retain_graph, create_graph);
          },
          arg("gradient") = nb::none(), arg("retain_graph") = nb::none(), arg("create_graph") = false,
          "Backpropagates into the leaves' .grad; retain_graph defaults to create_graph, which records "
          "the backward pass so the gradients can be differentiated again.")
      .def(
          "register_hook",
          [](const Tensor& t, nb::handle hook) {
            NABLA_CHECK(PyCallable_Check(hook.ptr()) != 0, "register_hook: the hook must be callable");
            auto fn = std::make_shared<PyRef>(hook);
            t.register_hook([fn](const Tensor& grad) {
              nb::gil_scoped_acquire gil;  // backward runs without the GIL
              nb::handle(fn->p)(grad);
            });
          },
          arg("hook"), "Calls hook(grad) with this tensor's gradient during backward (non-leaf tensors).")
      .def("detach", &Tensor::detach)
      .def(
          "detach_", [](Tensor& t) -> Tensor& { return t.detach_(); }, kSelf)
      .def_prop_rw(
          "data", &Tensor::detach, [](Tensor& t, const Tensor& d) { t.set_data(d); },
          "The tensor's data, cut from the graph (a detached alias); setting it points the tensor at another "
          "tensor's data, keeping requires_grad and grad.")
      .def("set_data", &Tensor::set_data, arg("new_data"), "Python: the Tensor.data setter.");

  // ---- conversions and copies ----------------------------------------------------------
  T.def("to", &to_any)
      .def("cpu", &Tensor::cpu, Release())
      .def("cuda", &Tensor::cuda, arg("device") = 0, Release())
      .def("float", [](const Tensor& t) { return t.to(kFloat32); })
      .def("double", [](const Tensor& t) { return t.to(kFloat64); })
      .def("half", [](const Tensor& t) { return t.to(kFloat16); })
      .def("bfloat16", [](const Tensor& t) { return t.to(kBFloat16); })
      .def("long", [](const Tensor& t) { return t.to(kInt64); })
      .def("int", [](const Tensor& t) { return t.to(kInt32); })
      .def("bool", [](const Tensor& t) { return t.to(kBool); })
      .def("byte", [](const Tensor& t) { return t.to(kUInt8); })
      .def(
          "type", [](const Tensor& t, ScalarType d) { return t.to(d); }, arg("dtype"))
      .def("contiguous", &Tensor::contiguous)
      .def("clone", &Tensor::clone)
      .def(
          "copy_", [](Tensor& t, const Tensor& s) -> Tensor& { return t.copy_(s); }, kSelf, arg("src"))
      .def(
          "fill_", [](Tensor& t, Scalar v) -> Tensor& { return t.fill_(v); }, kSelf, arg("value"))
      .def(
          "zero_", [](Tensor& t) -> Tensor& { return t.zero_(); }, kSelf)
      .def(
          "uniform_", [](Tensor& t, double a, double b) -> Tensor& { return t.uniform_(a, b); }, kSelf,
          arg("from_") = 0.0, arg("to") = 1.0)
      .def(
          "normal_", [](Tensor& t, double m, double s) -> Tensor& { return t.normal_(m, s); }, kSelf,
          arg("mean") = 0.0, arg("std") = 1.0);

  // ---- views ---------------------------------------------------------------------------
  T.def("view", [](const Tensor& t, nb::args s) { return t.view(size_args("view", s)); })
      .def("reshape", [](const Tensor& t, nb::args s) { return t.reshape(size_args("reshape", s)); })
      .def("expand", [](const Tensor& t, nb::args s) { return t.expand(size_args("expand", s)); })
      .def("permute", [](const Tensor& t, nb::args s) { return t.permute(size_args("permute", s)); })
      .def("transpose", &Tensor::transpose, arg("dim0"), arg("dim1"))
      .def("t", &Tensor::t)
      .def_prop_ro("T",
                   [](const Tensor& t) {
                     Shape dims(static_cast<std::size_t>(t.dim()));
                     for (std::size_t i = 0; i < dims.size(); ++i)
                       dims[i] = static_cast<int64_t>(dims.size() - 1 - i);
                     return t.permute(dims);
                   })
      .def_prop_ro("mT", [](const Tensor& t) { return matrix_transpose(t, "mT"); })
      .def_prop_ro("mH", [](const Tensor& t) { return matrix_transpose(t, "mH"); })
      .def_prop_ro("H",
                   [](const Tensor& t) {
                     NABLA_CHECK(t.dim() == 0 || t.dim() == 2,
                                 "tensor.H is only supported on matrices (2-D tensors). Got {}-D tensor.{}",
                                 t.dim(),
                                 t.dim() > 2 ? " For batches of matrices, consider using tensor.mH" : "");
                     return t.dim() == 0 ? t : t.t();
                   })
      .def("slice", &Tensor::slice, arg("dim"), arg("start") = nb::none(), arg("end") = nb::none(),
           arg("step") = 1)
      .def("narrow", &Tensor::narrow, arg("dim"), arg("start"), arg("length"))
      .def("select", &Tensor::select, arg("dim"), arg("index"))
      .def("expand_as", &Tensor::expand_as, arg("other"))
      .def(
          "view_as", [](const Tensor& t, const Tensor& o) { return t.view(o.sizes()); }, arg("other"))
      .def(
          "squeeze",
          [](const Tensor& t, std::optional<int64_t> d) { return d ? t.squeeze(*d) : t.squeeze(); },
          arg("dim") = nb::none())
      .def("unsqueeze", &Tensor::unsqueeze, arg("dim"))
      .def("flatten", &Tensor::flatten, arg("start_dim") = 0, arg("end_dim") = -1)
      .def("as_strided", &Tensor::as_strided, arg("size"), arg("stride"), arg("storage_offset") = nb::none())
      .def(
          "split", [](const Tensor& t, int64_t s, int64_t d) { return t.split(s, d); }, arg("split_size"),
          arg("dim") = 0)
      .def(
          "split", [](const Tensor& t, const Shape& s, int64_t d) { return t.split(s, d); },
          arg("split_size"), arg("dim") = 0)
      .def("chunk", &Tensor::chunk, arg("chunks"), arg("dim") = 0)
      .def("__getitem__", &getitem)
      .def("__setitem__", &setitem)
      .def(
          "index_put_",
          [](Tensor& t, const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
             bool accumulate) -> Tensor& { return t.index_put_(index_list(indices), values, accumulate); },
          kSelf, arg("indices"), arg("values"), arg("accumulate") = false,
          "x[indices] = values in place (accumulate: +=); None in indices takes a whole dim.")
      .def(
          "index_put",
          [](const Tensor& t, const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
             bool accumulate) { return t.index_put(index_list(indices), values, accumulate); },
          arg("indices"), arg("values"), arg("accumulate") = false);

  // ---- operators -----------------------------------------------------------------------
  T.def("__neg__", [](const Tensor& a) { return -a; })
      .def("__pos__", [](const Tensor& a) { return a; })
      .def("__abs__", [](const Tensor& a) { return a.abs(); })
      .def("__add__", [](const Tensor& a, const Tensor& b) { return a + b; })
      .def("__add__", [](const Tensor& a, Scalar b) { return a + b; })
      .def("__radd__", [](const Tensor& a, Scalar b) { return b + a; })
      .def("__sub__", [](const Tensor& a, const Tensor& b) { return a - b; })
      .def("__sub__", [](const Tensor& a, Scalar b) { return a - b; })
      .def("__rsub__", [](const Tensor& a, Scalar b) { return b - a; })
      .def("__mul__", [](const Tensor& a, const Tensor& b) { return a * b; })
      .def("__mul__", [](const Tensor& a, Scalar b) { return a * b; })
      .def("__rmul__", [](const Tensor& a, Scalar b) { return b * a; })
      .def("__truediv__", [](const Tensor& a, const Tensor& b) { return a / b; })
      .def("__truediv__", [](const Tensor& a, Scalar b) { return a / b; })
      .def("__rtruediv__", [](const Tensor& a, Scalar b) { return b / a; })
      .def("__pow__", [](const Tensor& a, const Tensor& b) { return a.pow(b); })
      .def("__pow__", [](const Tensor& a, Scalar b) { return a.pow(b); })
      .def("__rpow__", [](const Tensor& a, Scalar b) { return nabla::pow(b, a); })
      .def(
          "__matmul__", [](const Tensor& a, const Tensor& b) { return a.matmul(b); }, Release())
      .def("__eq__", [](const Tensor& a, const Tensor& b) { return a.eq(b); })
      .def("__eq__", [](const Tensor& a, Scalar b) { return a.eq(b); })
      .def("__ne__", [](const Tensor& a, const Tensor& b) { return a.ne(b); })
      .def("__ne__", [](const Tensor& a, Scalar b) { return a.ne(b); })
      .def("__lt__", [](const Tensor& a, const Tensor& b) { return a < b; })
      .def("__lt__", [](const Tensor& a, Scalar b) { return a < b; })
      .def("__le__", [](const Tensor& a, const Tensor& b) { return a <= b; })
      .def("__le__", [](const Tensor& a, Scalar b) { return a <= b; })
      .def("__gt__", [](const Tensor& a, const Tensor& b) { return a > b; })
      .def("__gt__", [](const Tensor& a, Scalar b) { return a > b; })
      .def("__ge__", [](const Tensor& a, const Tensor& b) { return a >= b; })
      .def("__ge__", [](const Tensor& a, Scalar b) { return a >= b; })
      .def(
          "__iadd__", [](Tensor& a, const Tensor& b) -> Tensor& { return a.add_(b); }, kSelf)
      .def(
          "__iadd__", [](Tensor& a, Scalar b) -> Tensor& { return a.add_(b); }, kSelf)
      .def(
          "__isub__", [](Tensor& a, const Tensor& b) -> Tensor& { return a.sub_(b); }, kSelf)
      .def(
          "__isub__", [](Tensor& a, Scalar b) -> Tensor& { return a.sub_(b); }, kSelf)
      .def(
          "__imul__", [](Tensor& a, const Tensor& b) -> Tensor& { return a.mul_(b); }, kSelf)
      .def(
          "__imul__", [](Tensor& a, Scalar b) -> Tensor& { return a.mul_(b); }, kSelf)
      .def(
          "__itruediv__", [](Tensor& a, const Tensor& b) -> Tensor& { return a.div_(b); }, kSelf)
      .def(
          "__itruediv__", [](Tensor& a, Scalar b) -> Tensor& { return a.div_(b); }, kSelf);
  T.attr("__hash__") = nb::module_::import_("builtins").attr("object").attr("__hash__");

  // ---- elementwise methods ---------------------------------------------------------------
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_UNARY(name) T.def(#name, [](const Tensor& t) { return t.name(); });
  NABLA_PY_UNARY(neg) NABLA_PY_UNARY(abs) NABLA_PY_UNARY(sign) NABLA_PY_UNARY(exp) NABLA_PY_UNARY(log)
  NABLA_PY_UNARY(log1p) NABLA_PY_UNARY(expm1) NABLA_PY_UNARY(sqrt) NABLA_PY_UNARY(rsqrt) NABLA_PY_UNARY(sin)
  NABLA_PY_UNARY(cos) NABLA_PY_UNARY(tanh) NABLA_PY_UNARY(sigmoid) NABLA_PY_UNARY(relu) NABLA_PY_UNARY(reciprocal)
#undef NABLA_PY_UNARY
  // clang-format on
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_INPLACE(name) T.def(#name, [](Tensor& t) -> Tensor& { return t.name(); }, kSelf);
  NABLA_PY_INPLACE(neg_) NABLA_PY_INPLACE(abs_) NABLA_PY_INPLACE(exp_) NABLA_PY_INPLACE(log_)
  NABLA_PY_INPLACE(sqrt_) NABLA_PY_INPLACE(tanh_) NABLA_PY_INPLACE(sigmoid_) NABLA_PY_INPLACE(relu_)
#undef NABLA_PY_INPLACE
      // clang-format on
      T.def(
           "clamp",
           [](const Tensor& t, std::optional<Scalar> lo, std::optional<Scalar> hi) {
             return t.clamp(lo, hi);
           },
           arg("min") = nb::none(), arg("max") = nb::none())
          .def(
              "clamp_",
              [](Tensor& t, std::optional<Scalar> lo, std::optional<Scalar> hi) -> Tensor& {
                return t.clamp_(lo, hi);
              },
              kSelf, arg("min") = nb::none(), arg("max") = nb::none())
          .def(
              "pow", [](const Tensor& t, Scalar e) { return t.pow(e); }, arg("exponent"))
          .def(
              "pow", [](const Tensor& t, const Tensor& e) { return t.pow(e); }, arg("exponent"))
          .def(
              "pow_", [](Tensor& t, Scalar e) -> Tensor& { return t.pow_(e); }, kSelf, arg("exponent"))
          .def("masked_fill", &Tensor::masked_fill, arg("mask"), arg("value"))
          .def(
              "masked_fill_",
              [](Tensor& t, const Tensor& m, Scalar v) -> Tensor& { return t.masked_fill_(m, v); }, kSelf,
              arg("mask"), arg("value"));
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_BINARY_ALPHA(name)                                                                          \
  T.def(#name, [](const Tensor& a, const Tensor& b, Scalar al) { return a.name(b, al); }, arg("other"),     \
        arg("alpha") = 1)                                                                                    \
      .def(#name, [](const Tensor& a, Scalar b, Scalar al) { return a.name(b, al); }, arg("other"),         \
           arg("alpha") = 1)                                                                                 \
      .def(#name "_", [](Tensor& a, const Tensor& b, Scalar al) -> Tensor& { return a.name##_(b, al); }, kSelf, arg("other"), \
           arg("alpha") = 1)                                                                                 \
      .def(#name "_", [](Tensor& a, Scalar b, Scalar al) -> Tensor& { return a.name##_(b, al); }, kSelf, arg("other"), arg("alpha") = 1);
  NABLA_PY_BINARY_ALPHA(add) NABLA_PY_BINARY_ALPHA(sub)
#undef NABLA_PY_BINARY_ALPHA
  // clang-format on
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_BINARY(name)                                                                     \
  T.def(#name, [](const Tensor& a, const Tensor& b) { return a.name(b); }, arg("other"))         \
      .def(#name, [](const Tensor& a, Scalar b) { return a.name(b); }, arg("other"))             \
      .def(#name "_", [](Tensor& a, const Tensor& b) -> Tensor& { return a.name##_(b); }, kSelf, arg("other"))     \
      .def(#name "_", [](Tensor& a, Scalar b) -> Tensor& { return a.name##_(b); }, kSelf, arg("other"));
  NABLA_PY_BINARY(mul) NABLA_PY_BINARY(div)
#undef NABLA_PY_BINARY
  // clang-format on
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_CMP(name)                                                                \
  T.def(#name, [](const Tensor& a, const Tensor& b) { return a.name(b); }, arg("other")) \
      .def(#name, [](const Tensor& a, Scalar b) { return a.name(b); }, arg("other"));
  NABLA_PY_CMP(eq) NABLA_PY_CMP(ne) NABLA_PY_CMP(lt) NABLA_PY_CMP(le) NABLA_PY_CMP(gt) NABLA_PY_CMP(ge)
#undef NABLA_PY_CMP
      // clang-format on
      T.def("maximum", &Tensor::maximum, arg("other"))
          .def("minimum", &Tensor::minimum, arg("other"));

  // ---- reductions ----------------------------------------------------------------------
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_REDUCE(name)                                                                                  \
  T.def(#name, [](const Tensor& t, std::optional<IntList> dim, bool keepdim) {                                 \
    return dim ? t.name(*dim, keepdim) : t.name();                                                             \
  }, arg("dim") = nb::none(), arg("keepdim") = false);
  NABLA_PY_REDUCE(sum) NABLA_PY_REDUCE(mean) NABLA_PY_REDUCE(prod)
#undef NABLA_PY_REDUCE
  // clang-format on
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_MINMAX(name)                                                                                   \
  T.def(#name, [](const Tensor& t) { return t.name(); })                                                        \
      .def(#name, [](const Tensor& t, int64_t d, bool k) { return t.name(d, k); }, arg("dim"), arg("keepdim") = false) \
      .def(#name, [](const Tensor& t, const Tensor& o) { return nabla::name##imum(t, o); }, arg("other"));
  NABLA_PY_MINMAX(max) NABLA_PY_MINMAX(min)
#undef NABLA_PY_MINMAX
      // clang-format on
      T.def("amax", &Tensor::amax, arg("dim"), arg("keepdim") = false)
          .def("amin", &Tensor::amin, arg("dim"), arg("keepdim") = false)
          .def(
              "argmax",
              [](const Tensor& t, std::optional<int64_t> d, bool k) {
                return d ? t.argmax(*d, k) : t.argmax();
              },
              arg("dim") = nb::none(), arg("keepdim") = false)
          .def(
              "argmin",
              [](const Tensor& t, std::optional<int64_t> d, bool k) {
                return d ? t.argmin(*d, k) : t.argmin();
              },
              arg("dim") = nb::none(), arg("keepdim") = false)
          .def(
              "all",
              [](const Tensor& t, std::optional<int64_t> d, bool k) { return d ? t.all(*d, k) : t.all(); },
              arg("dim") = nb::none(), arg("keepdim") = false)
          .def(
              "any",
              [](const Tensor& t, std::optional<int64_t> d, bool k) { return d ? t.any(*d, k) : t.any(); },
              arg("dim") = nb::none(), arg("keepdim") = false)
          .def(
              "var",
              [](const Tensor& t, std::optional<IntList> d, bool unbiased, bool k) {
                return t.var(d ? *d : IntList(std::vector<int64_t>{}), unbiased, k);
              },
              arg("dim") = nb::none(), arg("unbiased") = true, arg("keepdim") = false)
          .def(
              "std",
              [](const Tensor& t, std::optional<IntList> d, bool unbiased, bool k) {
                return t.std(d ? *d : IntList(std::vector<int64_t>{}), unbiased, k);
              },
              arg("dim") = nb::none(), arg("unbiased") = true, arg("keepdim") = false)
          .def("logsumexp", &Tensor::logsumexp, arg("dim"), arg("keepdim") = false)
          .def(
              "norm",
              [](const Tensor& t, double p, std::optional<IntList> d, bool k) {
                return d ? t.norm(p, *d, k) : t.norm(p);
              },
              arg("p") = 2.0, arg("dim") = nb::none(), arg("keepdim") = false);

  // ---- linear algebra, softmax, indexing ----------------------------------------------
  T.def("matmul", &Tensor::matmul, arg("other"), Release())
      .def("mm", &Tensor::mm, arg("mat2"), Release())
      .def("bmm", &Tensor::bmm, arg("mat2"), Release())
      .def("softmax", &Tensor::softmax, arg("dim"))
      .def("log_softmax", &Tensor::log_softmax, arg("dim"))
      .def("gather", &Tensor::gather, arg("dim"), arg("index"))
      .def("scatter_add", &Tensor::scatter_add, arg("dim"), arg("index"), arg("src"))
      .def("index_select", &Tensor::index_select, arg("dim"), arg("index"))
      .def("index_add", &Tensor::index_add, arg("dim"), arg("index"), arg("source"));

  // ---- factories -------------------------------------------------------------------------
  // Each takes its size as ints, one sequence, or the keyword size=, and the keywords dtype=,
  // device= and requires_grad= (a wrong keyword is nanobind's TypeError naming the function and
  // the keyword).
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_SHAPE_FACTORY(name)                                                                          \
  m.def(#name,                                                                                              \
        [](nb::args size, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {         \
          return nabla::name(size_args(#name, size), make_options(dtype, device, rg));                     \
        },                                                                                                  \
        arg("size"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),                  \
        arg("requires_grad") = false);                                                                      \
  m.def(#name,                                                                                              \
        [](const Shape& size, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {     \
          return nabla::name(size, make_options(dtype, device, rg));                                       \
        },                                                                                                  \
        nb::kw_only(), arg("size"), arg("dtype") = nb::none(), arg("device") = nb::none(),                  \
        arg("requires_grad") = false);
  NABLA_PY_SHAPE_FACTORY(empty) NABLA_PY_SHAPE_FACTORY(zeros) NABLA_PY_SHAPE_FACTORY(ones)
  NABLA_PY_SHAPE_FACTORY(rand) NABLA_PY_SHAPE_FACTORY(randn)
#undef NABLA_PY_SHAPE_FACTORY
  // clang-format on
  // Tensor.new_zeros(...) and friends: the factories with the tensor's dtype and device unless
  // given.
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_NEW_FACTORY(name)                                                                            \
  T.def("new_" #name,                                                                                       \
        [](const Tensor& t, nb::args size, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) { \
          return nabla::name(size_args("new_" #name, size), new_options(t, dtype, device, rg));            \
        },                                                                                                  \
        arg("size"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),                  \
        arg("requires_grad") = false);                                                                      \
  T.def("new_" #name,                                                                                       \
        [](const Tensor& t, const Shape& size, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) { \
          return nabla::name(size, new_options(t, dtype, device, rg));                                     \
        },                                                                                                  \
        nb::kw_only(), arg("size"), arg("dtype") = nb::none(), arg("device") = nb::none(),                  \
        arg("requires_grad") = false);
  NABLA_PY_NEW_FACTORY(empty) NABLA_PY_NEW_FACTORY(zeros) NABLA_PY_NEW_FACTORY(ones)
#undef NABLA_PY_NEW_FACTORY
      // clang-format on
      T.def(
           "new_full",
           [](const Tensor& t, const Shape& size, Scalar v, std::optional<ScalarType> dtype,
              std::optional<Device> device,
              bool rg) { return nabla::full(size, v, new_options(t, dtype, device, rg)); },
           arg("size"), arg("fill_value"), nb::kw_only(), arg("dtype") = nb::none(),
           arg("device") = nb::none(), arg("requires_grad") = false)
          .def(
              "new_tensor",
              [](const Tensor& t, nb::handle data, std::optional<ScalarType> dtype,
                 std::optional<Device> device, bool rg) -> Tensor {
                // nabla.tensor (exchange.cpp) reads every kind of data; the defaults are t's
                return nb::cast<Tensor>(nb::module_::import_("nabla._C")
                                            .attr("tensor")(data,
                                                            nb::arg("dtype") = dtype.value_or(t.dtype()),
                                                            nb::arg("device") = device.value_or(t.device()),
                                                            nb::arg("requires_grad") = rg));
              },
              arg("data"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
              arg("requires_grad") = false);
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_LIKE(name)                                                                                   \
  m.def(#name,                                                                                              \
        [](const Tensor& t, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {       \
          TensorOptions o = t.options().requires_grad(rg);                                                 \
          if (dtype) o = o.dtype(*dtype);                                                                   \
          if (device) o = o.device(*device);                                                                \
          Tensor r = nabla::name(t, o);                                                                    \
          return rg ? r.requires_grad_(true) : r;                                                           \
        },                                                                                                  \
        arg("input"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),                 \
        arg("requires_grad") = false);
  NABLA_PY_LIKE(empty_like) NABLA_PY_LIKE(zeros_like) NABLA_PY_LIKE(ones_like)
#undef NABLA_PY_LIKE
      // clang-format on
      m.def(
          "full_like",
          [](const Tensor& t, Scalar v, std::optional<ScalarType> dtype, std::optional<Device> device,
             bool rg) {
            Tensor r = nabla::full_like(t, v, new_options(t, dtype, device, /*requires_grad=*/false));
            return rg ? r.requires_grad_(true) : r;
          },
          arg("input"), arg("fill_value"), nb::kw_only(), arg("dtype") = nb::none(),
          arg("device") = nb::none(), arg("requires_grad") = false);
  // rand_like / randn_like with options: the global generator's draws of rand / randn
  m.def(
      "rand_like",
      [](const Tensor& t, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        return nabla::rand(t.sizes(), new_options(t, dtype, device, rg));
      },
      arg("input"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "randn_like",
      [](const Tensor& t, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        return nabla::randn(t.sizes(), new_options(t, dtype, device, rg));
      },
      arg("input"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "randint_like",
      [](const Tensor& t, int64_t first, std::optional<int64_t> second, std::optional<ScalarType> dtype,
         std::optional<Device> device, bool rg) {
        // randint_like(input, high) or randint_like(input, low, high), as PyTorch's
        const int64_t low = second ? first : 0, high = second ? *second : first;
        return nabla::randint(low, high, t.sizes(), new_options(t, dtype, device, rg));
      },
      arg("input"), arg("low"), arg("high") = nb::none(), nb::kw_only(), arg("dtype") = nb::none(),
      arg("device") = nb::none(), arg("requires_grad") = false);
  m.def(
      "full",
      [](const Shape& size, Scalar v, std::optional<ScalarType> dtype, std::optional<Device> device,
         bool rg) { return nabla::full(size, v, make_options(dtype, device, rg)); },
      arg("size"), arg("fill_value"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "scalar_tensor",
      [](Scalar v, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        return nabla::scalar_tensor(v, make_options(dtype, device, rg));
      },
      arg("s"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "arange",
      [](Scalar a, std::optional<Scalar> b, Scalar step, std::optional<ScalarType> dtype,
         std::optional<Device> device, bool rg) {
        const TensorOptions o = make_options(dtype, device, rg);
        return b ? nabla::arange(a, *b, step, o) : nabla::arange(a, o);
      },
      arg("start"), arg("end") = nb::none(), arg("step") = 1, nb::kw_only(), arg("dtype") = nb::none(),
      arg("device") = nb::none(), arg("requires_grad") = false);
  m.def(
      "arange",
      [](Scalar end, Scalar step, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        return nabla::arange(Scalar(0), end, step, make_options(dtype, device, rg));  // arange(end=n)
      },
      nb::kw_only(), arg("end"), arg("step") = 1, arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "linspace",
      [](double a, double b, int64_t steps, std::optional<ScalarType> dtype, std::optional<Device> device,
         bool rg) { return nabla::linspace(a, b, steps, make_options(dtype, device, rg)); },
      arg("start"), arg("end"), arg("steps"), nb::kw_only(), arg("dtype") = nb::none(),
      arg("device") = nb::none(), arg("requires_grad") = false);
  m.def(
      "eye",
      [](int64_t n, std::optional<int64_t> mm, std::optional<ScalarType> dtype, std::optional<Device> device,
         bool rg) {
        const TensorOptions o = make_options(dtype, device, rg);
        return mm ? nabla::eye(n, *mm, o) : nabla::eye(n, o);
      },
      arg("n"), arg("m") = nb::none(), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "randint",
      [](int64_t first, std::optional<int64_t> second, std::optional<Shape> size,
         std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        // randint(high, size=...) or randint(low, high, size), as PyTorch's: with one bound it is
        // the high one (low 0); the size is always required
        NABLA_CHECK(size.has_value(),
                    "randint: missing the size argument (randint(high, size) or randint(low, high, size))");
        const int64_t low = second ? first : 0, high = second ? *second : first;
        return nabla::randint(low, high, *size, make_options(dtype, device, rg));
      },
      arg("low"), arg("high") = nb::none(), arg("size") = nb::none(), nb::kw_only(),
      arg("dtype") = nb::none(), arg("device") = nb::none(), arg("requires_grad") = false);
  m.def(
      "randint",
      [](int64_t high, const Shape& size, std::optional<ScalarType> dtype, std::optional<Device> device,
         bool rg) { return nabla::randint(high, size, make_options(dtype, device, rg)); },
      arg("high"), arg("size"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);
  m.def(
      "randperm",
      [](int64_t n, std::optional<ScalarType> dtype, std::optional<Device> device, bool rg) {
        // drawn as int64 (the generator's type), then converted, as PyTorch's dtype= gives
        const Tensor r = nabla::randperm(n, make_options(kInt64, device, /*requires_grad=*/false));
        return rg || (dtype && *dtype != kInt64) ? r.to(dtype.value_or(kInt64)).requires_grad_(rg) : r;
      },
      arg("n"), nb::kw_only(), arg("dtype") = nb::none(), arg("device") = nb::none(),
      arg("requires_grad") = false);

  // ---- autograd controls -----------------------------------------------------------------
  m.def("is_grad_enabled", &GradMode::is_enabled);
  m.def("set_grad_enabled", &GradMode::set_enabled, arg("mode"));
  nb::module_ ag = m.def_submodule(
      "autograd",
      "nabla.autograd: backward over several outputs, grad (higher-order too), gradcheck, gradgradcheck");
  ag.def(
      "backward",
      [](nb::handle tensors, nb::handle grad_tensors, std::optional<bool> retain_graph, bool create_graph) {
        const std::vector<Tensor> outputs = tensor_list(tensors, "backward", "tensors");
        const std::vector<Tensor> grads = tensor_list(grad_tensors, "backward", "grad_tensors");
        nb::gil_scoped_release release;
        autograd::backward(outputs, grads, retain_graph, create_graph);
      },
      arg("tensors"), arg("grad_tensors") = nb::none(), arg("retain_graph") = nb::none(),
      arg("create_graph") = false,
      nb::sig(
          "def backward(tensors: nabla._C.Tensor | collections.abc.Sequence[nabla._C.Tensor], grad_tensors: "
          "nabla._C.Tensor | collections.abc.Sequence[nabla._C.Tensor | None] | None = None, retain_graph: "
          "bool | None = None, create_graph: bool = False) -> None"),
      "Backpropagates from several outputs into the leaves' .grad (as torch.autograd.backward).");
  ag.def(
      "grad",
      [](nb::handle outputs, nb::handle inputs, nb::handle grad_outputs, std::optional<bool> retain_graph,
         bool create_graph, bool allow_unused) {
        const std::vector<Tensor> out = tensor_list(outputs, "grad", "outputs");
        const std::vector<Tensor> in = tensor_list(inputs, "grad", "inputs");
        const std::vector<Tensor> go = tensor_list(grad_outputs, "grad", "grad_outputs");
        std::vector<Tensor> r;
        {
          nb::gil_scoped_release release;
          r = autograd::grad(out, in, go, retain_graph, create_graph, allow_unused);
        }
        nb::list l;
        for (const Tensor& t : r) l.append(t.defined() ? nb::cast(t) : nb::none());
        return nb::tuple(l);
      },
      arg("outputs"), arg("inputs"), arg("grad_outputs") = nb::none(), arg("retain_graph") = nb::none(),
      arg("create_graph") = false, arg("allow_unused") = false,
      nb::sig(
          "def grad(outputs: nabla._C.Tensor | collections.abc.Sequence[nabla._C.Tensor], inputs: "
          "nabla._C.Tensor | collections.abc.Sequence[nabla._C.Tensor], grad_outputs: nabla._C.Tensor | "
          "collections.abc.Sequence[nabla._C.Tensor | None] | None = None, retain_graph: bool | None = None, "
          "create_graph: bool = False, allow_unused: bool = False) -> tuple[nabla._C.Tensor | None, ...]"),
      "The gradients of the outputs with respect to the inputs, as a tuple (None for an unused input "
      "under allow_unused), without touching any .grad (as torch.autograd.grad); create_graph makes "
      "them differentiable again.");
  const auto checker = [](const char* name, auto check) {
    return [name, check](nb::callable fn, const std::vector<Tensor>& inputs, double eps, double atol,
                         double rtol) {
      auto call = [&fn, name](const std::vector<Tensor>& xs) {
        nb::object r = fn(xs);
        NABLA_CHECK(nb::isinstance<Tensor>(r), "{}: fn returned a {}, expected a Tensor", name,
                    nb::type_name(r.type()).c_str());
        return nb::cast<Tensor>(r);
      };
      const auto r = check(call, inputs, autograd::GradcheckOptions{eps, atol, rtol});
      return std::make_tuple(r.ok, r.max_abs_error, r.message);
    };
  };
  ag.def(
      "gradcheck",
      checker("gradcheck", [](const auto& f, const std::vector<Tensor>& in,
                              const autograd::GradcheckOptions& o) { return autograd::gradcheck(f, in, o); }),
      arg("fn"), arg("inputs"), arg("eps") = 1e-6, arg("atol") = 1e-5, arg("rtol") = 1e-3,
      "Compares fn's analytic gradients with central differences: (ok, max_abs_error, message).");
  ag.def("gradgradcheck",
         checker("gradgradcheck",
                 [](const auto& f, const std::vector<Tensor>& in, const autograd::GradcheckOptions& o) {
                   return autograd::gradgradcheck(f, in, o);
                 }),
         arg("fn"), arg("inputs"), arg("eps") = 1e-6, arg("atol") = 1e-5, arg("rtol") = 1e-3,
         "Compares fn's analytic second derivatives (through create_graph) with central differences of "
         "its first-order gradients: (ok, max_abs_error, message).");

  // ---- ops (nabla/ops.h) as module functions ----------------------------------------------
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_FN1(name) m.def(#name, [](const Tensor& x) { return nabla::name(x); }, arg("input"));
  NABLA_PY_FN1(neg) NABLA_PY_FN1(abs) NABLA_PY_FN1(sign) NABLA_PY_FN1(exp) NABLA_PY_FN1(log) NABLA_PY_FN1(log1p)
  NABLA_PY_FN1(expm1) NABLA_PY_FN1(sqrt) NABLA_PY_FN1(rsqrt) NABLA_PY_FN1(sin) NABLA_PY_FN1(cos) NABLA_PY_FN1(tanh)
  NABLA_PY_FN1(sigmoid) NABLA_PY_FN1(relu) NABLA_PY_FN1(gelu) NABLA_PY_FN1(silu) NABLA_PY_FN1(reciprocal)
#undef NABLA_PY_FN1
      // clang-format on
      m.def("leaky_relu", &nabla::leaky_relu, arg("input"), arg("negative_slope") = 0.01);
  m.def("elu", &nabla::elu, arg("input"), arg("alpha") = 1.0);
  m.def("softplus", &nabla::softplus, arg("input"), arg("beta") = 1.0, arg("threshold") = 20.0);
  m.def(
      "clamp",
      [](const Tensor& x, std::optional<Scalar> lo, std::optional<Scalar> hi) {
        return nabla::clamp(x, lo, hi);
      },
      arg("input"), arg("min") = nb::none(), arg("max") = nb::none());
  m.def(
      "pow", [](const Tensor& x, Scalar e) { return nabla::pow(x, e); }, arg("input"), arg("exponent"));
  m.def(
      "pow", [](const Tensor& x, const Tensor& e) { return nabla::pow(x, e); }, arg("input"),
      arg("exponent"));
  m.def(
      "pow", [](Scalar x, const Tensor& e) { return nabla::pow(x, e); }, arg("input"), arg("exponent"));
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_FN2A(name)                                                                                 \
  m.def(#name, [](const Tensor& a, const Tensor& b, Scalar al) { return nabla::name(a, b, al); }, arg("input"), \
        arg("other"), nb::kw_only(), arg("alpha") = 1);                                                    \
  m.def(#name, [](const Tensor& a, Scalar b, Scalar al) { return nabla::name(a, b, al); }, arg("input"),       \
        arg("other"), nb::kw_only(), arg("alpha") = 1);
  NABLA_PY_FN2A(add) NABLA_PY_FN2A(sub)
#undef NABLA_PY_FN2A
  // clang-format on
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_FN2(name)                                                                                     \
  m.def(#name, [](const Tensor& a, const Tensor& b) { return nabla::name(a, b); }, arg("input"), arg("other")); \
  m.def(#name, [](const Tensor& a, Scalar b) { return nabla::name(a, b); }, arg("input"), arg("other"));
  NABLA_PY_FN2(mul) NABLA_PY_FN2(div) NABLA_PY_FN2(eq) NABLA_PY_FN2(ne) NABLA_PY_FN2(lt) NABLA_PY_FN2(le)
  NABLA_PY_FN2(gt) NABLA_PY_FN2(ge)
#undef NABLA_PY_FN2
      // clang-format on
      m.def("maximum", &nabla::maximum, arg("input"), arg("other"));
  m.def("minimum", &nabla::minimum, arg("input"), arg("other"));
  m.def(
      "where", [](const Tensor& c, const Tensor& a, const Tensor& b) { return nabla::where(c, a, b); },
      arg("condition"), arg("input"), arg("other"));
  m.def(
      "where", [](const Tensor& c, const Tensor& a, Scalar b) { return nabla::where(c, a, b); },
      arg("condition"), arg("input"), arg("other"));
  m.def(
      "where", [](const Tensor& c, Scalar a, const Tensor& b) { return nabla::where(c, a, b); },
      arg("condition"), arg("input"), arg("other"));
  m.def("masked_fill", &nabla::masked_fill, arg("input"), arg("mask"), arg("value"));
  m.def("sum_to_size", &nabla::sum_to_size, arg("input"), arg("size"));
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_RED(name)                                                                                         \
  m.def(#name, [](const Tensor& x, std::optional<IntList> d, bool k) { return d ? nabla::name(x, *d, k) : nabla::name(x); }, \
        arg("input"), arg("dim") = nb::none(), arg("keepdim") = false);
  NABLA_PY_RED(sum) NABLA_PY_RED(mean) NABLA_PY_RED(prod)
#undef NABLA_PY_RED
      // clang-format on
      m.def("amax", &nabla::amax, arg("input"), arg("dim"), arg("keepdim") = false);
  m.def("amin", &nabla::amin, arg("input"), arg("dim"), arg("keepdim") = false);
  m.def(
      "max", [](const Tensor& x) { return nabla::max(x); }, arg("input"));
  m.def(
      "max", [](const Tensor& x, int64_t d, bool k) { return nabla::max(x, d, k); }, arg("input"), arg("dim"),
      arg("keepdim") = false);
  m.def(
      "max", [](const Tensor& x, const Tensor& o) { return nabla::maximum(x, o); }, arg("input"),
      arg("other"));
  m.def(
      "min", [](const Tensor& x) { return nabla::min(x); }, arg("input"));
  m.def(
      "min", [](const Tensor& x, int64_t d, bool k) { return nabla::min(x, d, k); }, arg("input"), arg("dim"),
      arg("keepdim") = false);
  m.def(
      "min", [](const Tensor& x, const Tensor& o) { return nabla::minimum(x, o); }, arg("input"),
      arg("other"));
  m.def(
      "argmax",
      [](const Tensor& x, std::optional<int64_t> d, bool k) {
        return d ? nabla::argmax(x, *d, k) : nabla::argmax(x);
      },
      arg("input"), arg("dim") = nb::none(), arg("keepdim") = false);
  m.def(
      "argmin",
      [](const Tensor& x, std::optional<int64_t> d, bool k) {
        return d ? nabla::argmin(x, *d, k) : nabla::argmin(x);
      },
      arg("input"), arg("dim") = nb::none(), arg("keepdim") = false);
  m.def(
      "var",
      [](const Tensor& x, std::optional<IntList> d, bool u, bool k) {
        return nabla::var(x, d ? *d : IntList(std::vector<int64_t>{}), u, k);
      },
      arg("input"), arg("dim") = nb::none(), arg("unbiased") = true, arg("keepdim") = false);
  m.def(
      "std",
      [](const Tensor& x, std::optional<IntList> d, bool u, bool k) {
        return nabla::std(x, d ? *d : IntList(std::vector<int64_t>{}), u, k);
      },
      arg("input"), arg("dim") = nb::none(), arg("unbiased") = true, arg("keepdim") = false);
  m.def("logsumexp", &nabla::logsumexp, arg("input"), arg("dim"), arg("keepdim") = false);
  m.def(
      "norm",
      [](const Tensor& x, double p, std::optional<IntList> d, bool k) {
        return d ? nabla::norm(x, p, *d, k) : nabla::norm(x, p);
      },
      arg("input"), arg("p") = 2.0, arg("dim") = nb::none(), arg("keepdim") = false);
  m.def("matmul", &nabla::matmul, arg("input"), arg("other"), Release());
  m.def("mm", &nabla::mm, arg("input"), arg("mat2"), Release());
  m.def("bmm", &nabla::bmm, arg("input"), arg("mat2"), Release());
  m.def("addmm", &nabla::addmm, arg("input"), arg("mat1"), arg("mat2"), nb::kw_only(), arg("beta") = 1,
        arg("alpha") = 1, Release());
  m.def(
      "linear",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) {
        return nabla::linear(x, w, b ? *b : Tensor());
      },
      arg("input"), arg("weight"), arg("bias") = nb::none(), Release());
  m.def("softmax", &nabla::softmax, arg("input"), arg("dim"));
  m.def("log_softmax", &nabla::log_softmax, arg("input"), arg("dim"));
  m.def("gather", &nabla::gather, arg("input"), arg("dim"), arg("index"));
  m.def("scatter_add", &nabla::scatter_add, arg("input"), arg("dim"), arg("index"), arg("src"));
  m.def("index_select", &nabla::index_select, arg("input"), arg("dim"), arg("index"));
  m.def("index_add", &nabla::index_add, arg("input"), arg("dim"), arg("index"), arg("source"));
  m.def(
      "index",
      [](const Tensor& x, const std::vector<std::optional<Tensor>>& indices) {
        return nabla::index(x, index_list(indices));
      },
      arg("input"), arg("indices"),
      "x[indices] for a tuple of index tensors (None: a whole dim), libtorch's at::index.");
  m.def(
      "index_put",
      [](const Tensor& x, const std::vector<std::optional<Tensor>>& indices, const Tensor& values,
         bool accumulate) { return nabla::index_put(x, index_list(indices), values, accumulate); },
      arg("input"), arg("indices"), arg("values"), arg("accumulate") = false);
  m.def("cat", &nabla::cat, arg("tensors"), arg("dim") = 0);
  m.def("stack", &nabla::stack, arg("tensors"), arg("dim") = 0);
  m.def(
      "split", [](const Tensor& x, int64_t s, int64_t d) { return nabla::split(x, s, d); }, arg("tensor"),
      arg("split_size_or_sections"), arg("dim") = 0);
  m.def(
      "split", [](const Tensor& x, const Shape& s, int64_t d) { return nabla::split(x, s, d); },
      arg("tensor"), arg("split_size_or_sections"), arg("dim") = 0);
  m.def("chunk", &nabla::chunk, arg("input"), arg("chunks"), arg("dim") = 0);
  m.def("one_hot", &nabla::one_hot, arg("tensor"), arg("num_classes") = -1);
  m.def("view", &nabla::view, arg("input"), arg("shape"));
  m.def("reshape", &nabla::reshape, arg("input"), arg("shape"));
  m.def("transpose", &nabla::transpose, arg("input"), arg("dim0"), arg("dim1"));
  m.def("permute", &nabla::permute, arg("input"), arg("dims"));
  m.def("slice", &nabla::slice, arg("input"), arg("dim"), arg("start") = nb::none(), arg("end") = nb::none(),
        arg("step") = 1);
  m.def("narrow", &nabla::narrow, arg("input"), arg("dim"), arg("start"), arg("length"));
  m.def("select", &nabla::select, arg("input"), arg("dim"), arg("index"));
  m.def("expand", &nabla::expand, arg("input"), arg("size"));
  m.def(
      "squeeze",
      [](const Tensor& x, std::optional<int64_t> d) { return d ? nabla::squeeze(x, *d) : nabla::squeeze(x); },
      arg("input"), arg("dim") = nb::none());
  m.def("unsqueeze", &nabla::unsqueeze, arg("input"), arg("dim"));
  m.def("flatten", &nabla::flatten, arg("input"), arg("start_dim") = 0, arg("end_dim") = -1);
  m.def("as_strided", &nabla::as_strided, arg("input"), arg("size"), arg("stride"),
        arg("storage_offset") = nb::none());
  m.def("broadcast_shapes", &nabla::broadcast_shapes, arg("shape1"), arg("shape2"));
  m.def("broadcast_tensors", &nabla::broadcast_tensors, arg("tensors"));
  m.def("result_type", &nabla::result_type, arg("tensor1"), arg("tensor2"));
  m.def("_tensor_from_nested", &tensor_from_nested, arg("data"), arg("dtype") = nb::none());
}

}  // namespace nabla::python

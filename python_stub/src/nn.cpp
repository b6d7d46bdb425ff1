// nabla.nn: Module (subclassable from Python: a Python forward() overrides the C++ one, and
// attributes that are modules or leaf tensors requiring grad register themselves, as in
// PyTorch), the layers and losses of nabla/nn/*.h, nn.functional and nn.init.
#include <nanobind/stl/variant.h>
#include <nanobind/trampoline.h>

#include <set>

#include "bind.h"

namespace nabla::python {
namespace {

using nb::arg;
namespace F = nabla::nn::functional;
using nn::Module;
using Release = nb::call_guard<nb::gil_scoped_release>;

// Python subclasses of nn.Module: C++ callers (a C++ Sequential's forward) reach the Python
// forward. Calls from Python do not come here: Module.__call__ calls the Python forward itself,
// which may take and return anything.
class PyModule : public Module {
 public:
  NB_TRAMPOLINE(Module);
  // NB_OVERRIDE, with a clear error when the Python forward returns something else than a
  // Tensor (nanobind's cast would report only "std::bad_cast").
  Tensor forward(const Tensor& x) override {
    nb::detail::ticket t(nb_trampoline, "forward", nb::detail::str_hash("forward"), false);
    if (!t.key.is_valid()) return Module::forward(x);
    nb::object r = nb_trampoline.base().attr(t.key)(x);
    if (!nb::isinstance<Tensor>(r)) {
      NABLA_FAIL(
          "{}.forward returned a {} when called from C++ code (a C++ container's forward), which "
          "takes a Tensor only",
          type_name(), nb::type_name(r.type()).c_str());
    }
    return nb::cast<Tensor>(r);
  }
  std::string extra_repr() const override { NB_OVERRIDE(extra_repr); }
};

// The Python values of the module call whose hooks run now (Module.__call__ from Python): a
// Python forward hook gets them as PyTorch's do (the positional arguments as a tuple, and
// whatever forward returned, which the hook may replace by returning a value). Hooks that C++
// runs (a child of a C++ Sequential called from C++) get the tensors instead.
struct HookCall {
  const Module* module;
  nb::object args;  // a tuple
  nb::object output;
};
thread_local HookCall* t_hook_call = nullptr;

// Runs mod's hooks (C++ ones and Python ones) on a call from Python; returns the output.
nb::object run_hooks(Module& mod, const nb::args& args, nb::object out) {
  HookCall call{&mod, nb::borrow(args), std::move(out)};
  HookCall* outer = t_hook_call;
  t_hook_call = &call;
  struct Restore {
    HookCall* prev;
    ~Restore() { t_hook_call = prev; }
  } restore{outer};
  const Tensor x = args.size() >= 1 && nb::isinstance<Tensor>(args[0]) ? nb::cast<Tensor>(args[0]) : Tensor();
  const Tensor y = nb::isinstance<Tensor>(call.output) ? nb::cast<Tensor>(call.output) : Tensor();
  const Tensor r = mod.run_hooks(x, y);
  // a C++ hook replaced the output (Python hooks replace call.output, and r with it)
  if (r.defined() &&
      !(nb::isinstance<Tensor>(call.output) && nb::cast<Tensor>(call.output).impl() == r.impl()))
    return nb::cast(r);
  return call.output;
}

// What register_forward_hook and register_backward_hook return, as torch.utils.hooks.
// RemovableHandle: handle.remove() (or leaving a `with handle:` block) removes the hook. It
// holds the module, so the module lives as long as the handle.
struct HookHandle {
  nb::object module;
  int id;
  bool backward;
  void remove() {
    if (!module.is_valid()) return;  // removing twice is harmless, as PyTorch's
    Module& m = nb::cast<Module&>(module);
    if (backward)
      m.remove_backward_hook(id);
    else
      m.remove_forward_hook(id);
    module = nb::object();
  }
};

// Module.forward's function object: a class whose forward is still this one runs its C++
// forward (a C++ layer, or a Python subclass of one that does not override forward).
PyObject* g_module_forward = nullptr;

// A module that C++ code will call (a child of Sequential). A Python subclass of a C++ layer
// (class L(nn.Linear)) that overrides forward would have the C++ layer's forward run there,
// silently: that is refused (subclasses of nn.Module itself are reached through PyModule).
std::shared_ptr<Module> callable_from_cpp(nb::handle h, const char* where) {
  auto mod = nb::cast<std::shared_ptr<Module>>(h);
  if (mod && dynamic_cast<PyModule*>(mod.get()) == nullptr &&
      PyFunction_Check(nb::getattr(h.type(), "forward", nb::none()).ptr())) {
    NABLA_FAIL(
        "{}: {} overrides forward in Python, but it subclasses the C++ layer {}, whose own forward C++ "
        "containers call; subclass nabla.nn.Module and hold a {} instead",
        where, nb::type_name(h.type()).c_str(), mod->type_name(), mod->type_name());
  }
  return mod;
}

// Module's registration functions are protected (layers call them); the binding adapts
// Python's attribute assignment to them.
struct ModuleAccess : Module {
  using Module::add_child;
  using Module::register_buffer;
  using Module::register_parameter;
};

F::Reduction reduction(const std::string& r) {
  if (r == "mean") return F::Reduction::Mean;
  if (r == "sum") return F::Reduction::Sum;
  if (r == "none") return F::Reduction::None;
  NABLA_FAIL("reduction must be 'mean', 'sum' or 'none' (got '{}')", r);
}

Tensor opt(const std::optional<Tensor>& t) { return t ? *t : Tensor(); }

bool has_name(const std::vector<std::pair<std::string, Tensor>>& v, const std::string& n) {
  for (const auto& [k, t] : v) {
    if (k == n) return true;
  }
  return false;
}

F::RNNOptions rnn_options(int64_t layers, bool bias, bool batch_first, double dropout, bool bidir,
                          std::string nl) {
  F::RNNOptions o;
  o.num_layers = layers;
  o.bias = bias;
  o.batch_first = batch_first;
  o.dropout = dropout;
  o.bidirectional = bidir;
  o.nonlinearity = std::move(nl);
  return o;
}

// PyTorch's factory keyword arguments (device=, dtype=) on the layers that have parameters or
// buffers (those whose torch.nn class takes them). The layer is built as usual, its
// initialisation drawn in float32, and then converted and moved (Module::to): it holds what
// `Layer(...).to(dtype).to(device)` holds. PyTorch draws the initialisation in the target
// dtype instead; nabla's draws never match PyTorch's (Philox, not mt19937) anyway, and this
// keeps one stream whatever the dtype. Integer buffers (num_batches_tracked) stay int64.
// Philox gives the same draws on every device, so moving after drawing changes nothing.
template <class L, class... A>
auto placed(void (*make)(L*, A...)) {
  return [make](L* self, A... a, Where where, std::optional<ScalarType> dtype) {
    if (!where && !dtype) {
      make(self, std::forward<A>(a)...);
      return;
    }
    const std::string who = nb::cast<std::string>(nb::type<L>().attr("__name__"));
    check_place_dtype(who.c_str(), dtype);  // before the layer is made (its draws)
    make(self, std::forward<A>(a)...);
    try {
      place(*self, who.c_str(), where, dtype);
    } catch (...) {
      self->~L();  // nanobind does not destroy an instance whose __init__ failed
      throw;
    }
  };
}
// placed() over the constructor L(A...).
template <class L, class... A>
auto placed_init() {
  return placed(+[](L* self, A... a) { new (self) L(std::forward<A>(a)...); });
}

// A tensor argument as its Python object, so that an in-place op can return that very object.
using TensorArg = nb::handle_t<Tensor>;
using TensorResult = nb::typed<nb::object, Tensor>;
template <class In>
TensorResult in_place(TensorArg x, In in) {
  in(nb::cast<Tensor&>(x));
  return TensorResult(nb::borrow(x));
}
template <class Out, class In>
TensorResult maybe_inplace(TensorArg x, bool inplace, Out out, In in) {
  if (inplace) return in_place(x, in);
  return TensorResult(nb::cast(out(nb::cast<Tensor&>(x))));
}

template <class T>
nb::typed<nb::iterator, T> iterator_of(const std::vector<T>& v) {
  return nb::typed<nb::iterator, T>(nb::iter(nb::cast(v)));
}

std::vector<std::pair<std::string, Tensor>> prefixed(std::vector<std::pair<std::string, Tensor>> v,
                                                     const std::string& prefix) {
  if (!prefix.empty()) {
    for (auto& [n, t] : v) n = prefix + "." + n;
  }
  return v;
}

// (name, Python object) of self and every module below it, each once, depth first, as
// PyTorch's named_modules (children as the shared handles their parents hold, so a Python
// subclass stays itself and a C++ child stays alive as long as Python holds it).
void collect_modules(nb::object obj, Module& m, const std::string& name, std::set<const Module*>* seen,
                     std::vector<std::pair<std::string, nb::object>>* out) {
  if (!seen->insert(&m).second) return;
  out->emplace_back(name, obj);
  for (const auto& [n, c] : m.named_children())
    collect_modules(nb::cast(c), *c, name.empty() ? n : name + "." + n, seen, out);
}
std::vector<std::pair<std::string, nb::object>> modules_of(nb::handle self, const std::string& prefix) {
  std::set<const Module*> seen;
  std::vector<std::pair<std::string, nb::object>> out;
  collect_modules(nb::borrow(self), nb::cast<Module&>(self), prefix, &seen, &out);
  return out;
}

// Parameters as clip_grad_norm_ takes them: one tensor, or any iterable of tensors (a list,
// or the iterator model.parameters() returns).
std::vector<Tensor> tensors_from(nb::handle params, const char* fn) {
  if (nb::isinstance<Tensor>(params)) return {nb::cast<Tensor>(params)};
  std::vector<Tensor> out;
  for (nb::handle h : nb::iter(params)) {
    NABLA_CHECK(nb::isinstance<Tensor>(h), "{}: parameters must be tensors, got a {}", fn,
                nb::type_name(h.type()).c_str());
    out.push_back(nb::cast<Tensor>(h));
  }
  return out;
}

}  // namespace

void check_place_dtype(const char* who, std::optional<ScalarType> dtype) {
  NABLA_CHECK(!dtype || is_floating_point(*dtype),
              "{}: dtype must be a floating-point dtype (the layer's parameters are), got {}", who,
              dtype_name(*dtype));
}

void place(nn::Module& m, const char* who, const Where& where, std::optional<ScalarType> dtype) {
  check_place_dtype(who, dtype);
  if (dtype) m.to(*dtype);
  if (where) {
    const Device d = std::holds_alternative<Device>(*where)
                         ? std::get<Device>(*where)
                         : Device(std::string_view(std::get<std::string>(*where)));
    nb::gil_scoped_release release;
    m.to(d);
  }
}

nb::dict state_to_dict(const StateDict& s) {
  nb::dict d;
  for (const auto& [k, t] : s) d[nb::str(k.c_str())] = t;
  return d;
}
StateDict dict_to_state(const nb::dict& d) {
  StateDict s;
  for (auto [k, v] : d) s.insert(nb::cast<std::string>(k), nb::cast<Tensor>(v));
  return s;
}

void init_nn(nb::module_& m) {
  nb::module_ nnm = m.def_submodule("nn", "nabla.nn: modules, layers and losses");

  nb::class_<HookHandle>(nnm, "RemovableHandle",
                         "A registered hook; remove() removes it (torch.utils.hooks.RemovableHandle)")
      .def("remove", &HookHandle::remove)
      .def_ro("id", &HookHandle::id)
      .def("__enter__", [](nb::handle self) { return self; })
      .def(
          "__exit__", [](HookHandle& h, nb::args) { h.remove(); },
          nb::sig("def __exit__(self, *args: typing.Any) -> None"));

  nb::class_<Module, PyModule>(nnm, "Module", "Base of every layer; subclass it and define forward()")
      .def("__init__",
           [](nb::pointer_and_handle<Module> v) {
             const std::string name = nb::cast<std::string>(nb::getattr(v.h.type(), "__name__"));
             new (static_cast<void*>(v.p)) PyModule(name);
           })
      .def("forward", &Module::forward, arg("input"))
      .def(
          "__call__",
          [](nb::handle self, nb::args args, nb::kwargs kwargs) -> nb::object {
            Module& mod = nb::cast<Module&>(self);
            nb::object forward = nb::getattr(self.type(), "forward", nb::none());
            // (a forward assigned to the instance, model.forward = fn, is PyTorch's too)
            PyObject* dict = PyObject_GenericGetDict(self.ptr(), nullptr);
            const bool own_forward = dict != nullptr && PyDict_GetItemString(dict, "forward") != nullptr;
            if (dict == nullptr) PyErr_Clear();  // a C++ layer has no instance dict
            Py_XDECREF(dict);
            nb::object out;
            if (forward.ptr() == g_module_forward && !own_forward && args.size() == 1 && kwargs.size() == 0 &&
                nb::isinstance<Tensor>(args[0])) {
              // a C++ layer's own forward, without the GIL
              const Tensor x = nb::cast<Tensor>(args[0]);
              Tensor y;
              {
                nb::gil_scoped_release release;
                y = mod.forward(x);
              }
              // an in-place layer (ReLU(inplace=True)) returns its input object, as PyTorch
              out = y.impl() == x.impl() ? nb::borrow(args[0]) : nb::cast(std::move(y));
            } else {
              // a Python forward (of a Python subclass of Module or of a C++ layer), or a layer
              // whose forward takes several arguments (RNN(x, hx)): any arguments, any result
              out = self.attr("forward")(*args, **kwargs);
            }
            return run_hooks(mod, args, std::move(out));
          },
          nb::sig("def __call__(self, *args: typing.Any, **kwargs: typing.Any) -> typing.Any"),
          "forward(*args, **kwargs), then the forward hooks (hook(module, args, output), whose non-None "
          "result replaces the output) and the backward hooks.")
      .def(
          "__setattr__",
          [](nb::handle self, const std::string& name, nb::handle value) {
            Module& mod = nb::cast<Module&>(self);
            auto& acc = static_cast<ModuleAccess&>(mod);
            if (nb::isinstance<Module>(value)) {
              bool known = false;
              for (const auto& [n, c] : mod.named_children()) known = known || n == name;
              if (!known) acc.add_child(name, nb::cast<std::shared_ptr<Module>>(value));
            } else if (nb::isinstance<Tensor>(value)) {
              const Tensor t = nb::cast<Tensor>(value);
              if (t.requires_grad() && t.is_leaf() &&
                  !has_name(mod.named_parameters(/*recurse=*/false), name)) {
                acc.register_parameter(name, t);
              }
            }
            if (PyObject_GenericSetAttr(self.ptr(), nb::str(name.c_str()).ptr(), value.ptr()) != 0) {
              throw nb::python_error();
            }
          },
          // .none(): `self.downsample = None` is common in PyTorch modules.
          nb::arg(), nb::arg().none())
      .def(
          "register_parameter",
          [](Module& mod, const std::string& n, const Tensor& t) {
            static_cast<ModuleAccess&>(mod).register_parameter(n, t, t.requires_grad() || !t.defined());
          },
          arg("name"), arg("param"))
      .def(
          "register_buffer",
          [](Module& mod, const std::string& n, const Tensor& t) {
            static_cast<ModuleAccess&>(mod).register_buffer(n, t);
          },
          arg("name"), arg("tensor"))
      .def(
          "add_module",
          [](Module& mod, const std::string& n, std::shared_ptr<Module> c) {
            static_cast<ModuleAccess&>(mod).add_child(n, std::move(c));
          },
          arg("name"), arg("module"))
      // As PyTorch's: iterators (next(model.parameters()) works; list() copies them out).
      .def(
          "parameters", [](const Module& mod, bool r) { return iterator_of(mod.parameters(r)); },
          arg("recurse") = true)
      .def(
          "named_parameters",
          [](const Module& mod, const std::string& prefix, bool r) {
            return iterator_of(prefixed(mod.named_parameters(r), prefix));
          },
          arg("prefix") = "", arg("recurse") = true)
      .def(
          "buffers",
          [](const Module& mod, bool r) {
            std::vector<Tensor> out;
            for (auto& [n, t] : mod.named_buffers(r)) out.push_back(t);
            return iterator_of(out);
          },
          arg("recurse") = true)
      .def(
          "named_buffers",
          [](const Module& mod, const std::string& prefix, bool r) {
            return iterator_of(prefixed(mod.named_buffers(r), prefix));
          },
          arg("prefix") = "", arg("recurse") = true)
      .def("children",
           [](const Module& mod) {
             std::vector<std::shared_ptr<Module>> out;
             for (auto& [n, c] : mod.named_children()) out.push_back(c);
             return iterator_of(out);
           })
      .def("named_children", [](const Module& mod) { return iterator_of(mod.named_children()); })
      .def(
          "modules",
          [](nb::handle self) {
            nb::list out;
            for (auto& [n, m] : modules_of(self, "")) out.append(m);
            return nb::typed<nb::iterator, Module>(nb::iter(out));
          },
          "This module and every one below it, each once (depth first).")
      .def(
          "named_modules",
          [](nb::handle self, const std::string& prefix) {
            nb::list out;
            for (auto& [n, m] : modules_of(self, prefix)) out.append(nb::make_tuple(n, m));
            return nb::typed<nb::iterator, std::pair<std::string, Module>>(nb::iter(out));
          },
          arg("prefix") = "",
          "(name, module) of this module (named prefix) and every one below it, each once.")
      .def(
          "apply",
          [](nb::handle self, nb::handle fn) {
            // as PyTorch: the children first (each through its own apply), then self
            for (auto& [n, c] : nb::cast<Module&>(self).named_children()) nb::cast(c).attr("apply")(fn);
            fn(self);
            return self;
          },
          arg("fn"), nb::sig("def apply(self, fn: collections.abc.Callable[[Module], object]) -> Module"),
          "Calls fn on every submodule (children first, recursively), then on self; returns self.")
      .def("num_parameters", &Module::num_parameters, arg("trainable_only") = false)
      .def("state_dict", [](const Module& mod) { return state_to_dict(mod.state_dict()); })
      .def(
          "load_state_dict",
          [](Module& mod, const nb::dict& d, bool strict) { mod.load_state_dict(dict_to_state(d), strict); },
          arg("state_dict"), arg("strict") = true)
      .def(
          "train",
          [](nb::handle self, bool on) {
            nb::cast<Module&>(self).train(on);
            return self;
          },
          arg("mode") = true)
      .def("eval",
           [](nb::handle self) {
             nb::cast<Module&>(self).eval();
             return self;
           })
      .def_prop_ro("training", &Module::is_training)
      .def(
          "to",
          [](nb::handle self, nb::handle where) {
            Module& mod = nb::cast<Module&>(self);
            if (nb::isinstance<ScalarType>(where)) {
              mod.to(nb::cast<ScalarType>(where));
            } else {
              const Device d = nb::cast<Device>(where);
              nb::gil_scoped_release release;
              mod.to(d);
            }
            return self;
          },
          arg("device_or_dtype"))
      .def(
          "cuda",
          [](nb::handle self, int index) {
            nb::cast<Module&>(self).to(Device::cuda(index));
            return self;
          },
          arg("device") = 0)
      .def("cpu",
           [](nb::handle self) {
             nb::cast<Module&>(self).to(Device::cpu());
             return self;
           })
      .def("double",
           [](nb::handle self) {
             nb::cast<Module&>(self).to(kFloat64);
             return self;
           })
      .def("float",
           [](nb::handle self) {
             nb::cast<Module&>(self).to(kFloat32);
             return self;
           })
      .def("zero_grad", &Module::zero_grad, arg("set_to_none") = true)
      .def(
          "register_forward_hook",
          [](nb::handle self, nb::handle hook) {
            // hook(module, args, output), called with the Python module object. The module
            // owns its hooks, so the hook may hold `self` only weakly (no cycle through C++).
            NABLA_CHECK(PyCallable_Check(hook.ptr()) != 0,
                        "register_forward_hook: the hook must be callable");
            PyObject* selfp = self.ptr();
            auto fn = std::make_shared<PyRef>(hook);
            const int id = nb::cast<Module&>(self).add_forward_hook([selfp, fn](Module& m, const Tensor& in,
                                                                                Tensor& out) {
              nb::gil_scoped_acquire gil;
              HookCall* call = t_hook_call;
              if (call != nullptr && call->module == &m) {  // called from Python: its values
                nb::object r = nb::handle(fn->p)(nb::handle(selfp), call->args, call->output);
                if (!r.is_none()) {
                  call->output = r;
                  out = nb::isinstance<Tensor>(r) ? nb::cast<Tensor>(r) : Tensor();
                }
                return;
              }
              nb::object r = nb::handle(fn->p)(nb::handle(selfp), nb::make_tuple(in), out);
              if (r.is_none()) return;
              NABLA_CHECK(nb::isinstance<Tensor>(r),
                          "a forward hook of {} returned a {} when the module was called from C++ code (a "
                          "C++ container's forward), which takes a Tensor or None only",
                          m.type_name(), nb::type_name(r.type()).c_str());
              out = nb::cast<Tensor>(r);
            });
            return HookHandle{nb::borrow(self), id, /*backward=*/false};
          },
          arg("hook"),
          "Calls hook(module, args, output) after each forward (args: the positional arguments, a tuple); "
          "a result other than None replaces the output. Returns a handle: handle.remove() removes it.")
      .def("remove_forward_hook", &Module::remove_forward_hook, arg("handle"))
      .def(
          "remove_forward_hook", [](Module&, HookHandle& h) { h.remove(); }, arg("handle"))
      .def(
          "register_backward_hook",
          [](nb::handle self, nb::handle hook) {
            // hook(module, grad_output) during backward (without the GIL, so it takes it). The
            // hook list may outlive the module (the graph holds it): the module is looked up
            // by address when the hook runs, None once it is gone.
            NABLA_CHECK(PyCallable_Check(hook.ptr()) != 0,
                        "register_backward_hook: the hook must be callable");
            auto fn = std::make_shared<PyRef>(hook);
            const int id = nb::cast<Module&>(self).add_backward_hook([fn](Module& m, const Tensor& grad) {
              nb::gil_scoped_acquire gil;
              nb::object obj = nb::find(&m);
              nb::handle(fn->p)(obj.is_valid() ? obj : nb::none(), grad);
            });
            return HookHandle{nb::borrow(self), id, /*backward=*/true};
          },
          arg("hook"), "Calls hook(module, grad_output) during backward; returns a handle (handle.remove()).")
      .def("remove_backward_hook", &Module::remove_backward_hook, arg("handle"))
      .def(
          "remove_backward_hook", [](Module&, HookHandle& h) { h.remove(); }, arg("handle"))
      .def("__getattr__",
           [](const Module& mod, const std::string& name) -> nb::object {
             // As PyTorch's Module.__getattr__: parameters, buffers and children by name.
             for (const auto& [n, t] : mod.named_parameters(/*recurse=*/false)) {
               if (n == name) return nb::cast(t);
             }
             for (const auto& [n, t] : mod.named_buffers(/*recurse=*/false)) {
               if (n == name) return nb::cast(t);
             }
             for (const auto& [n, c] : mod.named_children()) {
               if (n == name) return nb::cast(c);
             }
             throw nb::attribute_error(
                 ("'" + mod.type_name() + "' module has no attribute '" + name + "'").c_str());
           })
      .def("extra_repr", &Module::extra_repr)
      // pickle and copy.deepcopy, for nabla's layers and Python subclasses alike (copyreg would
      // reach only the exact types): nabla.serialization rebuilds a module from its class and state.
      .def(
          "__reduce_ex__",
          [](nb::handle self, int protocol) {
            return nb::module_::import_("nabla.serialization").attr("_reduce_module")(self, protocol);
          },
          arg("protocol"))
      .def("__repr__", &Module::repr)
      .def_prop_ro("type_name", &Module::type_name);
  // a strong reference, held for the module's lifetime
  g_module_forward = nnm.attr("Module").attr("forward").inc_ref().ptr();

  nnm.def(
      "Parameter",
      [](const Tensor& data, bool requires_grad) { return data.detach().requires_grad_(requires_grad); },
      arg("data"), arg("requires_grad") = true,
      "A leaf tensor for a module parameter (assigning it to a Module attribute registers it).");

  using nn::Sequential;
  nb::class_<Sequential, Module>(nnm, "Sequential")
      .def("__init__",
           [](Sequential* s, nb::args mods) {
             new (s) Sequential();
             for (nb::handle h : mods) s->push_back(callable_from_cpp(h, "Sequential"));
           })
      .def(
          "append",
          [](Sequential& s, nb::handle_t<Module> h) {
            s.push_back(callable_from_cpp(h, "Sequential.append"));
          },
          arg("module"))
      .def(
          "forward",
          [](const Sequential& s, nb::handle input) {
            // As PyTorch's: each module's output, whatever it is (a tuple too), is the next one's
            // single input; each runs through its own __call__ (its Python forward, its hooks).
            nb::object v = nb::borrow(input);
            for (const auto& [n, c] : s.named_children()) v = nb::cast(c)(v);
            return v;
          },
          arg("input"), nb::sig("def forward(self, input: typing.Any) -> typing.Any"))
      .def("__len__", &Sequential::size)
      .def("__getitem__", [](const Sequential& s, int64_t i) {
        const auto n = static_cast<int64_t>(s.size());
        if (i < -n || i >= n) throw nb::index_error("Sequential index out of range");
        return s[static_cast<std::size_t>(i < 0 ? i + n : i)];
      });

  nb::class_<nn::Linear, Module>(nnm, "Linear")
      .def("__init__", placed_init<nn::Linear, int64_t, int64_t, bool>(), arg("in_features"),
           arg("out_features"), arg("bias") = true, NABLA_PY_FACTORY_KWARGS)
      .def_ro("in_features", &nn::Linear::in_features)
      .def_ro("out_features", &nn::Linear::out_features)
      .def_ro("weight", &nn::Linear::weight)
      .def_ro("bias", &nn::Linear::bias);
  // as torch.nn.Identity: "argument-insensitive"
  nb::class_<nn::Identity, Module>(nnm, "Identity")
      .def("__init__", [](nn::Identity* i, nb::args, nb::kwargs) { new (i) nn::Identity(); })
      .def(
          "forward", [](nb::handle, nb::handle input) { return nb::borrow(input); }, arg("input"),
          nb::sig("def forward(self, input: typing.Any) -> typing.Any"));
  nb::class_<nn::Flatten, Module>(nnm, "Flatten")
      .def(nb::init<int64_t, int64_t>(), arg("start_dim") = 1, arg("end_dim") = -1);
  nb::class_<nn::Dropout, Module>(nnm, "Dropout")
      .def(nb::init<double, bool>(), arg("p") = 0.5, arg("inplace") = false)
      .def_ro("p", &nn::Dropout::p)
      .def_ro("inplace", &nn::Dropout::inplace);
  nb::class_<nn::ReLU, Module>(nnm, "ReLU")
      .def(nb::init<bool>(), arg("inplace") = false)
      .def_ro("inplace", &nn::ReLU::inplace);
  nb::class_<nn::LeakyReLU, Module>(nnm, "LeakyReLU")
      .def(nb::init<double, bool>(), arg("negative_slope") = 0.01, arg("inplace") = false)
      .def_ro("negative_slope", &nn::LeakyReLU::negative_slope)
      .def_ro("inplace", &nn::LeakyReLU::inplace);
  nb::class_<nn::Sigmoid, Module>(nnm, "Sigmoid").def(nb::init<>());
  nb::class_<nn::Tanh, Module>(nnm, "Tanh").def(nb::init<>());
  nb::class_<nn::Softmax, Module>(nnm, "Softmax").def(nb::init<int64_t>(), arg("dim"));
  nb::class_<nn::LogSoftmax, Module>(nnm, "LogSoftmax").def(nb::init<int64_t>(), arg("dim"));
  nb::class_<nn::GELU, Module>(nnm, "GELU").def(nb::init<>());
  nb::class_<nn::SiLU, Module>(nnm, "SiLU")
      .def(nb::init<bool>(), arg("inplace") = false)
      .def_ro("inplace", &nn::SiLU::inplace);
  nb::class_<nn::ELU, Module>(nnm, "ELU")
      .def(nb::init<double, bool>(), arg("alpha") = 1.0, arg("inplace") = false)
      .def_ro("alpha", &nn::ELU::alpha)
      .def_ro("inplace", &nn::ELU::inplace);
  nb::class_<nn::Softplus, Module>(nnm, "Softplus")
      .def(nb::init<double, double>(), arg("beta") = 1.0, arg("threshold") = 20.0);

  // ---- convolutional layers (nabla/nn/conv.h) -------------------------------------------
  using S2 = F::Size2;
  nb::class_<nn::Conv2d, Module>(nnm, "Conv2d")
      .def("__init__", placed_init<nn::Conv2d, int64_t, int64_t, S2, S2, S2, S2, int64_t, bool>(),
           arg("in_channels"), arg("out_channels"), arg("kernel_size"), arg("stride") = 1, arg("padding") = 0,
           arg("dilation") = 1, arg("groups") = 1, arg("bias") = true, NABLA_PY_FACTORY_KWARGS)
      .def_ro("weight", &nn::Conv2d::weight)
      .def_ro("bias", &nn::Conv2d::bias);
  nb::class_<nn::ConvTranspose2d, Module>(nnm, "ConvTranspose2d")
      .def("__init__",
           placed_init<nn::ConvTranspose2d, int64_t, int64_t, S2, S2, S2, S2, int64_t, bool, S2>(),
           arg("in_channels"), arg("out_channels"), arg("kernel_size"), arg("stride") = 1, arg("padding") = 0,
           arg("output_padding") = 0, arg("groups") = 1, arg("bias") = true, arg("dilation") = 1,
           NABLA_PY_FACTORY_KWARGS)
      .def_ro("weight", &nn::ConvTranspose2d::weight)
      .def_ro("bias", &nn::ConvTranspose2d::bias);
  nb::class_<nn::MaxPool2d, Module>(nnm, "MaxPool2d")
      .def(
          "__init__",
          [](nn::MaxPool2d* p, S2 k, std::optional<S2> s, S2 pad, S2 dil, bool ceil) {
            new (p) nn::MaxPool2d(k, s.value_or(S2()), pad, dil, ceil);
          },
          arg("kernel_size"), arg("stride") = nb::none(), arg("padding") = 0, arg("dilation") = 1,
          arg("ceil_mode") = false);
  nb::class_<nn::AvgPool2d, Module>(nnm, "AvgPool2d")
      .def(
          "__init__",
          [](nn::AvgPool2d* p, S2 k, std::optional<S2> s, S2 pad, bool ceil, bool cip) {
            new (p) nn::AvgPool2d(k, s.value_or(S2()), pad, ceil, cip);
          },
          arg("kernel_size"), arg("stride") = nb::none(), arg("padding") = 0, arg("ceil_mode") = false,
          arg("count_include_pad") = true);
  nb::class_<nn::AdaptiveAvgPool2d, Module>(nnm, "AdaptiveAvgPool2d").def(nb::init<S2>(), arg("output_size"));
  nb::class_<nn::BatchNorm, Module>(nnm, "BatchNorm")
      .def_ro("weight", &nn::BatchNorm::weight)
      .def_ro("bias", &nn::BatchNorm::bias)
      .def_ro("running_mean", &nn::BatchNorm::running_mean)
      .def_ro("running_var", &nn::BatchNorm::running_var);
  nb::class_<nn::BatchNorm1d, nn::BatchNorm>(nnm, "BatchNorm1d")
      .def("__init__", placed_init<nn::BatchNorm1d, int64_t, double, double, bool, bool>(),
           arg("num_features"), arg("eps") = 1e-5, arg("momentum") = 0.1, arg("affine") = true,
           arg("track_running_stats") = true, NABLA_PY_FACTORY_KWARGS);
  nb::class_<nn::BatchNorm2d, nn::BatchNorm>(nnm, "BatchNorm2d")
      .def("__init__", placed_init<nn::BatchNorm2d, int64_t, double, double, bool, bool>(),
           arg("num_features"), arg("eps") = 1e-5, arg("momentum") = 0.1, arg("affine") = true,
           arg("track_running_stats") = true, NABLA_PY_FACTORY_KWARGS);
  nb::class_<nn::LayerNorm, Module>(nnm, "LayerNorm")
      .def("__init__", placed(+[](nn::LayerNorm* l, IntList shape, double eps, bool affine) {
             new (l) nn::LayerNorm(shape.vec(), eps, affine);
           }),
           arg("normalized_shape"), arg("eps") = 1e-5, arg("elementwise_affine") = true,
           NABLA_PY_FACTORY_KWARGS)
      .def_ro("weight", &nn::LayerNorm::weight)
      .def_ro("bias", &nn::LayerNorm::bias);
  nb::class_<nn::Dropout2d, Module>(nnm, "Dropout2d")
      .def(nb::init<double, bool>(), arg("p") = 0.5, arg("inplace") = false)
      .def_ro("p", &nn::Dropout2d::p)
      .def_ro("inplace", &nn::Dropout2d::inplace);

  // ---- recurrent layers (nabla/nn/recurrent.h) ----------------------------------------------
  // As PyTorch's: rnn(x, hx) returns (output, h_n), lstm(x, (h0, c0)) returns (output, (h_n, c_n));
  // inside a C++ container the output sequence alone flows on.
  nb::class_<nn::RNNBase, Module>(nnm, "RNNBase")
      .def(
          "forward",
          [](nn::RNNBase& r, const Tensor& x, nb::handle hx) -> nb::object {
            Tensor h0, c0;
            const bool lstm = r.type_name() == "LSTM";
            if (!hx.is_none()) {
              if (lstm)
                std::tie(h0, c0) = nb::cast<std::pair<Tensor, Tensor>>(hx);
              else
                h0 = nb::cast<Tensor>(hx);
            }
            F::RNNOutput out;
            {
              nb::gil_scoped_release release;
              out = r.forward_with_state(x, h0, c0);
            }
            if (lstm) return nb::make_tuple(out.output, nb::make_tuple(out.h_n, out.c_n));
            return nb::make_tuple(out.output, out.h_n);
          },
          arg("input"), arg("hx") = nb::none())
      .def("flatten_parameters", &nn::RNNBase::flatten_parameters,
           "A no-op, as there is nothing to pack: on the CPU nothing is, and on CUDA the cuDNN kernel packs "
           "the weights itself on the first call and again only after a parameter changed.")
      .def_ro("input_size", &nn::RNNBase::input_size)
      .def_ro("hidden_size", &nn::RNNBase::hidden_size)
      .def_prop_ro("num_layers", [](const nn::RNNBase& r) { return r.options.num_layers; })
      .def_prop_ro("batch_first", [](const nn::RNNBase& r) { return r.options.batch_first; })
      .def_prop_ro("bidirectional", [](const nn::RNNBase& r) { return r.options.bidirectional; })
      .def_prop_ro("flat_weights", &nn::RNNBase::flat_weights);
  nb::class_<nn::RNN, nn::RNNBase>(nnm, "RNN")
      .def("__init__",
           placed(+[](nn::RNN* r, int64_t in, int64_t hid, int64_t layers, const std::string& nl, bool bias,
                      bool bf, double dropout, bool bidir) {
             new (r) nn::RNN(in, hid, rnn_options(layers, bias, bf, dropout, bidir, nl));
           }),
           arg("input_size"), arg("hidden_size"), arg("num_layers") = 1, arg("nonlinearity") = "tanh",
           arg("bias") = true, arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false,
           NABLA_PY_FACTORY_KWARGS);
  nb::class_<nn::LSTM, nn::RNNBase>(nnm, "LSTM")
      .def("__init__",
           placed(+[](nn::LSTM* r, int64_t in, int64_t hid, int64_t layers, bool bias, bool bf,
                      double dropout, bool bidir) {
             new (r) nn::LSTM(in, hid, rnn_options(layers, bias, bf, dropout, bidir, "tanh"));
           }),
           arg("input_size"), arg("hidden_size"), arg("num_layers") = 1, arg("bias") = true,
           arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false,
           NABLA_PY_FACTORY_KWARGS);
  nb::class_<nn::GRU, nn::RNNBase>(nnm, "GRU")
      .def("__init__",
           placed(+[](nn::GRU* r, int64_t in, int64_t hid, int64_t layers, bool bias, bool bf, double dropout,
                      bool bidir) {
             new (r) nn::GRU(in, hid, rnn_options(layers, bias, bf, dropout, bidir, "tanh"));
           }),
           arg("input_size"), arg("hidden_size"), arg("num_layers") = 1, arg("bias") = true,
           arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false,
           NABLA_PY_FACTORY_KWARGS);
  nb::class_<nn::RNNCellBase, Module>(nnm, "RNNCellBase")
      .def_ro("input_size", &nn::RNNCellBase::input_size)
      .def_ro("hidden_size", &nn::RNNCellBase::hidden_size)
      .def_ro("weight_ih", &nn::RNNCellBase::weight_ih)
      .def_ro("weight_hh", &nn::RNNCellBase::weight_hh)
      .def_ro("bias_ih", &nn::RNNCellBase::bias_ih)
      .def_ro("bias_hh", &nn::RNNCellBase::bias_hh);
  nb::class_<nn::RNNCell, nn::RNNCellBase>(nnm, "RNNCell")
      .def("__init__", placed_init<nn::RNNCell, int64_t, int64_t, bool, std::string>(), arg("input_size"),
           arg("hidden_size"), arg("bias") = true, arg("nonlinearity") = "tanh", NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::RNNCell& c, const Tensor& x, std::optional<Tensor> h) { return c.step(x, opt(h)); },
          arg("input"), arg("hx") = nb::none());
  nb::class_<nn::LSTMCell, nn::RNNCellBase>(nnm, "LSTMCell")
      .def("__init__", placed_init<nn::LSTMCell, int64_t, int64_t, bool>(), arg("input_size"),
           arg("hidden_size"), arg("bias") = true, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::LSTMCell& c, const Tensor& x, std::optional<std::pair<Tensor, Tensor>> hx) {
            return hx ? c.step(x, hx->first, hx->second) : c.step(x, Tensor(), Tensor());
          },
          arg("input"), arg("hx") = nb::none());
  nb::class_<nn::GRUCell, nn::RNNCellBase>(nnm, "GRUCell")
      .def("__init__", placed_init<nn::GRUCell, int64_t, int64_t, bool>(), arg("input_size"),
           arg("hidden_size"), arg("bias") = true, NABLA_PY_FACTORY_KWARGS)
      .def(
          "forward",
          [](nn::GRUCell& c, const Tensor& x, std::optional<Tensor> h) { return c.step(x, opt(h)); },
          arg("input"), arg("hx") = nb::none());
  nb::class_<nn::Embedding, Module>(nnm, "Embedding")
      .def("__init__", placed_init<nn::Embedding, int64_t, int64_t, std::optional<int64_t>>(),
           arg("num_embeddings"), arg("embedding_dim"), arg("padding_idx") = nb::none(),
           NABLA_PY_FACTORY_KWARGS)
      .def_ro("num_embeddings", &nn::Embedding::num_embeddings)
      .def_ro("embedding_dim", &nn::Embedding::embedding_dim)
      .def_ro("padding_idx", &nn::Embedding::padding_idx)
      .def_ro("weight", &nn::Embedding::weight);
#undef NABLA_PY_FACTORY_KWARGS

  // ---- losses ------------------------------------------------------------------------------
  nb::class_<nn::Loss, Module>(nnm, "Loss")
      .def(
          "forward", [](nn::Loss& l, const Tensor& a, const Tensor& b) { return l.forward(a, b); },
          arg("input"), arg("target"))
      .def(
          "__call__", [](nn::Loss& l, const Tensor& a, const Tensor& b) { return l(a, b); }, arg("input"),
          arg("target"));
  nb::class_<nn::MSELoss, nn::Loss>(nnm, "MSELoss")
      .def(
          "__init__", [](nn::MSELoss* l, const std::string& r) { new (l) nn::MSELoss(reduction(r)); },
          arg("reduction") = "mean");
  nb::class_<nn::L1Loss, nn::Loss>(nnm, "L1Loss")
      .def(
          "__init__", [](nn::L1Loss* l, const std::string& r) { new (l) nn::L1Loss(reduction(r)); },
          arg("reduction") = "mean");
  nb::class_<nn::SmoothL1Loss, nn::Loss>(nnm, "SmoothL1Loss")
      .def(
          "__init__",
          [](nn::SmoothL1Loss* l, const std::string& r, double beta) {
            new (l) nn::SmoothL1Loss(reduction(r), beta);
          },
          arg("reduction") = "mean", arg("beta") = 1.0);
  nb::class_<nn::CrossEntropyLoss, nn::Loss>(nnm, "CrossEntropyLoss")
      .def(
          "__init__",
          [](nn::CrossEntropyLoss* l, std::optional<Tensor> w, int64_t ii, const std::string& r, double ls) {
            new (l) nn::CrossEntropyLoss(F::CrossEntropyOptions{opt(w), ii, reduction(r), ls});
          },
          arg("weight") = nb::none(), arg("ignore_index") = -100, arg("reduction") = "mean",
          arg("label_smoothing") = 0.0);
  nb::class_<nn::NLLLoss, nn::Loss>(nnm, "NLLLoss")
      .def(
          "__init__",
          [](nn::NLLLoss* l, std::optional<Tensor> w, int64_t ii, const std::string& r) {
            new (l) nn::NLLLoss(F::NLLLossOptions{opt(w), ii, reduction(r)});
          },
          arg("weight") = nb::none(), arg("ignore_index") = -100, arg("reduction") = "mean");
  nb::class_<nn::BCELoss, nn::Loss>(nnm, "BCELoss")
      .def(
          "__init__",
          [](nn::BCELoss* l, std::optional<Tensor> w, const std::string& r) {
            new (l) nn::BCELoss(opt(w), reduction(r));
          },
          arg("weight") = nb::none(), arg("reduction") = "mean");
  nb::class_<nn::BCEWithLogitsLoss, nn::Loss>(nnm, "BCEWithLogitsLoss")
      .def(
          "__init__",
          [](nn::BCEWithLogitsLoss* l, std::optional<Tensor> w, const std::string& r,
             std::optional<Tensor> pw) { new (l) nn::BCEWithLogitsLoss(opt(w), opt(pw), reduction(r)); },
          arg("weight") = nb::none(), arg("reduction") = "mean", arg("pos_weight") = nb::none());
  nb::class_<nn::HingeEmbeddingLoss, nn::Loss>(nnm, "HingeEmbeddingLoss")
      .def(
          "__init__",
          [](nn::HingeEmbeddingLoss* l, double mg, const std::string& r) {
            new (l) nn::HingeEmbeddingLoss(mg, reduction(r));
          },
          arg("margin") = 1.0, arg("reduction") = "mean");
  nb::class_<nn::MultiMarginLoss, nn::Loss>(nnm, "MultiMarginLoss")
      .def(
          "__init__",
          [](nn::MultiMarginLoss* l, int p, double mg, std::optional<Tensor> w, const std::string& r) {
            new (l) nn::MultiMarginLoss(p, mg, opt(w), reduction(r));
          },
          arg("p") = 1, arg("margin") = 1.0, arg("weight") = nb::none(), arg("reduction") = "mean");

  // ---- nn.functional -------------------------------------------------------------------------
  nb::module_ f = nnm.def_submodule("functional", "nabla.nn.functional: stateless layers and losses");
  // inplace=True (and the trailing-underscore forms) write into the input and return the input
  // object itself, as PyTorch's.
  f.def(
      "relu",
      [](TensorArg x, bool inplace) {
        return maybe_inplace(
            x, inplace, [](const Tensor& t) { return nabla::relu(t); }, [](Tensor& t) { F::relu_(t); });
      },
      arg("input"), arg("inplace") = false);
  f.def(
      "relu_", [](TensorArg x) { return in_place(x, [](Tensor& t) { F::relu_(t); }); }, arg("input"));
  f.def("sigmoid", &nabla::sigmoid, arg("input"));
  f.def("tanh", &nabla::tanh, arg("input"));
  f.def("gelu", &nabla::gelu, arg("input"));
  f.def(
      "silu",
      [](TensorArg x, bool inplace) {
        return maybe_inplace(
            x, inplace, [](const Tensor& t) { return nabla::silu(t); }, [](Tensor& t) { F::silu_(t); });
      },
      arg("input"), arg("inplace") = false);
  f.def(
      "silu_", [](TensorArg x) { return in_place(x, [](Tensor& t) { F::silu_(t); }); }, arg("input"));
  f.def(
      "leaky_relu",
      [](TensorArg x, double slope, bool inplace) {
        return maybe_inplace(
            x, inplace, [slope](const Tensor& t) { return nabla::leaky_relu(t, slope); },
            [slope](Tensor& t) { F::leaky_relu_(t, slope); });
      },
      arg("input"), arg("negative_slope") = 0.01, arg("inplace") = false);
  f.def(
      "leaky_relu_",
      [](TensorArg x, double slope) { return in_place(x, [slope](Tensor& t) { F::leaky_relu_(t, slope); }); },
      arg("input"), arg("negative_slope") = 0.01);
  f.def(
      "elu",
      [](TensorArg x, double alpha, bool inplace) {
        return maybe_inplace(
            x, inplace, [alpha](const Tensor& t) { return nabla::elu(t, alpha); },
            [alpha](Tensor& t) { F::elu_(t, alpha); });
      },
      arg("input"), arg("alpha") = 1.0, arg("inplace") = false);
  f.def(
      "elu_",
      [](TensorArg x, double alpha) { return in_place(x, [alpha](Tensor& t) { F::elu_(t, alpha); }); },
      arg("input"), arg("alpha") = 1.0);
  f.def("softplus", &nabla::softplus, arg("input"), arg("beta") = 1.0, arg("threshold") = 20.0);
  f.def("softmax", &nabla::softmax, arg("input"), arg("dim"));
  f.def("log_softmax", &nabla::log_softmax, arg("input"), arg("dim"));
  f.def(
      "linear",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) { return nabla::linear(x, w, opt(b)); },
      arg("input"), arg("weight"), arg("bias") = nb::none(), Release());
  f.def("one_hot", &nabla::one_hot, arg("tensor"), arg("num_classes") = -1);
  f.def(
      "dropout",
      [](TensorArg x, double p, bool tr, bool inplace) {
        return maybe_inplace(
            x, inplace, [=](const Tensor& t) { return F::dropout(t, p, tr); },
            [=](Tensor& t) { F::dropout_(t, p, tr); });
      },
      arg("input"), arg("p") = 0.5, arg("training") = true, arg("inplace") = false);
  f.def(
      "dropout_",
      [](TensorArg x, double p, bool tr) { return in_place(x, [=](Tensor& t) { F::dropout_(t, p, tr); }); },
      arg("input"), arg("p") = 0.5, arg("training") = true);
  f.def(
      "dropout2d",
      [](TensorArg x, double p, bool tr, bool inplace) {
        return maybe_inplace(
            x, inplace, [=](const Tensor& t) { return F::dropout2d(t, p, tr); },
            [=](Tensor& t) { F::dropout2d_(t, p, tr); });
      },
      arg("input"), arg("p") = 0.5, arg("training") = true, arg("inplace") = false);
  f.def(
      "dropout2d_",
      [](TensorArg x, double p, bool tr) { return in_place(x, [=](Tensor& t) { F::dropout2d_(t, p, tr); }); },
      arg("input"), arg("p") = 0.5, arg("training") = true);
  // A table of binding macros, one row per op: kept in rows, not formatted.
  // clang-format off
#define NABLA_PY_LOSS(name)                                                                                  \
  f.def(#name, [](const Tensor& a, const Tensor& b, const std::string& r) { return F::name(a, b, reduction(r)); }, \
        arg("input"), arg("target"), arg("reduction") = "mean");
  NABLA_PY_LOSS(mse_loss) NABLA_PY_LOSS(l1_loss)
#undef NABLA_PY_LOSS
      // clang-format on
      f.def(
          "smooth_l1_loss",
          [](const Tensor& a, const Tensor& b, const std::string& r, double beta) {
            return F::smooth_l1_loss(a, b, reduction(r), beta);
          },
          arg("input"), arg("target"), arg("reduction") = "mean", arg("beta") = 1.0);
  f.def(
      "cross_entropy",
      [](const Tensor& a, const Tensor& b, std::optional<Tensor> w, int64_t ii, const std::string& r,
         double ls) {
        return F::cross_entropy(a, b, F::CrossEntropyOptions{opt(w), ii, reduction(r), ls});
      },
      arg("input"), arg("target"), arg("weight") = nb::none(), arg("ignore_index") = -100,
      arg("reduction") = "mean", arg("label_smoothing") = 0.0);
  f.def(
      "nll_loss",
      [](const Tensor& a, const Tensor& b, std::optional<Tensor> w, int64_t ii, const std::string& r) {
        return F::nll_loss(a, b, F::NLLLossOptions{opt(w), ii, reduction(r)});
      },
      arg("input"), arg("target"), arg("weight") = nb::none(), arg("ignore_index") = -100,
      arg("reduction") = "mean");
  f.def(
      "binary_cross_entropy",
      [](const Tensor& a, const Tensor& b, std::optional<Tensor> w, const std::string& r) {
        return F::binary_cross_entropy(a, b, opt(w), reduction(r));
      },
      arg("input"), arg("target"), arg("weight") = nb::none(), arg("reduction") = "mean");
  f.def(
      "binary_cross_entropy_with_logits",
      [](const Tensor& a, const Tensor& b, std::optional<Tensor> w, const std::string& r,
         std::optional<Tensor> pw) {
        return F::binary_cross_entropy_with_logits(a, b, opt(w), opt(pw), reduction(r));
      },
      arg("input"), arg("target"), arg("weight") = nb::none(), arg("reduction") = "mean",
      arg("pos_weight") = nb::none());
  f.def(
      "hinge_embedding_loss",
      [](const Tensor& a, const Tensor& b, double mg, const std::string& r) {
        return F::hinge_embedding_loss(a, b, mg, reduction(r));
      },
      arg("input"), arg("target"), arg("margin") = 1.0, arg("reduction") = "mean");
  f.def(
      "multi_margin_loss",
      [](const Tensor& a, const Tensor& b, int p, double mg, std::optional<Tensor> w, const std::string& r) {
        return F::multi_margin_loss(a, b, p, mg, opt(w), reduction(r));
      },
      arg("input"), arg("target"), arg("p") = 1, arg("margin") = 1.0, arg("weight") = nb::none(),
      arg("reduction") = "mean");
  f.def(
      "conv2d",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, S2 s, S2 p, S2 d, int64_t g) {
        return F::conv2d(x, w, opt(b), s, p, d, g);
      },
      arg("input"), arg("weight"), arg("bias") = nb::none(), arg("stride") = 1, arg("padding") = 0,
      arg("dilation") = 1, arg("groups") = 1, Release());
  f.def(
      "conv_transpose2d",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b, S2 s, S2 p, S2 op, int64_t g, S2 d) {
        return F::conv_transpose2d(x, w, opt(b), s, p, op, g, d);
      },
      arg("input"), arg("weight"), arg("bias") = nb::none(), arg("stride") = 1, arg("padding") = 0,
      arg("output_padding") = 0, arg("groups") = 1, arg("dilation") = 1, Release());
  f.def(
      "max_pool2d",
      [](const Tensor& x, S2 k, std::optional<S2> s, S2 p, S2 d, bool ceil, bool ret) -> nb::object {
        if (ret) return nb::cast(F::max_pool2d_with_indices(x, k, s.value_or(S2()), p, d, ceil));
        return nb::cast(F::max_pool2d(x, k, s.value_or(S2()), p, d, ceil));
      },
      arg("input"), arg("kernel_size"), arg("stride") = nb::none(), arg("padding") = 0, arg("dilation") = 1,
      arg("ceil_mode") = false, arg("return_indices") = false);
  f.def(
      "max_pool2d_with_indices",
      [](const Tensor& x, S2 k, std::optional<S2> s, S2 p, S2 d, bool ceil) {
        return F::max_pool2d_with_indices(x, k, s.value_or(S2()), p, d, ceil);
      },
      arg("input"), arg("kernel_size"), arg("stride") = nb::none(), arg("padding") = 0, arg("dilation") = 1,
      arg("ceil_mode") = false);
  f.def(
      "avg_pool2d",
      [](const Tensor& x, S2 k, std::optional<S2> s, S2 p, bool ceil, bool cip) {
        return F::avg_pool2d(x, k, s.value_or(S2()), p, ceil, cip);
      },
      arg("input"), arg("kernel_size"), arg("stride") = nb::none(), arg("padding") = 0,
      arg("ceil_mode") = false, arg("count_include_pad") = true);
  f.def("adaptive_avg_pool2d", &F::adaptive_avg_pool2d, arg("input"), arg("output_size"));
  f.def(
      "batch_norm",
      [](const Tensor& x, std::optional<Tensor> rm, std::optional<Tensor> rv, std::optional<Tensor> w,
         std::optional<Tensor> b, bool tr, double mom,
         double eps) { return F::batch_norm(x, opt(rm), opt(rv), opt(w), opt(b), tr, mom, eps); },
      arg("input"), arg("running_mean").none(), arg("running_var").none(), arg("weight") = nb::none(),
      arg("bias") = nb::none(), arg("training") = false, arg("momentum") = 0.1, arg("eps") = 1e-5);
  f.def(
      "layer_norm",
      [](const Tensor& x, IntList shape, std::optional<Tensor> w, std::optional<Tensor> b, double eps) {
        return F::layer_norm(x, shape, opt(w), opt(b), eps);
      },
      arg("input"), arg("normalized_shape"), arg("weight") = nb::none(), arg("bias") = nb::none(),
      arg("eps") = 1e-5);

  f.def(
      "rnn",
      [](const Tensor& x, std::optional<Tensor> hx, const std::vector<Tensor>& w, int64_t layers, bool bias,
         bool bf, double dropout, bool bidir, const std::string& nl, bool training) {
        nb::gil_scoped_release release;
        auto o = F::rnn(x, opt(hx), w, rnn_options(layers, bias, bf, dropout, bidir, nl), training);
        return std::make_pair(o.output, o.h_n);
      },
      arg("input"), arg("hx").none(), arg("weights"), arg("num_layers") = 1, arg("bias") = true,
      arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false,
      arg("nonlinearity") = "tanh", arg("training") = true,
      "(output, h_n) of a multi-layer Elman RNN; weights in PyTorch's flat order.");
  f.def(
      "lstm",
      [](const Tensor& x, std::optional<Tensor> h0, std::optional<Tensor> c0, const std::vector<Tensor>& w,
         int64_t layers, bool bias, bool bf, double dropout, bool bidir, bool training) {
        nb::gil_scoped_release release;
        auto o =
            F::lstm(x, opt(h0), opt(c0), w, rnn_options(layers, bias, bf, dropout, bidir, "tanh"), training);
        return std::make_tuple(o.output, o.h_n, o.c_n);
      },
      arg("input"), arg("h0").none(), arg("c0").none(), arg("weights"), arg("num_layers") = 1,
      arg("bias") = true, arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false,
      arg("training") = true, "(output, h_n, c_n) of a multi-layer LSTM.");
  f.def(
      "gru",
      [](const Tensor& x, std::optional<Tensor> hx, const std::vector<Tensor>& w, int64_t layers, bool bias,
         bool bf, double dropout, bool bidir, bool training) {
        nb::gil_scoped_release release;
        auto o = F::gru(x, opt(hx), w, rnn_options(layers, bias, bf, dropout, bidir, "tanh"), training);
        return std::make_pair(o.output, o.h_n);
      },
      arg("input"), arg("hx").none(), arg("weights"), arg("num_layers") = 1, arg("bias") = true,
      arg("batch_first") = false, arg("dropout") = 0.0, arg("bidirectional") = false, arg("training") = true,
      "(output, h_n) of a multi-layer GRU.");
  f.def(
      "rnn_cell",
      [](const Tensor& x, std::optional<Tensor> hx, const Tensor& wih, const Tensor& whh,
         std::optional<Tensor> bih, std::optional<Tensor> bhh,
         const std::string& nl) { return F::rnn_cell(x, opt(hx), wih, whh, opt(bih), opt(bhh), nl); },
      arg("input"), arg("hx").none(), arg("w_ih"), arg("w_hh"), arg("b_ih") = nb::none(),
      arg("b_hh") = nb::none(), arg("nonlinearity") = "tanh");
  f.def(
      "lstm_cell",
      [](const Tensor& x, std::optional<Tensor> hx, std::optional<Tensor> cx, const Tensor& wih,
         const Tensor& whh, std::optional<Tensor> bih, std::optional<Tensor> bhh) {
        return F::lstm_cell(x, opt(hx), opt(cx), wih, whh, opt(bih), opt(bhh));
      },
      arg("input"), arg("hx").none(), arg("cx").none(), arg("w_ih"), arg("w_hh"), arg("b_ih") = nb::none(),
      arg("b_hh") = nb::none());
  f.def(
      "gru_cell",
      [](const Tensor& x, std::optional<Tensor> hx, const Tensor& wih, const Tensor& whh,
         std::optional<Tensor> bih,
         std::optional<Tensor> bhh) { return F::gru_cell(x, opt(hx), wih, whh, opt(bih), opt(bhh)); },
      arg("input"), arg("hx").none(), arg("w_ih"), arg("w_hh"), arg("b_ih") = nb::none(),
      arg("b_hh") = nb::none());
  f.def("embedding", &F::embedding, arg("input"), arg("weight"), arg("padding_idx") = nb::none());
  f.def(
      "scaled_dot_product_attention",
      [](const Tensor& q, const Tensor& k, const Tensor& v, std::optional<Tensor> mask, double dropout_p,
         bool is_causal, std::optional<double> scale) {
        return F::scaled_dot_product_attention(q, k, v, opt(mask), dropout_p, is_causal, scale);
      },
      arg("query"), arg("key"), arg("value"), arg("attn_mask") = nb::none(), arg("dropout_p") = 0.0,
      arg("is_causal") = false, arg("scale") = nb::none(), Release());

  // ---- nn.init -------------------------------------------------------------------------------
  nb::module_ init = nnm.def_submodule("init", "nabla.nn.init: in-place weight initialisation");
  auto mode = [](const std::string& s) {
    NABLA_CHECK(s == "fan_in" || s == "fan_out", "mode must be 'fan_in' or 'fan_out' (got '{}')", s);
    return s == "fan_in" ? nn::init::FanMode::FanIn : nn::init::FanMode::FanOut;
  };
  init.def("calculate_gain", &nn::init::calculate_gain, arg("nonlinearity"), arg("param") = 0.01);
  init.def("calculate_fan_in_and_fan_out", &nn::init::calculate_fan_in_and_fan_out, arg("tensor"));
  init.def(
      "uniform_", [](Tensor t, double a, double b) { return nn::init::uniform_(t, a, b); }, arg("tensor"),
      arg("a") = 0.0, arg("b") = 1.0);
  init.def(
      "normal_", [](Tensor t, double m, double s) { return nn::init::normal_(t, m, s); }, arg("tensor"),
      arg("mean") = 0.0, arg("std") = 1.0);
  init.def(
      "constant_", [](Tensor t, double v) { return nn::init::constant_(t, v); }, arg("tensor"), arg("val"));
  init.def(
      "zeros_", [](Tensor t) { return nn::init::zeros_(t); }, arg("tensor"));
  init.def(
      "ones_", [](Tensor t) { return nn::init::ones_(t); }, arg("tensor"));
  init.def(
      "xavier_uniform_", [](Tensor t, double g) { return nn::init::xavier_uniform_(t, g); }, arg("tensor"),
      arg("gain") = 1.0);
  init.def(
      "xavier_normal_", [](Tensor t, double g) { return nn::init::xavier_normal_(t, g); }, arg("tensor"),
      arg("gain") = 1.0);
  init.def(
      "kaiming_uniform_",
      [mode](Tensor t, double a, const std::string& md, const std::string& nl) {
        return nn::init::kaiming_uniform_(t, a, mode(md), nl);
      },
      arg("tensor"), arg("a") = 0.0, arg("mode") = "fan_in", arg("nonlinearity") = "leaky_relu");
  init.def(
      "kaiming_normal_",
      [mode](Tensor t, double a, const std::string& md, const std::string& nl) {
        return nn::init::kaiming_normal_(t, a, mode(md), nl);
      },
      arg("tensor"), arg("a") = 0.0, arg("mode") = "fan_in", arg("nonlinearity") = "leaky_relu");

  // ---- nn.utils ------------------------------------------------------------------------------
  nb::module_ utils = nnm.def_submodule("utils", "nabla.nn.utils: gradient clipping");
  utils.def(
      "clip_grad_norm_",
      [](nb::handle params, double max_norm, double norm_type) {
        std::vector<Tensor> ps = tensors_from(params, "clip_grad_norm_");
        nb::gil_scoped_release release;
        return optim::clip_grad_norm_(ps, max_norm, norm_type);
      },
      arg("parameters"), arg("max_norm"), arg("norm_type") = 2.0,
      nb::sig("def clip_grad_norm_(parameters: nabla._C.Tensor | collections.abc.Iterable[nabla._C.Tensor], "
              "max_norm: float, norm_type: float = 2.0) -> float"));
  utils.def(
      "clip_grad_value_",
      [](nb::handle params, double clip_value) {
        std::vector<Tensor> ps = tensors_from(params, "clip_grad_value_");
        nb::gil_scoped_release release;
        optim::clip_grad_value_(ps, clip_value);
      },
      arg("parameters"), arg("clip_value"),
      nb::sig("def clip_grad_value_(parameters: nabla._C.Tensor | collections.abc.Iterable[nabla._C.Tensor], "
              "clip_value: float) -> None"));
}

}  // namespace nabla::python

// nabla.optim (optimizers, lr_scheduler), nabla.data (datasets, DataLoader, Fashion-MNIST),
// nabla.io (safetensors) and nabla.cuda. Optimizer steps, data loading and file I/O release
// the GIL.
#include "bind.h"

namespace nabla::python {

nb::dict state_to_dict(const StateDict& s);  // nn.cpp
StateDict dict_to_state(const nb::dict& d);  // nn.cpp

namespace {

using nb::arg;
using Release = nb::call_guard<nb::gil_scoped_release>;
using namespace nabla::optim;  // NOLINT

// LBFGS's line_search_fn as its option code: None 0, "strong_wolfe" 1.
double line_search_code(nb::handle v) {
  if (v.is_none()) return 0.0;
  NABLA_CHECK(nb::isinstance<nb::str>(v), "LBFGS: line_search_fn must be None or 'strong_wolfe', got a {}",
              nb::inst_name(v).c_str());
  const std::string name = nb::cast<std::string>(v);
  NABLA_CHECK(name == "strong_wolfe", "LBFGS: unknown line_search_fn '{}' (expected None or 'strong_wolfe')",
              name);
  return 1.0;
}

// An option as PyTorch shows it: LBFGS's counts as ints and its line_search_fn as None or a
// name; every other option as the number it is.
nb::object option_value(const Optimizer& o, const std::string& key, double v) {
  if (o.name() == "LBFGS") {
    if (key == "line_search_fn") return v != 0 ? nb::object(nb::str("strong_wolfe")) : nb::none();
    if (key == "max_iter" || key == "max_eval" || key == "history_size")
      return nb::int_(static_cast<int64_t>(v));
  }
  return nb::float_(v);
}

// The loss a Python closure returned, as a tensor: a Tensor, a Python number (a 0-dim float64
// tensor) or None (no loss: an undefined tensor).
Tensor closure_loss(nb::handle r) {
  if (r.is_none()) return Tensor();
  if (nb::isinstance<Tensor>(r)) return nb::cast<Tensor>(r);
  if (PyFloat_Check(r.ptr()) || PyLong_Check(r.ptr())) return scalar_tensor(nb::cast<double>(r), kFloat64);
  throw nb::type_error(("optimizer step: the closure must return the loss (a Tensor), got a " +
                        std::string(nb::inst_name(r).c_str()))
                           .c_str());
}

// Optimizer.step(closure=None). The step runs without the GIL; the closure, which runs the
// model in Python, takes it back for each call. Returns what the closure's first call
// returned, as torch.optim does.
nb::object step_with(Optimizer& o, nb::object closure) {
  if (closure.is_none()) {
    nb::gil_scoped_release release;
    o.step();
    return nb::none();
  }
  if (!PyCallable_Check(closure.ptr())) {
    throw nb::type_error((o.name() + ": step(closure): the closure must be callable, got a " +
                          std::string(nb::inst_name(closure).c_str()))
                             .c_str());
  }
  nb::object first;
  // captures by reference only: copies of the std::function made without the GIL touch no
  // Python reference count
  std::function<Tensor()> fn = [&closure, &first]() -> Tensor {
    nb::gil_scoped_acquire acquire;
    nb::object r = closure();
    Tensor loss = closure_loss(r);
    if (!first.is_valid()) first = std::move(r);
    return loss;
  };
  {
    nb::gil_scoped_release release;
    o.step(fn);
  }
  return first.is_valid() ? first : nb::none();
}

// params: a list of tensors, or of dicts {"params": [...], "lr": ..., ...} (parameter groups).
std::vector<ParamGroup> groups_from(nb::handle params) {
  std::vector<ParamGroup> groups;
  ParamGroup plain;
  for (nb::handle h : nb::iter(params)) {
    if (nb::isinstance<nb::dict>(h)) {
      ParamGroup g;
      for (auto [k, v] : nb::borrow<nb::dict>(h)) {
        const std::string key = nb::cast<std::string>(k);
        if (key == "params") {  // any iterable: a list, or the iterator model.parameters() returns
          for (nb::handle p : nb::iter(v)) g.params.push_back(nb::cast<Tensor>(p));
        } else if (key == "betas") {
          auto b = nb::cast<std::pair<double, double>>(v);
          g.options["beta1"] = b.first;
          g.options["beta2"] = b.second;
        } else if (key == "line_search_fn") {
          g.options[key] = line_search_code(v);
        } else
          g.options[key] = nb::cast<double>(v);
      }
      groups.push_back(std::move(g));
    } else {
      plain.params.push_back(nb::cast<Tensor>(h));
    }
  }
  NABLA_CHECK(groups.empty() || plain.params.empty(), "optimizer: mix of tensors and parameter-group dicts");
  if (groups.empty()) groups.push_back(std::move(plain));
  return groups;
}

nb::list groups_to_list(const Optimizer& o) {
  nb::list l;
  for (const ParamGroup& g : o.param_groups()) {
    nb::dict d;
    d["params"] = g.params;
    for (const auto& [k, v] : o.defaults()) d[k.c_str()] = option_value(o, k, v);
    for (const auto& [k, v] : g.options) d[k.c_str()] = option_value(o, k, v);
    l.append(d);
  }
  return l;
}

// One epoch of a DataLoader as a Python iterator of (data, target) pairs.
struct LoaderIter {
  data::DataLoader* loader;
  std::optional<data::DataLoader::Iterator> it;
  bool started = false;
};

}  // namespace

void init_optim(nb::module_& m) {
  // ---- optimizers ------------------------------------------------------------------------
  nb::module_ om = m.def_submodule("optim", "nabla.optim: optimizers and learning-rate schedulers");
  nb::class_<Optimizer>(om, "Optimizer")
      .def("step", &step_with, arg("closure") = nb::none(),
           nb::sig("def step(self, closure: typing.Callable[[], typing.Any] | None = None) -> typing.Any"),
           "Updates the parameters; with a closure (re-evaluates the model and returns the loss), calls it "
           "first and returns its loss (LBFGS calls it several times and requires it).")
      .def("zero_grad", &Optimizer::zero_grad, arg("set_to_none") = true)
      .def_prop_ro("param_groups", &groups_to_list, "Copies of the groups (set learning rates with set_lr)")
      .def_prop_ro("defaults",
                   [](const Optimizer& o) {
                     nb::dict d;
                     for (const auto& [k, v] : o.defaults()) d[k.c_str()] = option_value(o, k, v);
                     return d;
                   })
      .def(
          "add_param_group",
          [](Optimizer& o, const nb::dict& g) {
            auto gs = groups_from(nb::make_tuple(g));
            o.add_param_group(std::move(gs[0]));
          },
          arg("param_group"))
      .def("get_lr", &Optimizer::get_lr, arg("group") = 0)
      .def("set_lr", nb::overload_cast<double>(&Optimizer::set_lr), arg("lr"))
      .def("set_lr", nb::overload_cast<std::size_t, double>(&Optimizer::set_lr), arg("group"), arg("lr"))
      .def("state_dict", [](const Optimizer& o) { return state_to_dict(o.state_dict()); })
      .def(
          "load_state_dict", [](Optimizer& o, const nb::dict& d) { o.load_state_dict(dict_to_state(d)); },
          arg("state_dict"));
  nb::class_<SGD, Optimizer>(om, "SGD").def(
      "__init__",
      [](SGD* o, nb::handle params, double lr, double momentum, double dampening, double wd, bool nesterov,
         bool maximize) {
        new (o) SGD(groups_from(params), SGDOptions{lr, momentum, dampening, wd, nesterov, maximize});
      },
      arg("params"), arg("lr") = 1e-3, arg("momentum") = 0.0, arg("dampening") = 0.0,
      arg("weight_decay") = 0.0, arg("nesterov") = false, nb::kw_only(), arg("maximize") = false);
  nb::class_<Adam, Optimizer>(om, "Adam")
      .def(
          "__init__",
          [](Adam* o, nb::handle params, double lr, std::pair<double, double> betas, double eps, double wd,
             bool amsgrad, bool maximize) {
            new (o) Adam(groups_from(params),
                         AdamOptions{lr, betas.first, betas.second, eps, wd, amsgrad, maximize});
          },
          arg("params"), arg("lr") = 1e-3, arg("betas") = std::make_pair(0.9, 0.999), arg("eps") = 1e-8,
          arg("weight_decay") = 0.0, arg("amsgrad") = false, nb::kw_only(), arg("maximize") = false);
  nb::class_<AdamW, Adam>(om, "AdamW")
      .def(
          "__init__",
          [](AdamW* o, nb::handle params, double lr, std::pair<double, double> betas, double eps, double wd,
             bool amsgrad, bool maximize) {
            AdamWOptions opts;
            opts.lr = lr;
            opts.beta1 = betas.first;
            opts.beta2 = betas.second;
            opts.eps = eps;
            opts.weight_decay = wd;
            opts.amsgrad = amsgrad;
            opts.maximize = maximize;
            new (o) AdamW(groups_from(params), opts);
          },
          arg("params"), arg("lr") = 1e-3, arg("betas") = std::make_pair(0.9, 0.999), arg("eps") = 1e-8,
          arg("weight_decay") = 1e-2, arg("amsgrad") = false, nb::kw_only(), arg("maximize") = false);
  nb::class_<RMSprop, Optimizer>(om, "RMSprop")
      .def(
          "__init__",
          [](RMSprop* o, nb::handle params, double lr, double alpha, double eps, double wd, double momentum,
             bool centered, bool maximize) {
            new (o) RMSprop(groups_from(params),
                            RMSpropOptions{lr, alpha, eps, wd, momentum, centered, maximize});
          },
          arg("params"), arg("lr") = 1e-2, arg("alpha") = 0.99, arg("eps") = 1e-8, arg("weight_decay") = 0.0,
          arg("momentum") = 0.0, arg("centered") = false, nb::kw_only(), arg("maximize") = false);
  nb::class_<Adagrad, Optimizer>(om, "Adagrad")
      .def(
          "__init__",
          [](Adagrad* o, nb::handle params, double lr, double lr_decay, double wd, double init_acc,
             double eps, bool maximize) {
            new (o) Adagrad(groups_from(params), AdagradOptions{lr, lr_decay, wd, init_acc, eps, maximize});
          },
          arg("params"), arg("lr") = 1e-2, arg("lr_decay") = 0.0, arg("weight_decay") = 0.0,
          arg("initial_accumulator_value") = 0.0, arg("eps") = 1e-10, nb::kw_only(), arg("maximize") = false);
  nb::class_<Adadelta, Optimizer>(om, "Adadelta")
      .def(
          "__init__",
          [](Adadelta* o, nb::handle params, double lr, double rho, double eps, double wd, bool maximize) {
            new (o) Adadelta(groups_from(params), AdadeltaOptions{lr, rho, eps, wd, maximize});
          },
          arg("params"), arg("lr") = 1.0, arg("rho") = 0.9, arg("eps") = 1e-6, arg("weight_decay") = 0.0,
          nb::kw_only(), arg("maximize") = false);
  nb::class_<LBFGS, Optimizer>(om, "LBFGS")
      .def(
          "__init__",
          [](LBFGS* o, nb::handle params, double lr, int64_t max_iter, std::optional<int64_t> max_eval,
             double tolerance_grad, double tolerance_change, int64_t history_size,
             nb::handle line_search_fn) {
            LBFGSOptions opts;
            opts.lr = lr;
            opts.max_iter = max_iter;
            opts.max_eval = max_eval;
            opts.tolerance_grad = tolerance_grad;
            opts.tolerance_change = tolerance_change;
            opts.history_size = history_size;
            if (line_search_code(line_search_fn) != 0) opts.line_search_fn = "strong_wolfe";
            new (o) LBFGS(groups_from(params), opts);
          },
          arg("params"), arg("lr") = 1.0, arg("max_iter") = 20, arg("max_eval") = nb::none(),
          arg("tolerance_grad") = 1e-7, arg("tolerance_change") = 1e-9, arg("history_size") = 100,
          arg("line_search_fn") = nb::none(),
          nb::sig("def __init__(self, params: object, lr: float = 1.0, max_iter: int = 20, max_eval: int | "
                  "None = "
                  "None, tolerance_grad: float = 1e-07, tolerance_change: float = 1e-09, history_size: int = "
                  "100, "
                  "line_search_fn: str | None = None) -> None"));

  // Regularisation helpers under their C++ names (clip_grad_* also in nn.utils, as PyTorch's).
  om.def("clip_grad_norm_", &clip_grad_norm_, arg("parameters"), arg("max_norm"), arg("norm_type") = 2.0,
         Release());
  om.def("clip_grad_value_", &clip_grad_value_, arg("parameters"), arg("clip_value"), Release());
  om.def("l1_penalty", &l1_penalty, arg("parameters"), "sum |p| over the parameters (differentiable).");
  om.def("l2_penalty", &l2_penalty, arg("parameters"), "sum p^2 over the parameters (differentiable).");

  // ---- schedulers (each keeps its optimizer alive) -------------------------------------
  nb::module_ sm = om.def_submodule("lr_scheduler", "nabla.optim.lr_scheduler");
  nb::class_<LRScheduler>(sm, "LRScheduler")
      .def("step", &LRScheduler::step)
      .def_prop_ro("last_epoch", &LRScheduler::last_epoch)
      .def("get_last_lr", &LRScheduler::get_last_lr)
      .def("state_dict", [](const LRScheduler& s) { return state_to_dict(s.state_dict()); })
      .def(
          "load_state_dict", [](LRScheduler& s, const nb::dict& d) { s.load_state_dict(dict_to_state(d)); },
          arg("state_dict"));
  nb::class_<StepLR, LRScheduler>(sm, "StepLR")
      .def(nb::init<Optimizer&, int64_t, double>(), arg("optimizer"), arg("step_size"), arg("gamma") = 0.1,
           nb::keep_alive<1, 2>());
  nb::class_<MultiStepLR, LRScheduler>(sm, "MultiStepLR")
      .def(nb::init<Optimizer&, std::vector<int64_t>, double>(), arg("optimizer"), arg("milestones"),
           arg("gamma") = 0.1, nb::keep_alive<1, 2>());
  nb::class_<ExponentialLR, LRScheduler>(sm, "ExponentialLR")
      .def(nb::init<Optimizer&, double>(), arg("optimizer"), arg("gamma"), nb::keep_alive<1, 2>());
  nb::class_<CosineAnnealingLR, LRScheduler>(sm, "CosineAnnealingLR")
      .def(nb::init<Optimizer&, int64_t, double>(), arg("optimizer"), arg("T_max"), arg("eta_min") = 0.0,
           nb::keep_alive<1, 2>());
  nb::class_<LinearLR, LRScheduler>(sm, "LinearLR")
      .def(nb::init<Optimizer&, double, double, int64_t>(), arg("optimizer"), arg("start_factor") = 1.0 / 3.0,
           arg("end_factor") = 1.0, arg("total_iters") = 5, nb::keep_alive<1, 2>());
  nb::class_<ReduceLROnPlateau>(sm, "ReduceLROnPlateau")
      .def(
          "__init__",
          [](ReduceLROnPlateau* s, Optimizer& o, const std::string& mode, double factor, int64_t patience,
             double threshold, int64_t cooldown, double min_lr, double eps) {
            NABLA_CHECK(mode == "min" || mode == "max",
                        "ReduceLROnPlateau: mode must be 'min' or 'max' (got '{}')", mode);
            ReduceLROnPlateauOptions opts;
            opts.mode =
                mode == "min" ? ReduceLROnPlateauOptions::Mode::Min : ReduceLROnPlateauOptions::Mode::Max;
            opts.factor = factor;
            opts.patience = patience;
            opts.threshold = threshold;
            opts.cooldown = cooldown;
            opts.min_lr = min_lr;
            opts.eps = eps;
            new (s) ReduceLROnPlateau(o, opts);
          },
          arg("optimizer"), arg("mode") = "min", arg("factor") = 0.1, arg("patience") = 10,
          arg("threshold") = 1e-4, arg("cooldown") = 0, arg("min_lr") = 0.0, arg("eps") = 1e-8,
          nb::keep_alive<1, 2>())
      .def("step", &ReduceLROnPlateau::step, arg("metrics"))
      .def_prop_ro("num_bad_epochs", &ReduceLROnPlateau::num_bad_epochs);

  // ---- data ------------------------------------------------------------------------------
  nb::module_ dm = m.def_submodule("data", "nabla.data: datasets and the DataLoader");
  using namespace nabla::data;  // NOLINT
  nb::class_<Dataset>(dm, "Dataset")
      .def("__len__", &Dataset::size)
      .def("__getitem__", [](const Dataset& d, int64_t i) {
        if (i < 0) i += d.size();
        if (i < 0 || i >= d.size()) throw nb::index_error("dataset index out of range");
        Example e = d.get(i);
        return std::make_tuple(e.data, e.target);
      });
  nb::class_<TensorDataset, Dataset>(dm, "TensorDataset")
      .def(nb::init<Tensor, Tensor>(), arg("data"), arg("targets"))
      .def_prop_ro("data", &TensorDataset::data)
      .def_prop_ro("targets", &TensorDataset::targets)
      .def_prop_ro("tensors", [](const TensorDataset& d) { return std::make_tuple(d.data(), d.targets()); });
  nb::class_<FashionMNIST, Dataset>(dm, "FashionMNIST")
      .def(nb::init<std::string, bool>(), arg("root") = FashionMNIST::default_root(), arg("train") = true,
           Release())
      .def_prop_ro("data", &FashionMNIST::images)
      .def_prop_ro("targets", &FashionMNIST::targets)
      .def_prop_ro_static("classes", [](nb::handle) {
        return std::vector<std::string>(std::begin(FashionMNIST::kClasses), std::end(FashionMNIST::kClasses));
      });
  dm.def("read_idx", &read_idx, arg("path"), Release());
  nb::class_<LoaderIter>(dm, "LoaderIterator")
      .def("__iter__", [](nb::handle self) { return self; })
      .def("__next__", [](LoaderIter& li) {
        bool done = false;
        Batch b;
        {
          nb::gil_scoped_release release;
          if (!li.started) {
            li.it = li.loader->begin();
            li.started = true;
          } else {
            ++*li.it;
          }
          done = *li.it == li.loader->end();
          if (!done) b = **li.it;
        }
        if (done) throw nb::stop_iteration();
        return std::make_tuple(b.data, b.target);
      });
  nb::class_<DataLoader>(dm, "DataLoader")
      .def(
          "__init__",
          [](DataLoader* l, std::shared_ptr<Dataset> ds, int64_t bs, bool shuffle, bool drop_last,
             uint64_t seed, bool prefetch, std::optional<Device> device) {
            DataLoaderOptions o(bs);
            o = o.shuffle(shuffle).drop_last(drop_last).seed(seed).prefetch(prefetch);
            if (device) o = o.device(*device);
            new (l) DataLoader(std::move(ds), o);
          },
          arg("dataset"), arg("batch_size") = 1, arg("shuffle") = false, arg("drop_last") = false,
          nb::kw_only(), arg("seed") = 0, arg("prefetch") = true, arg("device") = nb::none())
      .def("__len__", &DataLoader::num_batches)
      .def(
          "__iter__",
          [](DataLoader& l) {
            return LoaderIter{&l, std::nullopt, false};
          },
          nb::keep_alive<0, 1>())
      .def_prop_ro("epoch", &DataLoader::epoch)
      .def("set_epoch", &DataLoader::set_epoch, arg("epoch"))
      .def_prop_ro("dataset", &DataLoader::dataset);

  // ---- io ----------------------------------------------------------------------------------
  nb::module_ io = m.def_submodule("io", "nabla.io: safetensors files");
  io.def(
      "save_safetensors",
      [](const std::string& path, const nb::dict& tensors, const io::Metadata& meta) {
        StateDict s = dict_to_state(tensors);
        nb::gil_scoped_release release;
        io::save_safetensors(path, s, meta);
      },
      arg("path"), arg("tensors"), arg("metadata") = io::Metadata{});
  io.def(
      "load_safetensors",
      [](const std::string& path) {
        io::SafetensorsFile f;
        {
          nb::gil_scoped_release release;
          f = io::load_safetensors(path);
        }
        return state_to_dict(f.tensors);
      },
      arg("path"));
  io.def(
      "serialize_safetensors",
      [](const nb::dict& tensors, const io::Metadata& meta) {
        StateDict s = dict_to_state(tensors);
        std::string bytes;
        {
          nb::gil_scoped_release release;
          bytes = io::serialize_safetensors(s, meta);
        }
        return nb::bytes(bytes.data(), bytes.size());
      },
      arg("tensors"), arg("metadata") = io::Metadata{},
      "The bytes of a safetensors file holding the tensors.");
  io.def(
      "parse_safetensors",
      [](nb::bytes data, const std::string& source) {
        const std::string_view view(data.c_str(), data.size());
        io::SafetensorsFile f = io::parse_safetensors(view, source);
        return std::make_pair(state_to_dict(f.tensors), f.metadata);
      },
      arg("data"), arg("source") = "<memory>", "(tensors, metadata) of safetensors bytes, validated.");
  io.def(
      "save_checkpoint",
      [](const std::string& path, const nb::dict& tensors, const io::Metadata& meta) {
        io::Checkpoint c{dict_to_state(tensors), meta};
        nb::gil_scoped_release release;
        io::save_checkpoint(path, c);
      },
      arg("path"), arg("tensors"), arg("metadata") = io::Metadata{},
      "A checksummed safetensors checkpoint, written atomically.");
  io.def(
      "load_checkpoint",
      [](const std::string& path) {
        io::Checkpoint c;
        {
          nb::gil_scoped_release release;
          c = io::load_checkpoint(path);
        }
        return std::make_pair(state_to_dict(c.tensors), c.metadata);
      },
      arg("path"), "(tensors, metadata) of a checkpoint, after checking its checksum.");
  io.def(
      "load_safetensors_metadata",
      [](const std::string& path) { return io::load_safetensors(path).metadata; }, arg("path"), Release());

  // ---- cuda --------------------------------------------------------------------------------
  nb::module_ cm = m.def_submodule("cuda", "nabla.cuda: the CUDA backend's state");
  cm.def("is_available", &cuda::is_available);
  cm.def("device_count", &cuda::device_count);
  cm.def("synchronize", &cuda::synchronize, Release());
  cm.def("empty_cache", &cuda::empty_cache);
  cm.def(
      "memory_allocated", [](int d) { return cuda::memory_stats(d).allocated; }, arg("device") = 0);
  cm.def(
      "memory_reserved", [](int d) { return cuda::memory_stats(d).reserved; }, arg("device") = 0);
  cm.def(
      "max_memory_allocated", [](int d) { return cuda::memory_stats(d).peak; }, arg("device") = 0);
  cm.def("set_cudnn_benchmark", &cuda::set_cudnn_benchmark, arg("on"));
  cm.def("set_deterministic", &cuda::set_deterministic, arg("on"));
  cm.def("set_allow_tf32", &nabla::set_allow_tf32, arg("allow"));
  // The getters, for nabla.backends.cudnn.benchmark / deterministic and backends.cuda.matmul.
  cm.def("cudnn_benchmark", &cuda::cudnn_benchmark);
  cm.def("deterministic", &cuda::deterministic);
  cm.def("allow_tf32", &nabla::allow_tf32);
}

}  // namespace nabla::python

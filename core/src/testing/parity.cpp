// nabla::testing::run_parity: one model on two targets in lockstep. Both instances start from
// the same weights and see the same batches; after every step the module outputs (forward
// hooks), their gradients (backward hooks), the parameter gradients and the updated
// parameters are compared, b being the reference.
#include "nabla/autograd.h"
#include "nabla/io.h"
#include "nabla/random.h"
#include "nabla/testing.h"
#include "tensor/tensor_impl.h"

namespace nabla::testing {
namespace {

// Module outputs of one step, in call order: (module path with call number, output).
using Captured = std::vector<std::pair<std::string, Tensor>>;

struct Instance {
  ParityModel model;
  Target target;
  std::shared_ptr<Captured> captured = std::make_shared<Captured>();       // forward hooks
  std::shared_ptr<Captured> captured_grad = std::make_shared<Captured>();  // backward hooks
};

// Appends (name, or name#k for the k-th entry of that name after the first, t) to c.
void capture(Captured& c, const std::string& name, const Tensor& t) {
  int k = 0;
  for (const auto& [n, x] : c) k += (n == name || n.rfind(name + "#", 0) == 0) ? 1 : 0;
  c.emplace_back(k == 0 ? name : fmt::format("{}#{}", name, k), t.detach());
}

Instance build(const ParityFactory& make, const Target& t, uint64_t seed) {
  manual_seed(seed);
  Instance in{make(t), t};
  for (auto& [root, module] : in.model.modules) {
    NABLA_CHECK(module != nullptr, "run_parity: module '{}' of the model on {} is null", root, t.str());
    for (auto& [path, m] : module->named_modules()) {
      const std::string name =
          root.empty() ? (path.empty() ? "(model)" : path) : (path.empty() ? root : root + "." + path);
      std::weak_ptr<Captured> sink = in.captured, grad_sink = in.captured_grad;
      m->add_forward_hook([name, sink](nn::Module&, const Tensor&, const Tensor& out) {
        if (auto c = sink.lock()) capture(*c, name, out);
      });
      m->add_backward_hook([name, grad_sink](nn::Module&, const Tensor& g) {
        if (auto c = grad_sink.lock()) capture(*c, name, g);
      });
    }
  }
  return in;
}

std::vector<std::pair<std::string, Tensor>> named_params(const Instance& in) {
  std::vector<std::pair<std::string, Tensor>> r;
  for (const auto& [root, module] : in.model.modules) {
    for (auto& [name, p] : module->named_parameters())
      r.emplace_back(root.empty() ? name : root + "." + name, p);
  }
  return r;
}

std::vector<Tensor> on_target(const std::vector<Tensor>& batch, const Target& t) {
  std::vector<Tensor> r;
  for (const Tensor& x : batch) r.push_back((x.is_floating_point() ? x.to(t.dtype) : x).to(t.device));
  return r;
}

std::string shape_text(const Shape& s) { return shape_to_string(s); }

void print_header(std::FILE* out, int64_t step) {
  std::fprintf(out, "step %lld\n  %-36s %-6s %-16s %11s %11s %11s\n", static_cast<long long>(step), "tensor",
               "kind", "shape", "max_abs", "max_rel", "max_ulp");
}

void print_row(std::FILE* out, const ParityRow& r, bool mark) {
  if (r.stats.shape_mismatch) {
    std::fprintf(out, "  %-36s %-6s %-16s %s%s\n", r.name.c_str(), r.kind.c_str(),
                 shape_text(r.shape).c_str(), "shapes differ", mark ? "  <-- first beyond tolerance" : "");
    return;
  }
  std::fprintf(out, "  %-36s %-6s %-16s %11.3e %11.3e %11lld%s\n", r.name.c_str(), r.kind.c_str(),
               shape_text(r.shape).c_str(), r.stats.max_abs, r.stats.max_rel,
               static_cast<long long>(r.stats.max_ulp),
               mark ? "  <-- first beyond tolerance" : (r.stats.ok ? "" : "  (beyond tolerance)"));
}

}  // namespace

ParityReport run_parity(const ParityFactory& make, const BatchFn& batch, const Target& ta, const Target& tb,
                        const ParityOptions& o) {
  NABLA_CHECK(make != nullptr && batch != nullptr,
              "run_parity: a model factory and a batch function are required");
  NABLA_CHECK(o.steps >= 1, "run_parity: steps must be at least 1, got {}", o.steps);
  std::FILE* out = o.out != nullptr ? o.out : stdout;
  Instance a = build(make, ta, o.seed);
  Instance b = build(make, tb, o.seed);
  NABLA_CHECK(a.model.modules.size() == b.model.modules.size(),
              "run_parity: the factory built different models");
  for (std::size_t i = 0; i < a.model.modules.size(); ++i) {  // b starts from a's weights exactly
    b.model.modules[i].second->load_state_dict(a.model.modules[i].second->state_dict());
  }
  std::fprintf(out, "parity: %s vs %s (reference), %lld steps, atol %g, rtol %g\n", ta.str().c_str(),
               tb.str().c_str(), static_cast<long long>(o.steps), o.tolerance.atol, o.tolerance.rtol);
  ParityReport report;
  for (int64_t step = 1; step <= o.steps; ++step) {
    const std::vector<Tensor> data = batch(step - 1);
    for (Instance* in : {&a, &b}) {
      in->captured->clear();
      in->captured_grad->clear();
    }
    a.model.step(on_target(data, ta));
    b.model.step(on_target(data, tb));
    std::vector<ParityRow> rows;
    std::vector<std::pair<Tensor, Tensor>> pairs;
    auto add = [&](const std::string& name, const std::string& kind, const Tensor& x, const Tensor& y) {
      ParityRow r;
      r.step = step;
      r.name = name;
      r.kind = kind;
      r.shape = x.sizes();
      r.stats = compare(x, y, o.tolerance);
      rows.push_back(r);
      pairs.emplace_back(x, y);
    };
    NABLA_CHECK(a.captured->size() == b.captured->size(),
                "run_parity: step {}: the two targets ran different modules ({} vs {} forward calls)", step,
                a.captured->size(), b.captured->size());
    for (std::size_t i = 0; i < a.captured->size(); ++i)
      add((*a.captured)[i].first, "output", (*a.captured)[i].second, (*b.captured)[i].second);
    NABLA_CHECK(a.captured_grad->size() == b.captured_grad->size(),
                "run_parity: step {}: the two backward passes reached different modules ({} vs {})", step,
                a.captured_grad->size(), b.captured_grad->size());
    for (std::size_t i = 0; i < a.captured_grad->size(); ++i) {
      add((*a.captured_grad)[i].first, "d_out", (*a.captured_grad)[i].second, (*b.captured_grad)[i].second);
    }
    const auto pa = named_params(a), pb = named_params(b);
    for (std::size_t i = 0; i < pa.size(); ++i) {
      const Tensor& ga = pa[i].second.grad();
      const Tensor& gb = pb[i].second.grad();
      if (ga.defined() && gb.defined()) add(pa[i].first, "grad", ga, gb);
    }
    for (std::size_t i = 0; i < pa.size(); ++i)
      add(pa[i].first, "param", pa[i].second.detach(), pb[i].second.detach());

    int64_t first_bad = -1;
    for (std::size_t i = 0; i < rows.size() && first_bad < 0; ++i) {
      if (!rows[i].stats.ok) first_bad = static_cast<int64_t>(i);
    }
    const bool show = o.verbose || step == 1 || (first_bad >= 0 && report.ok);
    if (show) {
      print_header(out, step);
      for (std::size_t i = 0; i < rows.size(); ++i)
        print_row(out, rows[i], static_cast<int64_t>(i) == first_bad && report.ok);
    } else {
      double worst_abs = 0;
      int64_t worst_ulp = 0;
      for (const ParityRow& r : rows) {
        worst_abs = std::max(worst_abs, r.stats.max_abs);
        worst_ulp = std::max(worst_ulp, r.stats.max_ulp);
      }
      std::fprintf(out, "step %lld: %zu tensors within tolerance (max_abs %.3e, max_ulp %lld)\n",
                   static_cast<long long>(step), rows.size(), worst_abs, static_cast<long long>(worst_ulp));
    }
    if (first_bad >= 0 && report.ok) {
      report.ok = false;
      report.first_bad_step = step;
      report.first_bad = rows[first_bad].kind + " " + rows[first_bad].name;
      if (!o.dump_path.empty()) {
        StateDict sd;
        sd.insert("a/" + rows[first_bad].name, pairs[first_bad].first.to(Device::cpu()).contiguous());
        sd.insert("b/" + rows[first_bad].name, pairs[first_bad].second.to(Device::cpu()).contiguous());
        io::save_safetensors(o.dump_path, sd,
                             {{"a", ta.str()},
                              {"b", tb.str()},
                              {"step", std::to_string(step)},
                              {"kind", rows[first_bad].kind}});
        std::fprintf(out, "first divergence (step %lld, %s) written to %s\n", static_cast<long long>(step),
                     report.first_bad.c_str(), o.dump_path.c_str());
      }
    }
    report.rows.insert(report.rows.end(), rows.begin(), rows.end());
  }
  std::fprintf(
      out, "%s\n",
      report.ok
          ? "parity: all tensors within tolerance"
          : fmt::format("parity: DIVERGED at step {} ({})", report.first_bad_step, report.first_bad).c_str());
  return report;
}

}  // namespace nabla::testing

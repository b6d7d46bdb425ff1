// LBFGS: torch.optim.LBFGS's iteration (minFunc's), with its fixed step or its strong-Wolfe line
// search, on the parameters flattened into one vector. Vectors stay tensors on the parameters'
// device; the scalars (losses, step lengths, directional derivatives, the two-loop coefficients)
// are doubles on the host. The arithmetic follows PyTorch's operation for operation (the same
// order of terms, Python's min/max on ties and NaN), so float64 runs reproduce its iterates:
// the line search is a chain of comparisons, and a rounding that differs would take another
// branch. The file is built with -ffp-contract=off for the same reason (CMakeLists.txt).
#include <cmath>
#include <optional>
#include <string>
#include <utility>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"
#include "nabla/optim.h"
#include "optim/closure.h"

namespace nabla::optim {
namespace {

constexpr const char* kName = "LBFGS";

// Python's max(a, b) and min(a, b), which PyTorch's line search uses: the first argument unless
// the second is strictly greater (smaller), so a NaN first argument is kept.
double py_max(double a, double b) { return b > a ? b : a; }
double py_min(double a, double b) { return b < a ? b : a; }

double dot(const Tensor& a, const Tensor& b) { return matmul(a, b).item<double>(); }
double abs_max(const Tensor& a) { return abs(a).max().item<double>(); }

// The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped to
// the bounds (by default the interval between the points); their midpoint where the cubic
// has no minimum. Nocedal & Wright (3.59), as minFunc's polyinterp.
double cubic_interpolate(double x1, double f1, double g1, double x2, double f2, double g2,
                         std::optional<std::pair<double, double>> bounds = std::nullopt) {
  const auto [lo, hi] = bounds ? *bounds : (x1 <= x2 ? std::make_pair(x1, x2) : std::make_pair(x2, x1));
  const double d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const double d2_square = d1 * d1 - g1 * g2;
  if (d2_square >= 0) {
    const double d2 = std::sqrt(d2_square);
    const double min_pos = x1 <= x2 ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
                                    : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    return py_min(py_max(min_pos, lo), hi);
  }
  return (lo + hi) / 2.;
}

struct Evaluation {
  double f;
  Tensor g;  // the flat gradient
};

struct LineSearchResult {
  double f;
  Tensor g;
  double t;
  int64_t evals;
};

// Strong-Wolfe line search along d from the point where the loss is f, the gradient g and the
// directional derivative gtd, starting at step t: Nocedal & Wright Algorithm 3.5 (bracketing,
// with cubic extrapolation between t + 0.01 (t - t_prev) and 10 t) and 3.6 (zoom, with cubic
// interpolation kept 10% of the bracket away from its ends once progress stalls). obj(t) is
// the loss and gradient at x + t d. At most max_ls evaluations; as PyTorch, the tolerance on the
// bracket's width is the line search's own 1e-9, not the optimizer's tolerance_change.
template <class Obj>
LineSearchResult strong_wolfe(const Obj& obj, double t, const Tensor& d, double f, const Tensor& g,
                              double gtd, double c1 = 1e-4, double c2 = 0.9, double tolerance_change = 1e-9,
                              int max_ls = 25) {
  const double d_norm = abs_max(d);
  Evaluation e = obj(t);
  int64_t evals = 1;
  double gtd_new = dot(e.g, d);

  // the bracket: one point (done: it satisfies the conditions) or two
  double t_prev = 0, f_prev = f, gtd_prev = gtd;
  Tensor g_prev = g;
  double bt[2] = {}, bf[2] = {}, bgtd[2] = {};
  Tensor bg[2];
  int size = 0;
  auto bracket_of_two = [&] {
    bt[0] = t_prev, bf[0] = f_prev, bg[0] = g_prev, bgtd[0] = gtd_prev;
    bt[1] = t, bf[1] = e.f, bg[1] = e.g, bgtd[1] = gtd_new;
    size = 2;
  };
  bool done = false;
  int ls_iter = 0;
  while (ls_iter < max_ls) {
    if (e.f > (f + c1 * t * gtd) || (ls_iter > 1 && e.f >= f_prev)) {
      bracket_of_two();
      break;
    }
    if (std::abs(gtd_new) <= -c2 * gtd) {
      bt[0] = t, bf[0] = e.f, bg[0] = e.g;
      size = 1;
      done = true;
      break;
    }
    if (gtd_new >= 0) {
      bracket_of_two();
      break;
    }
    const double min_step = t + 0.01 * (t - t_prev), max_step = t * 10;
    const double tmp = t;
    t = cubic_interpolate(t_prev, f_prev, gtd_prev, t, e.f, gtd_new, std::make_pair(min_step, max_step));
    t_prev = tmp, f_prev = e.f, g_prev = e.g, gtd_prev = gtd_new;
    e = obj(t);
    ++evals;
    gtd_new = dot(e.g, d);
    ++ls_iter;
  }
  if (ls_iter == max_ls) {
    // out of evaluations while still extrapolating: choose between the start and the last step
    // (the slopes are not needed, the zoom below does not run)
    bt[0] = 0, bf[0] = f, bg[0] = g;
    bt[1] = t, bf[1] = e.f, bg[1] = e.g;
    size = 2;
  }

  bool insuf_progress = false;
  int low = bf[0] <= bf[size - 1] ? 0 : 1;
  if (size == 1) low = 0;
  int high = 1 - low;
  while (!done && ls_iter < max_ls) {
    if (std::abs(bt[1] - bt[0]) * d_norm < tolerance_change) break;
    t = cubic_interpolate(bt[0], bf[0], bgtd[0], bt[1], bf[1], bgtd[1]);
    // an interpolation at or next to an end of the bracket makes little progress: the second
    // time in a row (or right at an end), move it to 10% of the bracket from that end
    const double bmax = py_max(bt[0], bt[1]), bmin = py_min(bt[0], bt[1]);
    const double eps = 0.1 * (bmax - bmin);
    if (py_min(bmax - t, t - bmin) < eps) {
      if (insuf_progress || t >= bmax || t <= bmin) {
        t = std::abs(t - bmax) < std::abs(t - bmin) ? bmax - eps : bmin + eps;
        insuf_progress = false;
      } else {
        insuf_progress = true;
      }
    } else {
      insuf_progress = false;
    }
    e = obj(t);
    ++evals;
    gtd_new = dot(e.g, d);
    ++ls_iter;
    if (e.f > (f + c1 * t * gtd) || e.f >= bf[low]) {
      // no sufficient decrease, or not below the low end: t becomes the high end
      bt[high] = t, bf[high] = e.f, bg[high] = e.g, bgtd[high] = gtd_new;
      low = bf[0] <= bf[1] ? 0 : 1;
      high = 1 - low;
    } else {
      if (std::abs(gtd_new) <= -c2 * gtd) {
        done = true;  // the strong Wolfe conditions hold
      } else if (gtd_new * (bt[high] - bt[low]) >= 0) {
        // the minimum lies on the other side of the low end: the old low end becomes the high
        bt[high] = bt[low], bf[high] = bf[low], bg[high] = bg[low], bgtd[high] = bgtd[low];
      }
      bt[low] = t, bf[low] = e.f, bg[low] = e.g, bgtd[low] = gtd_new;
    }
  }
  return {bf[low], bg[low], bt[low], evals};
}

std::vector<ParamGroup> one_group_only(std::vector<ParamGroup> groups) {
  NABLA_CHECK(groups.size() <= 1,
              "LBFGS: doesn't support per-parameter options (parameter groups): got {} groups, expected one",
              groups.size());
  return groups;
}

std::string shape_string(const Shape& s) {
  std::string r = "[";
  for (std::size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t as_count(double v) { return static_cast<int64_t>(std::llround(v)); }

// Options of a group (from LBFGSOptions, add_param_group or a state dict), checked.
void check_options(const std::map<std::string, double>& o) {
  auto at = [&](const char* k) {
    auto it = o.find(k);
    NABLA_CHECK(it != o.end(), "LBFGS: option '{}' is missing", k);
    return it->second;
  };
  NABLA_CHECK(at("lr") >= 0, "LBFGS: invalid learning rate {} (expected >= 0)", at("lr"));
  NABLA_CHECK(at("max_iter") >= 1, "LBFGS: invalid max_iter {} (expected >= 1)", at("max_iter"));
  NABLA_CHECK(at("max_eval") >= 1, "LBFGS: invalid max_eval {} (expected >= 1)", at("max_eval"));
  NABLA_CHECK(at("tolerance_grad") >= 0, "LBFGS: invalid tolerance_grad {} (expected >= 0)",
              at("tolerance_grad"));
  NABLA_CHECK(at("tolerance_change") >= 0, "LBFGS: invalid tolerance_change {} (expected >= 0)",
              at("tolerance_change"));
  NABLA_CHECK(at("history_size") >= 1, "LBFGS: invalid history_size {} (expected >= 1)", at("history_size"));
  NABLA_CHECK(at("line_search_fn") == 0 || at("line_search_fn") == 1,
              "LBFGS: invalid line_search_fn code {} (0: none, 1: strong_wolfe)", at("line_search_fn"));
}

}  // namespace

std::map<std::string, double> LBFGSOptions::to_map() const {
  NABLA_CHECK(!line_search_fn || *line_search_fn == "strong_wolfe",
              "LBFGS: unknown line_search_fn '{}' (expected none or 'strong_wolfe')", *line_search_fn);
  NABLA_CHECK(max_iter >= 1, "LBFGS: invalid max_iter {} (expected >= 1)", max_iter);
  std::map<std::string, double> o = {
      {"lr", lr},
      {"max_iter", static_cast<double>(max_iter)},
      {"max_eval", static_cast<double>(max_eval ? *max_eval : max_iter * 5 / 4)},
      {"tolerance_grad", tolerance_grad},
      {"tolerance_change", tolerance_change},
      {"history_size", static_cast<double>(history_size)},
      {"line_search_fn", line_search_fn ? 1.0 : 0.0}};
  check_options(o);
  return o;
}

LBFGS::LBFGS(std::vector<Tensor> params, const LBFGSOptions& o)
    : LBFGS(std::vector<ParamGroup>{ParamGroup{std::move(params), {}}}, o) {}

LBFGS::LBFGS(std::vector<ParamGroup> groups, const LBFGSOptions& o)
    : Optimizer(kName, one_group_only(std::move(groups)), o.to_map()) {
  const ParamGroup& g = param_groups()[0];
  check_options(g.options);
  for (std::size_t i = 1; i < g.params.size(); ++i) {
    NABLA_CHECK(g.params[i].dtype() == g.params[0].dtype() && g.params[i].device() == g.params[0].device(),
                "LBFGS: all parameters must have one dtype and device (it works on them as one vector): "
                "parameter 0 is {} on {}, parameter {} is {} on {}",
                dtype_name(g.params[0].dtype()), g.params[0].device().str(), i,
                dtype_name(g.params[i].dtype()), g.params[i].device().str());
  }
}

void LBFGS::add_param_group(ParamGroup group) {
  NABLA_CHECK(param_groups().empty(),
              "LBFGS: doesn't support per-parameter options (parameter groups): it has a group already");
  Optimizer::add_param_group(std::move(group));
}

void LBFGS::step() {
  NABLA_CHECK(false,
              "LBFGS: step() needs a closure that re-evaluates the model (zeroes the gradients, computes the "
              "loss, calls backward and returns the loss): call step(closure)");
}

int64_t LBFGS::numel() const {
  int64_t n = 0;
  for (const Tensor& p : param_groups()[0].params) n += p.numel();
  return n;
}

Tensor LBFGS::gather_flat_grad() const {
  std::vector<Tensor> views;
  for (const Tensor& p : param_groups()[0].params) {
    const Tensor g = p.grad();
    if (g.defined()) {
      NABLA_CHECK(g.sizes() == p.sizes(), "LBFGS: gradient shape {} differs from parameter shape {}",
                  g.shape_str(), p.shape_str());
      views.push_back(g.reshape({-1}));
    } else {
      views.push_back(zeros({p.numel()}, p.options()));
    }
  }
  // a copy, never a view of a gradient, which the next closure call may zero in place
  return views.size() == 1 ? views[0].clone() : cat(views, 0);
}

void LBFGS::add_grad(double step_size, const Tensor& update) {
  int64_t offset = 0;
  for (const Tensor& p : param_groups()[0].params) {
    const int64_t n = p.numel();
    Tensor(p).add_(update.narrow(0, offset, n).view(p.sizes()), step_size);
    offset += n;
  }
}

Tensor LBFGS::step(std::function<Tensor()> closure) {
  NABLA_CHECK(static_cast<bool>(closure), "LBFGS: step(closure) got an empty closure");
  NABLA_INTERNAL_ASSERT(param_groups().size() == 1, "LBFGS: {} parameter groups", param_groups().size());
  NoGradGuard no_grad;
  const ParamGroup& group = param_groups()[0];
  const std::vector<Tensor>& params = group.params;
  const double lr = option(group, "lr");
  const int64_t max_iter = as_count(option(group, "max_iter"));
  const int64_t max_eval = as_count(option(group, "max_eval"));
  const double tolerance_grad = option(group, "tolerance_grad");
  const double tolerance_change = option(group, "tolerance_change");
  const std::size_t history_size = static_cast<std::size_t>(as_count(option(group, "history_size")));
  const bool strong_wolfe_search = option(group, "line_search_fn") != 0;

  auto evaluate = [&]() -> std::pair<Tensor, double> {
    Tensor loss = call_closure(closure, kName);
    NABLA_CHECK(loss.defined(), "LBFGS: the closure returned no loss (it must return the loss tensor)");
    NABLA_CHECK(loss.numel() == 1,
                "LBFGS: the closure must return the loss as a one-element tensor, got shape {}",
                loss.shape_str());
    return {loss, loss.item<double>()};
  };

  History& st = state_;
  st.started = true;
  auto [orig_loss, loss] = evaluate();
  int64_t current_evals = 1;
  st.func_evals += 1;
  Tensor flat_grad = gather_flat_grad();
  bool opt_cond = abs_max(flat_grad) <= tolerance_grad;
  if (opt_cond) return orig_loss;  // already optimal: the state stays as it was

  // worked on in copies, stored back at the end (as PyTorch keeps them in locals)
  Tensor d = st.d, prev_flat_grad = st.prev_flat_grad;
  double t = st.t, H_diag = st.H_diag, prev_loss = st.prev_loss;
  std::vector<Tensor> old_dirs = st.old_dirs, old_stps = st.old_stps;
  std::vector<double> ro = st.ro;

  int64_t n_iter = 0;
  while (n_iter < max_iter) {
    ++n_iter;
    ++st.n_iter;

    // ---- the descent direction: steepest descent first, then the L-BFGS two-loop recursion
    if (st.n_iter == 1) {
      d = flat_grad.neg();
      old_dirs.clear(), old_stps.clear(), ro.clear();
      H_diag = 1;
    } else {
      const Tensor y = flat_grad.sub(prev_flat_grad);
      const Tensor s = d.mul(t);
      const double ys = dot(y, s);
      if (ys > 1e-10) {  // only pairs that keep the inverse Hessian positive definite
        while (old_dirs.size() >= history_size) {
          old_dirs.erase(old_dirs.begin()), old_stps.erase(old_stps.begin()), ro.erase(ro.begin());
        }
        old_dirs.push_back(y), old_stps.push_back(s), ro.push_back(1. / ys);
        H_diag = ys / dot(y, y);  // the scale of the initial inverse Hessian
      }
      const std::size_t num_old = old_dirs.size();
      std::vector<double> al(num_old);
      Tensor q = flat_grad.neg();
      for (std::size_t i = num_old; i-- > 0;) {
        al[i] = dot(old_stps[i], q) * ro[i];
        q.add_(old_dirs[i], -al[i]);
      }
      d = q.mul(H_diag);
      for (std::size_t i = 0; i < num_old; ++i) {
        const double be_i = dot(old_dirs[i], d) * ro[i];
        d.add_(old_stps[i], al[i] - be_i);
      }
    }
    prev_flat_grad = flat_grad.clone();
    prev_loss = loss;

    // ---- the step length
    t = st.n_iter == 1 ? py_min(1., 1. / abs(flat_grad).sum().item<double>()) * lr : lr;
    const double gtd = dot(flat_grad, d);
    if (gtd > -tolerance_change) break;  // not a descent direction (to the tolerance)

    int64_t ls_func_evals = 0;
    if (strong_wolfe_search) {
      std::vector<Tensor> x_init;
      for (const Tensor& p : params) x_init.push_back(p.clone());
      auto obj = [&](double step) {
        add_grad(step, d);
        const double f = evaluate().second;
        Evaluation e{f, gather_flat_grad()};
        for (std::size_t i = 0; i < params.size(); ++i) Tensor(params[i]).copy_(x_init[i]);
        return e;
      };
      LineSearchResult r = strong_wolfe(obj, t, d, loss, flat_grad, gtd);
      loss = r.f, flat_grad = r.g, t = r.t, ls_func_evals = r.evals;
      add_grad(t, d);
      opt_cond = abs_max(flat_grad) <= tolerance_grad;
    } else {
      add_grad(t, d);
      // the last iteration does not evaluate again: in a stochastic setting the value would not
      // be used
      if (n_iter != max_iter) {
        loss = evaluate().second;
        flat_grad = gather_flat_grad();
        opt_cond = abs_max(flat_grad) <= tolerance_grad;
        ls_func_evals = 1;
      }
    }
    current_evals += ls_func_evals;
    st.func_evals += ls_func_evals;

    // ---- stopping conditions
    if (n_iter == max_iter) break;
    if (current_evals >= max_eval) break;
    if (opt_cond) break;
    if (abs_max(d.mul(t)) <= tolerance_change) break;          // no progress in the parameters
    if (std::abs(loss - prev_loss) < tolerance_change) break;  // nor in the loss
  }

  st.d = d, st.t = t, st.old_dirs = std::move(old_dirs), st.old_stps = std::move(old_stps),
  st.ro = std::move(ro);
  st.H_diag = H_diag, st.prev_flat_grad = prev_flat_grad, st.prev_loss = prev_loss;
  return orig_loss;
}

// ---- state dict ------------------------------------------------------------------------------
// state.0.func_evals, state.0.n_iter: int64 scalars, once step(closure) was called;
// state.0.d, state.0.prev_flat_grad: [n]; state.0.old_dirs, state.0.old_stps: [k, n] (oldest
// first); state.0.ro: [k] float64; state.0.t, state.0.H_diag, state.0.prev_loss: float64
// scalars, all once an iteration ran. n is the number of parameter elements, k <= history_size.
namespace {
const char* const kHistoryKeys[] = {"d",  "t",      "old_dirs",       "old_stps",
                                    "ro", "H_diag", "prev_flat_grad", "prev_loss"};
}

StateDict LBFGS::state_dict() const {
  StateDict sd = Optimizer::state_dict();
  const History& st = state_;
  if (!st.started) return sd;
  sd.insert("state.0.func_evals", scalar_tensor(st.func_evals, kInt64));
  sd.insert("state.0.n_iter", scalar_tensor(st.n_iter, kInt64));
  if (!st.d.defined()) return sd;
  const int64_t n = numel();
  auto rows = [&](const std::vector<Tensor>& v) {
    return v.empty() ? empty({0, n}, st.d.options()) : stack(v, 0);
  };
  sd.insert("state.0.d", st.d.detach().clone());
  sd.insert("state.0.t", scalar_tensor(st.t, kFloat64));
  sd.insert("state.0.old_dirs", rows(st.old_dirs));
  sd.insert("state.0.old_stps", rows(st.old_stps));
  sd.insert("state.0.ro",
            from_vector(st.ro, {static_cast<int64_t>(st.ro.size())}, TensorOptions().dtype(kFloat64)));
  sd.insert("state.0.H_diag", scalar_tensor(st.H_diag, kFloat64));
  sd.insert("state.0.prev_flat_grad", st.prev_flat_grad.detach().clone());
  sd.insert("state.0.prev_loss", scalar_tensor(st.prev_loss, kFloat64));
  return sd;
}

void LBFGS::load_state_dict(const StateDict& sd) {
  // validate the LBFGS state, then let the base check and restore the options, then apply
  StateDict base;
  std::map<std::string, Tensor> mine;
  for (const auto& [name, t] : sd) {
    if (name.rfind("state.", 0) == 0) {
      NABLA_CHECK(name.rfind("state.0.", 0) == 0,
                  "LBFGS: load_state_dict: unexpected entry '{}' (LBFGS keeps its state in state.0)", name);
      mine[name.substr(8)] = t;
    } else {
      base.insert(name, t);
    }
  }
  std::map<std::string, double> options;
  for (const auto& [k, v] : param_groups()[0].options) {
    const Tensor* t = base.find("param_groups.0." + k);
    NABLA_CHECK(t != nullptr, "LBFGS: load_state_dict: missing option 'param_groups.0.{}'", k);
    options[k] = t->item<double>();
  }
  check_options(options);
  const Tensor& p0 = param_groups()[0].params[0];
  const int64_t n = numel();
  History h;
  auto scalar = [&](const char* key) -> const Tensor& {
    auto it = mine.find(key);
    NABLA_CHECK(it != mine.end(), "LBFGS: load_state_dict: state.0.{} is missing", key);
    NABLA_CHECK(it->second.numel() == 1, "LBFGS: load_state_dict: state.0.{} has shape {}, expected a scalar",
                key, it->second.shape_str());
    return it->second;
  };
  auto shaped = [&](const char* key, const Shape& shape) {
    auto it = mine.find(key);
    NABLA_CHECK(it != mine.end(), "LBFGS: load_state_dict: state.0.{} is missing", key);
    NABLA_CHECK(it->second.sizes() == shape,
                "LBFGS: load_state_dict: state.0.{} has shape {} but {} was expected", key,
                it->second.shape_str(), shape_string(shape));
    return it->second.to(p0.options(), /*copy=*/true);
  };
  if (!mine.empty()) {
    h.started = true;
    h.func_evals = scalar("func_evals").item<int64_t>();
    h.n_iter = scalar("n_iter").item<int64_t>();
    std::size_t known = 2;
    if (mine.count("d")) {
      known += std::size(kHistoryKeys);
      NABLA_CHECK(mine.count("ro") && mine.at("ro").dim() == 1,
                  "LBFGS: load_state_dict: state.0.ro must be a vector (1 / (y . s) per history pair)");
      const std::vector<double> ro = mine.at("ro").to_vector<double>();
      const int64_t k = static_cast<int64_t>(ro.size());
      NABLA_CHECK(k <= as_count(options.at("history_size")),
                  "LBFGS: load_state_dict: {} history pairs, more than history_size {}", k,
                  as_count(options.at("history_size")));
      h.d = shaped("d", {n});
      h.prev_flat_grad = shaped("prev_flat_grad", {n});
      const Tensor dirs = shaped("old_dirs", {k, n}), stps = shaped("old_stps", {k, n});
      for (int64_t i = 0; i < k; ++i) {
        h.old_dirs.push_back(dirs.select(0, i).clone());
        h.old_stps.push_back(stps.select(0, i).clone());
      }
      h.ro = ro;
      h.t = scalar("t").item<double>();
      h.H_diag = scalar("H_diag").item<double>();
      h.prev_loss = scalar("prev_loss").item<double>();
    }
    for (const auto& [name, t] : mine) {
      bool ok = name == "func_evals" || name == "n_iter";
      for (const char* k : kHistoryKeys) ok = ok || (known > 2 && name == k);
      NABLA_CHECK(ok,
                  "LBFGS: load_state_dict: unexpected entry 'state.0.{}' (is this the state of another "
                  "optimizer?)",
                  name);
    }
  }
  Optimizer::load_state_dict(base);
  state_ = std::move(h);
}

}  // namespace nabla::optim

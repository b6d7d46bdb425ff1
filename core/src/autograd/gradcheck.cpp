// gradcheck: analytic gradients from the autograd graph against central differences; and
// gradgradcheck: the same for second derivatives, through create_graph.
//
// The scalar checked is sum(fn(inputs) * v) with v a fixed, non-uniform weighting, so a
// formula that mixes up elements of the output cannot pass by symmetry.
#include <cmath>

#include "nabla/autograd.h"
#include "nabla/factories.h"
#include "nabla/ops.h"

namespace nabla::autograd {
namespace {

Tensor projection(const Tensor& out) {
  std::vector<double> v(static_cast<std::size_t>(out.numel()));
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1.0 + 0.5 * std::sin(0.7 * static_cast<double>(i) + 0.3);
  return from_vector(v, out.sizes(), TensorOptions(kFloat64).device(out.device()));
}

double scalar_of(const std::function<Tensor(const std::vector<Tensor>&)>& fn, const std::vector<Tensor>& in,
                 const Tensor& v) {
  NoGradGuard g;
  const Tensor out = fn(in);
  return sum(out.to(kFloat64) * v).item<double>();
}

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Fresh float64 leaves for the harness `who`: a detached clone of each input (undefined ones
// stay undefined), requiring grad where the input does; `wrt` gets the indices of those.
std::vector<Tensor> fresh_leaves(const std::vector<Tensor>& inputs, const char* who,
                                 std::vector<std::size_t>& wrt) {
  std::vector<Tensor> leaves;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) {
      leaves.push_back(t);
      continue;
    }
    NABLA_CHECK(!t.requires_grad() || t.dtype() == kFloat64,
                "{}: input {} requires grad but is {}; use float64 inputs for finite differences", who, i,
                dtype_name(t.dtype()));
    Tensor leaf = t.detach().clone();
    if (t.requires_grad()) {
      leaf.requires_grad_(true);
      wrt.push_back(i);
    }
    leaves.push_back(leaf);
  }
  return leaves;
}

// A second fixed weighting, unlike projection()'s, one per differentiated input.
Tensor pattern(const Tensor& like, std::size_t k) {
  std::vector<double> u(static_cast<std::size_t>(like.numel()));
  for (std::size_t i = 0; i < u.size(); ++i)
    u[i] = 0.8 + 0.6 * std::cos(1.3 * static_cast<double>(i) + 0.9 * static_cast<double>(k) + 0.2);
  return from_vector(u, like.sizes(), TensorOptions(kFloat64).device(like.device()));
}

// S = sum_k <d sum(fn(x) v) / d x[wrt[k]], u[k]>: the first-order gradient contracted with u.
// Its derivative in x is the Hessian of sum(fn v) applied to u; in v it is the Jacobian of fn
// applied to u: gradgradcheck compares both with central differences of S.
Tensor contracted_gradient(const Fn& fn, const std::vector<Tensor>& x, const std::vector<std::size_t>& wrt,
                           const Tensor& v, const std::vector<Tensor>& u, bool create_graph) {
  const Tensor out = fn(x);
  NABLA_CHECK(out.defined() && out.is_floating_point(),
              "gradgradcheck: fn must return a floating-point tensor");
  const Tensor root = sum(out.to(kFloat64) * v);
  Tensor s = zeros({}, TensorOptions(kFloat64));
  if (!root.requires_grad()) return s;
  std::vector<Tensor> in;
  for (std::size_t i : wrt) in.push_back(x[i]);
  const std::vector<Tensor> g = grad({root}, in, {}, create_graph, create_graph, /*allow_unused=*/true);
  for (std::size_t k = 0; k < g.size(); ++k) {
    if (g[k].defined()) s = s + sum(g[k].to(kFloat64) * u[k]);
  }
  return s;
}

// Compares analytic and numeric into res; `what` names the checked variable.
void compare(GradcheckResult& res, const GradcheckOptions& opt, double a, double numeric,
             const std::string& what, int64_t j) {
  if (std::isnan(a) && std::isnan(numeric)) return;
  const double err = std::fabs(a - numeric);
  res.max_abs_error = std::max(res.max_abs_error, std::isnan(err) ? INFINITY : err);
  if (!(err <= opt.atol + opt.rtol * std::fabs(numeric)) && res.ok) {
    res.ok = false;
    res.message = fmt::format("second derivative, {} element {}: analytic {} vs numeric {} (|diff| {})", what,
                              j, a, numeric, err);
  }
}

}  // namespace

GradcheckResult gradgradcheck(const Fn& fn, const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  std::vector<std::size_t> wrt;
  std::vector<Tensor> leaves = fresh_leaves(inputs, "gradgradcheck", wrt);
  NABLA_CHECK(!wrt.empty(), "gradgradcheck: no input requires grad");
  Tensor v;
  {
    NoGradGuard g;
    v = projection(fn(leaves));
  }
  std::vector<Tensor> u;
  for (std::size_t k = 0; k < wrt.size(); ++k) u.push_back(pattern(leaves[wrt[k]], k));

  // analytic: differentiate S (built with create_graph) in the inputs and in v
  const Tensor v_leaf = v.clone().requires_grad_(true);
  const Tensor s = contracted_gradient(fn, leaves, wrt, v_leaf, u, /*create_graph=*/true);
  std::vector<Tensor> vars;
  for (std::size_t i : wrt) vars.push_back(leaves[i]);
  vars.push_back(v_leaf);
  std::vector<Tensor> analytic(vars.size());
  if (s.requires_grad()) analytic = grad({s}, vars, {}, false, false, /*allow_unused=*/true);

  // numeric: central differences of S, each point from a fresh first-order backward
  const auto s_at = [&](std::size_t var, int64_t j, double delta) {
    std::vector<Tensor> probe = leaves;
    for (Tensor& p : probe) {
      if (p.defined()) p = p.detach().clone().requires_grad_(p.requires_grad());
    }
    Tensor vv = v.clone();
    Tensor& x = var < wrt.size() ? probe[wrt[var]] : vv;
    x.data_ptr<double>()[j] += delta;
    return contracted_gradient(fn, probe, wrt, vv, u, /*create_graph=*/false).item<double>();
  };
  for (std::size_t var = 0; var < vars.size(); ++var) {
    const std::vector<double> a = analytic[var].defined()
                                      ? analytic[var].to_vector<double>()
                                      : std::vector<double>(static_cast<std::size_t>(vars[var].numel()), 0.0);
    const std::string what = var < wrt.size() ? fmt::format("input {}", wrt[var])
                                              : std::string("grad_output (the projection of fn)");
    for (int64_t j = 0; j < vars[var].numel(); ++j) {
      const double numeric = (s_at(var, j, opt.eps) - s_at(var, j, -opt.eps)) / (2.0 * opt.eps);
      compare(res, opt, a[static_cast<std::size_t>(j)], numeric, what, j);
    }
  }
  return res;
}

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  std::vector<std::size_t> wrt;
  const std::vector<Tensor> leaves = fresh_leaves(inputs, "gradcheck", wrt);
  const Tensor out = fn(leaves);
  NABLA_CHECK(out.defined() && out.is_floating_point(), "gradcheck: fn must return a floating-point tensor");
  const Tensor v = projection(out);
  if (out.requires_grad()) sum(out.to(kFloat64) * v).backward();

  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (!leaves[i].defined() || !leaves[i].requires_grad()) continue;
    const Tensor analytic_t = leaves[i].grad();
    const std::vector<double> analytic =
        analytic_t.defined() ? analytic_t.to_vector<double>()
                             : std::vector<double>(static_cast<std::size_t>(leaves[i].numel()), 0.0);
    std::vector<Tensor> probe = leaves;
    for (Tensor& p : probe) {
      if (p.defined()) p = p.detach();
    }
    Tensor x = leaves[i].detach().clone();
    probe[i] = x;
    double* xp = x.data_ptr<double>();
    for (int64_t j = 0; j < x.numel(); ++j) {
      const double orig = xp[j];
      xp[j] = orig + opt.eps;
      const double fp = scalar_of(fn, probe, v);
      xp[j] = orig - opt.eps;
      const double fm = scalar_of(fn, probe, v);
      xp[j] = orig;
      const double numeric = (fp - fm) / (2.0 * opt.eps);
      const double a = analytic[static_cast<std::size_t>(j)];
      if (std::isnan(a) && std::isnan(numeric)) continue;  // both agree the derivative is undefined
      const double err = std::fabs(a - numeric);
      res.max_abs_error = std::max(res.max_abs_error, std::isnan(err) ? INFINITY : err);
      if (!(err <= opt.atol + opt.rtol * std::fabs(numeric)) && res.ok) {
        res.ok = false;
        res.message =
            fmt::format("input {} element {}: analytic {} vs numeric {} (|diff| {})", i, j, a, numeric, err);
      }
    }
  }
  return res;
}

}  // namespace nabla::autograd

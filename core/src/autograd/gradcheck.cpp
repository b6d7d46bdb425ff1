// gradcheck: analytic gradients from the autograd graph against central differences.
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

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, const GradcheckOptions& opt) {
  GradcheckResult res;
  std::vector<Tensor> leaves;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined()) {
      leaves.push_back(t);
      continue;
    }
    NABLA_CHECK(!t.requires_grad() || t.dtype() == kFloat64,
                "gradcheck: input {} requires grad but is {}; use float64 inputs for finite differences", i,
                dtype_name(t.dtype()));
    Tensor leaf = t.detach().clone();
    if (t.requires_grad()) leaf.requires_grad_(true);
    leaves.push_back(leaf);
  }
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

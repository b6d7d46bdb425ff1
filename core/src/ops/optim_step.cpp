// Front end of the fused optimizer steps: checks that every parameter, gradient and state
// tensor agree in shape, dtype, device and layout, then makes one kernel call per device.
#include "ops/optim_step.h"

#include <map>

#include "dispatch/dispatch.h"
#include "nabla/autograd.h"

namespace nabla {

void fused_optimizer_step(Op op, const std::vector<Tensor>& params, const std::vector<Tensor>& grads,
                          const std::vector<std::vector<Tensor>>& states, const OpParams& hyper) {
  const std::string_view name = op_name(op);
  NABLA_INTERNAL_ASSERT(grads.size() == params.size(), "{}: {} gradients for {} parameters", name,
                        grads.size(), params.size());
  // one call per (device, dtype): a kernel sees tensors of one kind only
  std::map<std::pair<int, int>, std::vector<std::size_t>> buckets;
  for (std::size_t i = 0; i < params.size(); ++i) {
    const Tensor& p = params[i];
    const Tensor& g = grads[i];
    NABLA_CHECK(p.is_contiguous(), "{}: parameter {} (shape {}) is not contiguous", name, i, p.shape_str());
    NABLA_CHECK(
        g.sizes() == p.sizes() && g.dtype() == p.dtype() && g.device() == p.device() && g.is_contiguous(),
        "{}: gradient {} ({} {} on {}) does not match its parameter ({} {} on {})", name, i, g.shape_str(),
        dtype_name(g.dtype()), g.device().str(), p.shape_str(), dtype_name(p.dtype()), p.device().str());
    for (const auto& s : states) {
      const Tensor& t = s[i];
      NABLA_CHECK(!t.defined() || (t.sizes() == p.sizes() && t.dtype() == p.dtype() &&
                                   t.device() == p.device() && t.is_contiguous()),
                  "{}: optimizer state of parameter {} does not match it (state {} {}, parameter {} {})",
                  name, i, t.shape_str(), dtype_name(t.dtype()), p.shape_str(), dtype_name(p.dtype()));
    }
    buckets[{static_cast<int>(p.device().type) * 1000 + p.device().index, static_cast<int>(p.dtype())}]
        .push_back(i);
  }
  NoGradGuard g;
  for (const auto& [key, idx] : buckets) {
    std::vector<Tensor> out, in;
    for (std::size_t i : idx) out.push_back(params[i]);
    for (const auto& s : states) {
      for (std::size_t i : idx) out.push_back(s[i]);
    }
    for (std::size_t i : idx) in.push_back(grads[i]);
    run_op(op, in, out, hyper);
  }
}

}  // namespace nabla

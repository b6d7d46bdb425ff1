// Reference CPU kernels of the fused optimizer steps: every parameter of a group in one call,
// each updated elementwise by the shared rule of core/math/optim.h. Parameters, gradients and
// state are contiguous tensors of one floating dtype (the front end checks).
#include "core/math/optim.h"

#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_optim.h"

namespace nabla::cpu {
namespace {

// Applies `rule` to every element of the k parameters of the call (k gradients in c.in), in
// the compute type; rule.states() state tensors per parameter follow the parameters in c.out
// (state j of parameter i is c.out[(1 + j) * k + i]).
template <class Rule>
void apply_rule(const KernelCall& c, const Rule& rule) {
  const int64_t k = static_cast<int64_t>(c.in.size());
  const int nstate = rule.states();
  for (int64_t i = 0; i < k; ++i) {
    const Tensor& param = c.out[i];
    visit_float(param.dtype(), op_name(c.op).data(), [&]<class T>() {
      using C = compute_t<T>;
      T* p = param.data_ptr<T>();
      const T* g = c.in[i].data_ptr<T>();
      T* s[math::kMaxOptimStates] = {};
      for (int j = 0; j < nstate; ++j) {
        const Tensor& st = c.out[(1 + j) * k + i];
        s[j] = st.defined() ? st.data_ptr<T>() : nullptr;
      }
      parallel_for(param.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t x = b; x < e; ++x) {
          C pv = cvt<C>(p[x]);
          C sv[math::kMaxOptimStates] = {};
          for (int j = 0; j < nstate; ++j) {
            if (s[j] != nullptr) sv[j] = cvt<C>(s[j][x]);
          }
          rule(pv, cvt<C>(g[x]), sv);
          p[x] = cvt<T>(pv);
          for (int j = 0; j < nstate; ++j) {
            if (s[j] != nullptr) s[j][x] = cvt<T>(sv[j]);
          }
        }
      });
    });
  }
}

void step(const KernelCall& c) {
  visit_optim_rule(c.op, c.p, [&](const auto& rule) { apply_rule(c, rule); });
}

}  // namespace

NABLA_DEFINE_OPTIM_KERNELS()

}  // namespace nabla::cpu

// Reference CPU kernels of the fused optimizer steps: every parameter of a group in one call,
// each updated elementwise by the shared rule of core/math/optim.h. Parameters, gradients and
// state are contiguous tensors of one floating dtype (the front end checks).
#include "core/math/optim.h"

#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"
#include "ops/params_optim.h"

namespace nabla::cpu {
namespace {

// The loop of apply_rule where every state is present and the element type is the compute type
// (float, double): the state count (at most kMaxOptimStates = 3) is a constant and the pointers are restrict,
// so the rule's branches on its settings are hoisted and the loop vectorises (it was half of the MLP training
// step as a scalar loop).
template <int N, class T, class Rule>
[[gnu::flatten]] void dense_piece(const Rule& rule, T* __restrict p, const T* __restrict g, T* __restrict s0,
                                  T* __restrict s1, T* __restrict s2, int64_t b, int64_t e) {
  const Rule r = rule;  // a local copy: its settings stay in registers (the stores cannot alias it)
  for (int64_t x = b; x < e; ++x) {
    T sv[math::kMaxOptimStates] = {};
    if constexpr (N > 0) sv[0] = s0[x];
    if constexpr (N > 1) sv[1] = s1[x];
    if constexpr (N > 2) sv[2] = s2[x];
    r(p[x], g[x], sv);
    if constexpr (N > 0) s0[x] = sv[0];
    if constexpr (N > 1) s1[x] = sv[1];
    if constexpr (N > 2) s2[x] = sv[2];
  }
}

template <int N, class T, class Rule>
void dense_rule(const Rule& rule, T* p, const T* g, T* const* s, int64_t n) {
  parallel_for(n, kGrain, [&](int64_t b, int64_t e) {
    dense_piece<N>(rule, p, g, N > 0 ? s[0] : nullptr, N > 1 ? s[1] : nullptr, N > 2 ? s[2] : nullptr, b, e);
  });
}

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
      if constexpr (std::is_same_v<T, C>) {
        static_assert(math::kMaxOptimStates == 3, "dense_rule takes up to three states");
        bool dense = true;
        for (int j = 0; j < nstate; ++j) dense = dense && s[j] != nullptr;
        if (dense) {
          if (nstate == 0) dense_rule<0>(rule, p, g, s, param.numel());
          if (nstate == 1) dense_rule<1>(rule, p, g, s, param.numel());
          if (nstate == 2) dense_rule<2>(rule, p, g, s, param.numel());
          if (nstate == 3) dense_rule<3>(rule, p, g, s, param.numel());
          return;
        }
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

// Reference CPU kernels of the fused optimizer steps: every parameter of a group in one call,
// each updated elementwise by the shared rule of core/math/optim.h. Parameters, gradients and
// state are contiguous tensors of one floating dtype (the front end checks).
#include "core/math/optim.h"
#include "cpu_fallback/loops.h"
#include "dispatch/dispatch.h"

namespace nabla::cpu {
namespace {

// Calls update(T& p, T g, T* s0, T* s1, T* s2) per element, in the compute type, for the
// k parameters of the call; `nstate` state tensors per parameter follow the parameters in
// c.out (state j of parameter i is c.out[(1 + j) * k + i]).
template <class Update>
void for_each_element(const KernelCall& c, int nstate, const Update& update) {
  const int64_t k = c.p.i0;
  for (int64_t i = 0; i < k; ++i) {
    const Tensor& param = c.out[i];
    visit_float(param.dtype(), op_name(c.op).data(), [&]<class T>() {
      using C = compute_t<T>;
      T* p = param.data_ptr<T>();
      const T* g = c.in[i].data_ptr<T>();
      T* s[3] = {nullptr, nullptr, nullptr};
      for (int j = 0; j < nstate; ++j) {
        const Tensor& st = c.out[(1 + j) * k + i];
        s[j] = st.defined() ? st.data_ptr<T>() : nullptr;
      }
      parallel_for(param.numel(), kGrain, [&](int64_t b, int64_t e) {
        for (int64_t x = b; x < e; ++x) {
          C pv = cvt<C>(p[x]);
          C sv[3] = {C(0), C(0), C(0)};
          for (int j = 0; j < nstate; ++j) {
            if (s[j] != nullptr) sv[j] = cvt<C>(s[j][x]);
          }
          update(pv, cvt<C>(g[x]), sv);
          p[x] = cvt<T>(pv);
          for (int j = 0; j < nstate; ++j) {
            if (s[j] != nullptr) s[j][x] = cvt<T>(sv[j]);
          }
        }
      });
    });
  }
}

}  // namespace

void sgd_step_kernel(const KernelCall& c) {
  const auto& a = c.p.args;
  const math::SgdUpdate u{a[0], a[1], a[2], a[3], a[4] != 0, a[5] != 0, a[6] != 0};
  for_each_element(c, u.momentum != 0 ? 1 : 0, [&](auto& p, auto g, auto* s) { u(p, g, &s[0]); });
}

void adam_step_kernel(const KernelCall& c) {
  const auto& a = c.p.args;
  const math::AdamUpdate u = math::AdamUpdate{a[0], a[1], a[2], a[3], a[4], a[5], a[6] != 0, a[7] != 0, a[8] != 0}.prepare();
  for_each_element(c, u.amsgrad ? 3 : 2, [&](auto& p, auto g, auto* s) { u(p, g, s[0], s[1], &s[2]); });
}

void rmsprop_step_kernel(const KernelCall& c) {
  const auto& a = c.p.args;
  const math::RmspropUpdate u{a[0], a[1], a[2], a[3], a[4], a[5] != 0, a[6] != 0};
  // state order: square_avg, momentum_buffer (or empty), grad_avg (or empty)
  for_each_element(c, 3, [&](auto& p, auto g, auto* s) { u(p, g, s[0], &s[1], &s[2]); });
}

void adagrad_step_kernel(const KernelCall& c) {
  const auto& a = c.p.args;
  const math::AdagradUpdate u{a[0], a[1], a[2], a[3], a[4], a[5] != 0};
  for_each_element(c, 1, [&](auto& p, auto g, auto* s) { u(p, g, s[0]); });
}

}  // namespace nabla::cpu
